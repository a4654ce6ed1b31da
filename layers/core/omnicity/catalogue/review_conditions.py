"""When a procedure needs a person's decision: the conditions a catalogue entry's ``review.when`` names."""

from __future__ import annotations

from collections.abc import Callable

from omnicity.adapters.registries import Registers
from omnicity.catalogue.eligibility import has_criminal_record_entries
from omnicity.domain.models import Case

Condition = Callable[[Case, Registers], bool]


def always(case: Case, registers: Registers) -> bool:
    return True


CONDITIONS: dict[str, Condition] = {
    "always": always,
    "criminal_record_has_entries": has_criminal_record_entries,
}


def needs_review(when: str, case: Case, registers: Registers) -> bool:
    condition = CONDITIONS.get(when)
    if condition is None:
        raise LookupError(f"unknown review condition {when!r}")
    return condition(case, registers)
