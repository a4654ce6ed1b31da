"""The civil status register: acts of birth, marriage and death; the port the procedures use and a simulated adapter.

Belgium keeps every civil status act drawn up since 2019 (and the older ones as they are digitised) in one national
database, so the register holds acts drawn up in any municipality, not only the city's. An act has a number
(``<year drawn up>/<B|M|D>/<five digits>``), the date and place of the event, the date it was drawn up and the
persons it names, each in a role. A person is linked to the national register by their NRN when the act knows it
(old acts about ancestors do not).

Family ties come from the acts themselves: a birth act makes its mother and father the child's parents, a marriage
act makes its two persons spouses. :func:`relationship` tells how an applicant stands to the persons an act is
about, which is what the right to an extract depends on (see :func:`may_obtain_extract`).

The simulated adapter reads ``data/civil_status_register.json`` (fictional acts about the people of
``national_register.json``, and a few about their fictional ancestors), validates every act when it loads and
indexes them. ``get_civil_status_register`` is the one place that chooses which adapter runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from enum import StrEnum
from importlib import resources
from typing import Annotated, Final, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omnicity.domain.models import LocalizedText
from omnicity.domain.nrn import InvalidNrnError, Nrn, normalize_nrn

__all__ = [
    "ACT_NUMBER_PATTERN",
    "PUBLIC_AFTER_YEARS",
    "Act",
    "ActPerson",
    "ActType",
    "CivilStatusRegister",
    "Relationship",
    "Role",
    "SimulatedCivilStatusRegister",
    "ascendants",
    "descendants",
    "get_civil_status_register",
    "is_public",
    "may_obtain_extract",
    "relationship",
]

DATA_FILE = "civil_status_register.json"
ACT_NUMBER_PATTERN: Final = r"^[0-9]{4}/[BMD]/[0-9]{5}$"
PUBLIC_AFTER_YEARS: Final = 100
"""An act drawn up more than this many years ago may be obtained by anyone."""


class ActType(StrEnum):
    BIRTH = "birth"
    MARRIAGE = "marriage"
    DEATH = "death"

    @property
    def letter(self) -> str:
        """The letter the act numbers of this type carry: ``B``, ``M`` or ``D``."""
        return {ActType.BIRTH: "B", ActType.MARRIAGE: "M", ActType.DEATH: "D"}[self]


class Role(StrEnum):
    CHILD = "child"
    MOTHER = "mother"
    FATHER = "father"
    SPOUSE = "spouse"
    DECEASED = "deceased"


_PARENTS: Final = frozenset({Role.MOTHER, Role.FATHER})
# What roles each type of act names, and how many persons in each role: (fewest, most).
_ROLES: Final[dict[ActType, dict[Role, tuple[int, int]]]] = {
    ActType.BIRTH: {Role.CHILD: (1, 1), Role.MOTHER: (0, 1), Role.FATHER: (0, 1)},
    ActType.MARRIAGE: {Role.SPOUSE: (2, 2)},
    ActType.DEATH: {Role.DECEASED: (1, 1)},
}
# Whom an act is about: the child, the two spouses, the deceased.
_SUBJECT: Final = {ActType.BIRTH: Role.CHILD, ActType.MARRIAGE: Role.SPOUSE, ActType.DEATH: Role.DECEASED}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActPerson(_Frozen):
    """A person as an act names them, in a role; linked to the national register when the act has their NRN."""

    role: Role
    first_name: Annotated[str, Field(min_length=1)]
    last_name: Annotated[str, Field(min_length=1)]
    nrn: Nrn | None = None
    birth_date: date | None = None
    birth_place: LocalizedText | None = None


class Act(_Frozen):
    """One civil status act."""

    number: Annotated[str, Field(pattern=ACT_NUMBER_PATTERN, examples=["2012/B/01847"])]
    type: ActType
    occurred_on: Annotated[date, Field(description="The day of the birth, the marriage or the death")]
    place: Annotated[LocalizedText, Field(description="Where it happened, as each language names the municipality")]
    drawn_up_on: Annotated[date, Field(description="The day the civil registrar drew up the act")]
    persons: Annotated[list[ActPerson], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        year, letter, _ = self.number.split("/")
        if int(year) != self.drawn_up_on.year:
            raise ValueError("an act's number starts with the year it was drawn up")
        if letter != self.type.letter:
            raise ValueError(f"a {self.type.value} act's number carries the letter {self.type.letter}")
        if self.drawn_up_on < self.occurred_on:
            raise ValueError("an act is drawn up on or after the day of the event")
        allowed = _ROLES[self.type]
        for person in self.persons:
            if person.role not in allowed:
                raise ValueError(f"a {self.type.value} act names no {person.role.value}")
        for role, (fewest, most) in allowed.items():
            count = sum(1 for person in self.persons if person.role is role)
            if not fewest <= count <= most:
                raise ValueError(f"a {self.type.value} act names {fewest} to {most} {role.value}, not {count}")
        if self.type is ActType.BIRTH and not any(person.role in _PARENTS for person in self.persons):
            raise ValueError("a birth act names at least one parent")
        return self

    @property
    def subjects(self) -> list[ActPerson]:
        """Whom the act is about: the child of a birth act, the spouses of a marriage, the deceased."""
        return [person for person in self.persons if person.role is _SUBJECT[self.type]]

    def named(self, role: Role) -> list[ActPerson]:
        return [person for person in self.persons if person.role is role]


class Relationship(StrEnum):
    """How a person stands to the persons an act is about."""

    CONCERNED = "concerned"
    SPOUSE = "spouse"
    ASCENDANT = "ascendant"
    DESCENDANT = "descendant"


class CivilStatusRegister(Protocol):
    """The port: what the procedures may ask the civil status register."""

    def act(self, number: str) -> Act | None:
        """The act with this number (surrounding spaces and letter case ignored), or None."""
        ...

    def acts(self) -> Sequence[Act]:
        """Every act the register holds."""
        ...

    def parents_of(self, nrn: str) -> frozenset[str]:
        """The NRNs of the mother and father that this person's birth act names (those it knows the NRN of)."""
        ...

    def children_of(self, nrn: str) -> frozenset[str]:
        """The NRNs of the children whose birth acts name this person as mother or father."""
        ...

    def spouses_of(self, nrn: str) -> frozenset[str]:
        """The NRNs of the persons a marriage act names with this person (divorces are not recorded here)."""
        ...


class _DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notice: str
    acts: list[Act]


def _key(nrn: str) -> str | None:
    try:
        return normalize_nrn(nrn)
    except InvalidNrnError:
        return None


class SimulatedCivilStatusRegister:
    """An in-memory civil status register over fictional acts (the bundled data file unless ``acts`` is given)."""

    def __init__(self, acts: Iterable[Act] | None = None) -> None:
        self._acts = tuple(_load_bundled_acts() if acts is None else acts)
        self._by_number: dict[str, Act] = {}
        self._parents: dict[str, set[str]] = {}
        self._children: dict[str, set[str]] = {}
        self._spouses: dict[str, set[str]] = {}
        for act in self._acts:
            if act.number in self._by_number:
                raise ValueError(f"two acts share the number {act.number}")
            self._by_number[act.number] = act
            self._index(act)

    def _index(self, act: Act) -> None:
        if act.type is ActType.BIRTH:
            child = act.subjects[0].nrn
            if child is None:
                return
            for parent in act.persons:
                if parent.role in _PARENTS and parent.nrn is not None:
                    self._parents.setdefault(child, set()).add(parent.nrn)
                    self._children.setdefault(parent.nrn, set()).add(child)
        elif act.type is ActType.MARRIAGE:
            first, second = (spouse.nrn for spouse in act.subjects)
            if first is not None and second is not None:
                self._spouses.setdefault(first, set()).add(second)
                self._spouses.setdefault(second, set()).add(first)

    def act(self, number: str) -> Act | None:
        return self._by_number.get(number.strip().upper())

    def acts(self) -> Sequence[Act]:
        return self._acts

    def parents_of(self, nrn: str) -> frozenset[str]:
        return self._related(self._parents, nrn)

    def children_of(self, nrn: str) -> frozenset[str]:
        return self._related(self._children, nrn)

    def spouses_of(self, nrn: str) -> frozenset[str]:
        return self._related(self._spouses, nrn)

    @staticmethod
    def _related(index: dict[str, set[str]], nrn: str) -> frozenset[str]:
        key = _key(nrn)
        return frozenset(index.get(key, ())) if key is not None else frozenset()


def _load_bundled_acts() -> list[Act]:
    text = (
        resources.files("omnicity.adapters.registries").joinpath("data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    )
    return _DataFile.model_validate_json(text).acts


@functools.cache
def get_civil_status_register() -> CivilStatusRegister:
    """The civil status register adapter for this process (read and validated once, at cold start)."""
    return SimulatedCivilStatusRegister()


# ------------------------------------------------------------------------------------------------ family ties
def _closure(step: Callable[[str], frozenset[str]], nrn: str) -> frozenset[str]:
    found: set[str] = set()
    frontier = {key} if (key := _key(nrn)) is not None else set()
    while frontier:
        following = {relative for person in frontier for relative in step(person)} - found
        found |= following
        frontier = following
    return frozenset(found)


def ascendants(register: CivilStatusRegister, nrn: str) -> frozenset[str]:
    """Parents, grandparents and so on, as far as the birth acts link them by NRN."""
    return _closure(register.parents_of, nrn)


def descendants(register: CivilStatusRegister, nrn: str) -> frozenset[str]:
    """Children, grandchildren and so on, as far as the birth acts link them by NRN."""
    return _closure(register.children_of, nrn)


def relationship(register: CivilStatusRegister, nrn: str, act: Act) -> Relationship | None:
    """How the person ``nrn`` stands to whom ``act`` is about: the closest tie to any of them, or None."""
    person = _key(nrn)
    if person is None:
        return None
    subjects = {subject.nrn for subject in act.subjects if subject.nrn is not None}
    # The parents a birth act names are the child's ascendants even when no other act links them.
    named_parents = (
        {named.nrn for named in act.persons if named.role in _PARENTS} if act.type is ActType.BIRTH else set()
    )
    ties = (
        (Relationship.CONCERNED, person in subjects),
        (Relationship.SPOUSE, bool(subjects & register.spouses_of(person))),
        (Relationship.ASCENDANT, person in named_parents or bool(subjects & descendants(register, person))),
        (Relationship.DESCENDANT, bool(subjects & ascendants(register, person))),
    )
    return next((tie for tie, holds in ties if holds), None)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def is_public(act: Act, on: date) -> bool:
    """Whether the act was drawn up more than :data:`PUBLIC_AFTER_YEARS` years before ``on``."""
    return act.drawn_up_on < _years_before(on, PUBLIC_AFTER_YEARS)


def may_obtain_extract(register: CivilStatusRegister, nrn: str, act: Act, on: date) -> bool:
    """The right to an extract: anyone for an act over 100 years old; otherwise the persons the act is about, their
    spouses, ascendants and descendants."""
    return is_public(act, on) or relationship(register, nrn, act) is not None
