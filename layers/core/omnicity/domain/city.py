"""The city the platform serves (``catalogue/city.yaml``) and the citizen-facing messages (``messages.yaml``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omnicity.domain.models import LocalizedText

_DATA = Path(__file__).resolve().parent.parent / "catalogue"  # city.yaml and messages.yaml, beside the procedures


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    fr: str
    nl: str
    postal_codes: list[str]


class Bounds(BaseModel):
    """The box (WGS84 degrees) the city's territory fits in: a location outside it is not in the city."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    south: Annotated[float, Field(ge=-90, le=90)]
    west: Annotated[float, Field(ge=-180, le=180)]
    north: Annotated[float, Field(ge=-90, le=90)]
    east: Annotated[float, Field(ge=-180, le=180)]

    @model_validator(mode="after")
    def _not_empty(self) -> Bounds:
        if self.south >= self.north or self.west >= self.east:
            raise ValueError("bounds: south must be below north and west left of east")
        return self


class City(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    name: LocalizedText
    reference_prefix: str
    timezone: str
    sections: list[Section]
    bounds: Bounds
    extra_holidays: list[Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")]] = []

    def contains(self, postal_code: str, municipality_fr: str) -> bool:
        """Whether an address (postal code + section name as the register writes it) lies in the city."""
        return any(postal_code in s.postal_codes and municipality_fr == s.fr for s in self.sections)


class EmailTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    subject: LocalizedText
    body: LocalizedText


class Messages(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    reasons: dict[str, LocalizedText]
    outcomes: dict[str, LocalizedText] = {}
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
