"""Ports and simulated adapters for the registers the procedures consult (fictional people only).

:class:`Registers` bundles the ports a workflow step may consult; a real adapter replaces a simulated one here.
Only ``national`` must be given: the other registers default to this process's adapters (the simulated ones, over
the same fictional people), so a test that brings its own national register still sees consistent other registers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from omnicity.adapters.registries.cards import Card, CardRegister, SimulatedCardRegister, get_card_register
from omnicity.adapters.registries.civil_status import (
    Act,
    CivilStatusRegister,
    SimulatedCivilStatusRegister,
    get_civil_status_register,
)
from omnicity.adapters.registries.criminal_record import (
    CriminalRecordEntry,
    CriminalRecordRegister,
    SimulatedCriminalRecordRegister,
    get_criminal_record_register,
)
from omnicity.adapters.registries.national import (
    Address,
    NationalRegister,
    Person,
    SimulatedNationalRegister,
    get_national_register,
)


@dataclass(frozen=True)
class Registers:
    national: NationalRegister
    civil_status: CivilStatusRegister = field(default_factory=get_civil_status_register)
    criminal_record: CriminalRecordRegister = field(default_factory=get_criminal_record_register)
    cards: CardRegister = field(default_factory=get_card_register)


@cache
def get_registers() -> Registers:
    return Registers(
        national=get_national_register(),
        civil_status=get_civil_status_register(),
        criminal_record=get_criminal_record_register(),
        cards=get_card_register(),
    )


__all__ = [
    "Act",
    "Address",
    "Card",
    "CardRegister",
    "CivilStatusRegister",
    "CriminalRecordEntry",
    "CriminalRecordRegister",
    "NationalRegister",
    "Person",
    "Registers",
    "SimulatedCardRegister",
    "SimulatedCivilStatusRegister",
    "SimulatedCriminalRecordRegister",
    "SimulatedNationalRegister",
    "get_card_register",
    "get_civil_status_register",
    "get_criminal_record_register",
    "get_national_register",
    "get_registers",
]
