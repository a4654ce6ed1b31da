"""The city the platform serves (``catalogue/city.yaml``) and the citizen-facing messages (``messages.yaml``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from omnicity.models import LocalizedText

_DATA = Path(__file__).parent / "catalogue"


class Section(BaseModel):
    model_config = ConfigDict(frozen=True)

    fr: str
    nl: str
    postal_codes: list[str]


class City(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: LocalizedText
    reference_prefix: str
    timezone: str
    sections: list[Section]

    def contains(self, postal_code: str, municipality_fr: str) -> bool:
        """Whether an address (postal code + section name as the register writes it) lies in the city."""
        return any(postal_code in s.postal_codes and municipality_fr == s.fr for s in self.sections)


class EmailTemplate(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: LocalizedText
    body: LocalizedText


class Messages(BaseModel):
    model_config = ConfigDict(frozen=True)

    reasons: dict[str, LocalizedText]
    emails: dict[str, EmailTemplate]

    def reason(self, code: str) -> LocalizedText:
        return self.reasons[code]


def _load(name: str) -> Any:
    import yaml

    return yaml.safe_load((_DATA / name).read_text(encoding="utf-8"))


@cache
def get_city() -> City:
    return City.model_validate(_load("city.yaml"))


@cache
def get_messages() -> Messages:
    return Messages.model_validate(_load("messages.yaml"))
