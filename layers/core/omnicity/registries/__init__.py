"""Ports and simulated adapters for the registers the procedures consult (fictional people only).

:class:`Registers` bundles the ports a workflow step may consult; a real adapter replaces a simulated one here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from omnicity.registries.national import (
    Address,
    NationalRegister,
    Person,
    SimulatedNationalRegister,
    get_national_register,
)


@dataclass(frozen=True)
class Registers:
    national: NationalRegister


@cache
def get_registers() -> Registers:
    return Registers(national=get_national_register())


__all__ = [
    "Address",
    "NationalRegister",
    "Person",
    "Registers",
    "SimulatedNationalRegister",
    "get_national_register",
    "get_registers",
]
