"""The national register: the port the procedures use, and a simulated adapter over fictional people.

The simulated adapter reads ``data/national_register.json`` (beside this module), validates every record into a
``Person`` when it loads and indexes them by national register number. A real adapter only has to satisfy
``NationalRegister``; ``get_national_register`` is the one place that chooses which adapter runs.
"""

import functools
import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from importlib import resources
from typing import Annotated, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omnicity.domain.nrn import InvalidNrnError, Nrn, normalize_nrn

__all__ = ["Address", "NationalRegister", "Person", "SimulatedNationalRegister", "get_national_register"]

DATA_FILE = "national_register.json"

Gender = Literal["F", "M", "X"]
Language = Literal["fr", "nl", "en"]


class Address(BaseModel):
    """A residence as the register records it; ``settled_on`` is the day the person settled there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    street: Annotated[str, Field(min_length=1, description="Street name, in the language the register holds it")]
    number: Annotated[str, Field(min_length=1, examples=["47", "12A"])]
    box: Annotated[str | None, Field(description="Box (boîte / bus), if any")] = None
    postal_code: Annotated[str, Field(pattern=r"^\d{4}$", examples=["1000"])]
    municipality_fr: Annotated[str, Field(min_length=1, examples=["Bruxelles"])]
    municipality_nl: Annotated[str, Field(min_length=1, examples=["Brussel"])]
    settled_on: date


class Person(BaseModel):
    """A person as the national register knows them: identity, contact preference and residence history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nrn: Nrn
    first_name: Annotated[str, Field(min_length=1)]
    last_name: Annotated[str, Field(min_length=1)]
    birth_date: date
    gender: Gender
    nationality: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["BE"])]
    preferred_language: Language
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Contact address")]
    address: Address
    previous_addresses: Annotated[
        list[Address],
        Field(default_factory=list, description="Earlier residences, oldest first, each settled before the next"),
    ]
    household_id: Annotated[str, Field(min_length=1, description="Shared by the people of one household")]
    alive: bool = True

    @model_validator(mode="after")
    def _residence_history_is_chronological(self) -> Self:
        history = [*self.previous_addresses, self.address]
        if history[0].settled_on < self.birth_date:
            raise ValueError("the first residence is settled before the birth date")
        if any(later.settled_on <= earlier.settled_on for earlier, later in itertools.pairwise(history)):
            raise ValueError("previous_addresses must be oldest first and settled before the current address")
        return self


class NationalRegister(Protocol):
    """The port: what the procedures may ask the national register."""

    def find(self, nrn: str) -> Person | None:
        """The person with this NRN (separators allowed), or None when unknown or not a valid NRN."""
        ...

    def people(self) -> Sequence[Person]:
        """Everyone the register holds."""
        ...


class _DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notice: str
    people: list[Person]


class SimulatedNationalRegister:
    """An in-memory national register over fictional people (the bundled data file unless ``people`` is given)."""

    def __init__(self, people: Iterable[Person] | None = None) -> None:
        self._people = tuple(_load_bundled_people() if people is None else people)
        self._by_nrn: dict[str, Person] = {}
        for person in self._people:
            if person.nrn in self._by_nrn:
                raise ValueError("two people in the national register share one national register number")
            self._by_nrn[person.nrn] = person

    def find(self, nrn: str) -> Person | None:
        try:
            return self._by_nrn.get(normalize_nrn(nrn))
        except InvalidNrnError:
            return None

    def people(self) -> Sequence[Person]:
        return self._people


def _load_bundled_people() -> list[Person]:
    text = (
        resources.files("omnicity.adapters.registries").joinpath("data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    )
    return _DataFile.model_validate_json(text).people


@functools.cache
def get_national_register() -> NationalRegister:
    """The national register adapter for this process (built once: the data is read and validated at cold start)."""
    return SimulatedNationalRegister()
