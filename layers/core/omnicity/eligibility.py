"""Eligibility rules, named in the catalogue (``eligibility: [registered_in_city]``) and checked against the registers.

A rule returns None when the applicant passes, or the code of the reason they do not (see ``messages.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from omnicity.city import get_city
from omnicity.models import Case, Procedure
from omnicity.registries import Registers


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    reason: str | None = None


Rule = Callable[[Case, Registers], str | None]


def registered_in_city(case: Case, registers: Registers) -> str | None:
    person = registers.national.find(case.applicant.nrn)
    if person is None:
        return "not_in_register"
    if not person.alive:
        return "deceased"
    if not get_city().contains(person.address.postal_code, person.address.municipality_fr):
        return "not_resident"
    return None


RULES: dict[str, Rule] = {"registered_in_city": registered_in_city}


def check(procedure: Procedure, case: Case, registers: Registers) -> Verdict:
    for name in procedure.eligibility:
        rule = RULES.get(name)
        if rule is None:
            raise LookupError(f"procedure {procedure.id}: unknown eligibility rule {name!r}")
        reason = rule(case, registers)
        if reason is not None:
            return Verdict(eligible=False, reason=reason)
    return Verdict(eligible=True)
