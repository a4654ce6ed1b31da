"""When a procedure needs a person's decision: the conditions a catalogue entry's ``review.when`` names."""

from __future__ import annotations

from collections.abc import Callable

from omnicity.models import Case
from omnicity.registries import Registers
from omnicity.registries.criminal_record import ExtractModel

Condition = Callable[[Case, Registers], bool]


def always(case: Case, registers: Registers) -> bool:
    return True


def criminal_record_has_entries(case: Case, registers: Registers) -> bool:
    """The extract asked for would show entries: an agent reviews it before it is issued."""
    model = ExtractModel(str(case.form.get("model", ExtractModel.GENERAL.value)))
    return bool(registers.criminal_record.entries(case.applicant_nrn, model))


CONDITIONS: dict[str, Condition] = {
    "always": always,
    "criminal_record_has_entries": criminal_record_has_entries,
}


def needs_review(when: str, case: Case, registers: Registers) -> bool:
    condition = CONDITIONS.get(when)
    if condition is None:
        raise LookupError(f"unknown review condition {when!r}")
    return condition(case, registers)
