"""The identity cards register: the cards issued to each person, the port the procedures use and a simulated adapter.

A card has a number written ``592-1234567-89``: ten digits and two check digits, the remainder of the first ten
modulo 97 (97 when it is 0). It is valid from one day until another, and its status is ``active``, ``expired`` or
``revoked`` (lost, stolen, or its holder deceased). A card is usable on a day only when it is active *and* that day
falls within its validity: a card whose validity has run out is not usable even before the register records it
as expired.

The simulated adapter reads ``data/cards.json`` (beside this module), validates every card when it loads and indexes
them by holder. ``get_card_register`` is the one place that chooses which adapter runs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from importlib import resources
from typing import Annotated, Final, Protocol, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from omnicity.domain.models import today_in_brussels
from omnicity.domain.nrn import InvalidNrnError, Nrn, normalize_nrn

__all__ = [
    "Card",
    "CardKind",
    "CardRegister",
    "CardStatus",
    "SimulatedCardRegister",
    "card_check_digits",
    "get_card_register",
]

DATA_FILE = "cards.json"
_CARD_NUMBER: Final = re.compile(r"^(\d{3})-(\d{7})-(\d{2})$")


class CardKind(StrEnum):
    EID = "eid"
    """The electronic identity card of a Belgian aged 12 or more."""
    KIDS_ID = "kids_id"
    """The electronic identity document of a Belgian child under 12."""
    E_CARD = "e_card"
    """The registration card of a citizen of another EU member state."""


class CardStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def card_check_digits(first_ten: str) -> str:
    """The two check digits of a card number from its first ten digits."""
    if len(first_ten) != 10 or not (first_ten.isascii() and first_ten.isdigit()):
        raise ValueError("a card number has ten digits before its check digits")
    return f"{int(first_ten) % 97 or 97:02d}"


def _valid_card_number(value: str) -> str:
    match = _CARD_NUMBER.match(value)
    if match is None:
        raise ValueError("a card number is written 123-1234567-12")
    first_ten, check = match.group(1) + match.group(2), match.group(3)
    if card_check_digits(first_ten) != check:
        raise ValueError("the card number's check digits do not match")
    return value


CardNumber = Annotated[str, AfterValidator(_valid_card_number), Field(examples=["592-1234567-32"])]


class Card(BaseModel):
    """One identity card."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: CardNumber
    holder: Nrn
    kind: CardKind
    valid_from: date
    valid_until: date
    status: CardStatus

    @model_validator(mode="after")
    def _valid_for_a_while(self) -> Self:
        if self.valid_until <= self.valid_from:
            raise ValueError("a card is valid until a day after the one it is valid from")
        return self

    def usable_on(self, day: date) -> bool:
        """Whether the card is active and ``day`` is within its validity."""
        return self.status is CardStatus.ACTIVE and self.valid_from <= day <= self.valid_until


class CardRegister(Protocol):
    """The port: what the procedures may ask the identity cards register."""

    def cards(self, nrn: str) -> Sequence[Card]:
        """Every card issued to this person, oldest first; empty for an unknown person or an invalid number."""
        ...

    def current_card(self, nrn: str) -> Card | None:
        """The most recently issued card of this person, whatever its status, or None when they never had one."""
        ...

    def active_card(self, nrn: str, on: date | None = None) -> Card | None:
        """The card this person can use on ``on`` (default: today in Brussels), or None when they have none."""
        ...


class _DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notice: str
    cards: list[Card]


class SimulatedCardRegister:
    """An in-memory cards register over fictional cards (the bundled data file unless ``cards`` is given)."""

    def __init__(self, cards: Iterable[Card] | None = None) -> None:
        self._by_holder: dict[str, list[Card]] = {}
        numbers: set[str] = set()
        for card in _load_bundled_cards() if cards is None else cards:
            if card.number in numbers:
                raise ValueError(f"two cards share the number {card.number}")
            numbers.add(card.number)
            self._by_holder.setdefault(card.holder, []).append(card)
        for held in self._by_holder.values():
            held.sort(key=lambda card: card.valid_from)

    def cards(self, nrn: str) -> Sequence[Card]:
        try:
            return tuple(self._by_holder.get(normalize_nrn(nrn), ()))
        except InvalidNrnError:
            return ()

    def current_card(self, nrn: str) -> Card | None:
        held = self.cards(nrn)
        return held[-1] if held else None

    def active_card(self, nrn: str, on: date | None = None) -> Card | None:
        day = on or today_in_brussels()
        return next((card for card in reversed(self.cards(nrn)) if card.usable_on(day)), None)


def _load_bundled_cards() -> list[Card]:
    text = (
        resources.files("omnicity.adapters.registries").joinpath("data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    )
    return _DataFile.model_validate_json(text).cards


@functools.cache
def get_card_register() -> CardRegister:
    """The cards register adapter for this process (read and validated once, at cold start)."""
    return SimulatedCardRegister()
