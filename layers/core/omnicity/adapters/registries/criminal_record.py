"""The criminal record register: the port the procedures use, and a simulated adapter over fictional entries.

An extract of the criminal record (*extrait de casier judiciaire* / *uittreksel uit het strafregister*) is issued by
the municipality of residence from the central criminal record. Most people have no entry. An entry is a decision:
its date, the court, the offence and the sentence, each worded in the city's languages (the extract is issued in
the case's language).

The extract exists in three models, after the article of the Code of Criminal Procedure that defines it
(:class:`ExtractModel`). The simulated register shows the same entries on each; a real adapter would filter them
per model, which is why :meth:`CriminalRecordRegister.entries` takes the model.

The simulated adapter reads ``data/criminal_record.json`` (beside this module), validates it when it loads and
indexes it by national register number. ``get_criminal_record_register`` chooses which adapter runs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from importlib import resources
from typing import Annotated, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omnicity.domain.models import LocalizedText
from omnicity.domain.nrn import Nrn, normalize_nrn

__all__ = [
    "CriminalRecord",
    "CriminalRecordEntry",
    "CriminalRecordRegister",
    "ExtractModel",
    "SimulatedCriminalRecordRegister",
    "get_criminal_record_register",
]

DATA_FILE = "criminal_record.json"


class ExtractModel(StrEnum):
    """The models of an extract, named after the article of the Code of Criminal Procedure that defines them."""

    GENERAL = "595"
    """Article 595: the general extract, for any purpose that is not one of the two below."""
    REGULATED_ACTIVITY = "596.1"
    """Article 596, first paragraph: to take up an activity whose access or exercise the law regulates."""
    MINORS = "596.2"
    """Article 596, second paragraph: an activity in education, psycho-medico-social guidance, youth aid, child
    protection, or the supervision of or leisure activities for minors."""

    @property
    def needs_purpose(self) -> bool:
        """Article 596 extracts name the activity they are asked for."""
        return self is not ExtractModel.GENERAL


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CriminalRecordEntry(_Frozen):
    """One decision recorded in the criminal record."""

    decided_on: date
    court: LocalizedText
    offence: LocalizedText
    sentence: LocalizedText


class CriminalRecord(_Frozen):
    """The entries recorded for one person, oldest first."""

    nrn: Nrn
    entries: Annotated[list[CriminalRecordEntry], Field(min_length=1)]

    @model_validator(mode="after")
    def _oldest_first(self) -> Self:
        days = [entry.decided_on for entry in self.entries]
        if days != sorted(days):
            raise ValueError("a person's entries are listed oldest first")
        return self


class CriminalRecordRegister(Protocol):
    """The port: what the procedures may ask the criminal record register."""

    def entries(self, nrn: str, model: ExtractModel = ExtractModel.GENERAL) -> Sequence[CriminalRecordEntry]:
        """The entries an extract of ``model`` shows for this person, oldest first; empty when there are none.

        Raises :class:`~omnicity.domain.nrn.InvalidNrnError` when ``nrn`` is not a valid national register number: a
        malformed number never reads as a clean record.
        """
        ...


class _DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notice: str
    records: list[CriminalRecord]


class SimulatedCriminalRecordRegister:
    """An in-memory criminal record over fictional entries (the bundled data file unless ``records`` is given)."""

    def __init__(self, records: Iterable[CriminalRecord] | None = None) -> None:
        self._by_nrn: dict[str, tuple[CriminalRecordEntry, ...]] = {}
        for record in _load_bundled_records() if records is None else records:
            if record.nrn in self._by_nrn:
                raise ValueError("two criminal records share one national register number")
            self._by_nrn[record.nrn] = tuple(record.entries)

    def entries(self, nrn: str, model: ExtractModel = ExtractModel.GENERAL) -> Sequence[CriminalRecordEntry]:
        return self._by_nrn.get(normalize_nrn(nrn), ())


def _load_bundled_records() -> list[CriminalRecord]:
    text = (
        resources.files("omnicity.adapters.registries").joinpath("data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    )
    return _DataFile.model_validate_json(text).records


@functools.cache
def get_criminal_record_register() -> CriminalRecordRegister:
    """The criminal record adapter for this process (read and validated once, at cold start)."""
    return SimulatedCriminalRecordRegister()
