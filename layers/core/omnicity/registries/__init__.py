"""Ports and simulated adapters for the registers the procedures consult (fictional people only)."""

from omnicity.registries.national import (
    Address,
    NationalRegister,
    Person,
    SimulatedNationalRegister,
    get_national_register,
)

__all__ = ["Address", "NationalRegister", "Person", "SimulatedNationalRegister", "get_national_register"]
