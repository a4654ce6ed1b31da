"""Eligibility rules, named in the catalogue (``eligibility: [registered_in_city]``) and checked against the registers.

A rule returns None when the applicant passes, or the code of the reason they do not (see ``messages.yaml``).
Rules run in the order the catalogue lists them; the first reason stops the check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from omnicity.adapters.registries import Registers
from omnicity.adapters.registries.civil_status import Act, ActType, may_obtain_extract
from omnicity.adapters.registries.criminal_record import CriminalRecordEntry, ExtractModel
from omnicity.domain.city import get_city
from omnicity.domain.errors import StepInputError
from omnicity.domain.models import Case, Procedure, today_in_brussels


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    reason: str | None = None


Rule = Callable[[Case, Registers], str | None]


def registered_in_city(case: Case, registers: Registers) -> str | None:
    person = registers.national.find(case.applicant_nrn)
    if person is None:
        return "not_in_register"
    if not person.alive:
        return "deceased"
    if not get_city().contains(person.address.postal_code, person.address.municipality_fr):
        return "not_resident"
    return None


def alive_in_register(case: Case, registers: Registers) -> str | None:
    """The applicant is in the national register and alive (what a life certificate certifies)."""
    person = registers.national.find(case.applicant_nrn)
    if person is None:
        return "not_in_register"
    if not person.alive:
        return "deceased"
    return None


def belgian_national(case: Case, registers: Registers) -> str | None:
    """The applicant is Belgian: the city certifies Belgian nationality only (others go to their embassy)."""
    person = registers.national.find(case.applicant_nrn)
    if person is None:
        return "not_in_register"
    if person.nationality != "BE":
        return "not_belgian"
    return None


def requested_act(case: Case, registers: Registers) -> Act | None:
    """The civil status act the case's form asks for (``act_type`` and ``act_number``), or None when the register
    holds no act of that type with that number."""
    try:
        act_type, number = ActType(case.form["act_type"]), str(case.form["act_number"])
    except (KeyError, ValueError) as exc:
        raise StepInputError("the form names no valid act_type and act_number") from exc
    act = registers.civil_status.act(number)
    return act if act is not None and act.type is act_type else None


def civil_status_act_access(case: Case, registers: Registers) -> str | None:
    """The act exists, and the applicant may obtain an extract of it: anyone when it is over 100 years old,
    otherwise only the persons it is about, their spouses, ascendants and descendants."""
    act = requested_act(case, registers)
    if act is None:
        return "civil_status_act_not_found"
    if not may_obtain_extract(registers.civil_status, case.applicant_nrn, act, today_in_brussels()):
        return "civil_status_act_restricted"
    return None


def active_eid_card(case: Case, registers: Registers) -> str | None:
    """The applicant holds an electronic identity card usable today (eID, Kids-ID or a foreigner's electronic card):
    only such a card has PIN and PUK codes to send again. An expired, revoked or missing card needs a new card."""
    if registers.cards.active_card(case.applicant_nrn) is None:
        return "no_active_eid_card"
    return None


RULES: dict[str, Rule] = {
    "registered_in_city": registered_in_city,
    "alive_in_register": alive_in_register,
    "belgian_national": belgian_national,
    "civil_status_act_access": civil_status_act_access,
    "active_eid_card": active_eid_card,
}


def extract_model(case: Case) -> ExtractModel:
    """The criminal record extract model the case's form asks for (``model``: "595", "596.1" or "596.2")."""
    try:
        return ExtractModel(case.form["model"])
    except (KeyError, ValueError) as exc:
        raise StepInputError("the form names no valid criminal record extract model") from exc


def criminal_record_entries(case: Case, registers: Registers) -> Sequence[CriminalRecordEntry]:
    """The entries the extract the case asks for would show for its applicant, oldest first (empty: none).

    With none the extract may be issued at once; with some, an agent reviews it first.
    """
    return registers.criminal_record.entries(case.applicant_nrn, extract_model(case))


def has_criminal_record_entries(case: Case, registers: Registers) -> bool:
    """Whether the applicant's extract would show any entry (the review condition of the criminal record extract)."""
    return bool(criminal_record_entries(case, registers))


def check(procedure: Procedure, case: Case, registers: Registers) -> Verdict:
    for name in procedure.eligibility:
        rule = RULES.get(name)
        if rule is None:
            raise LookupError(f"procedure {procedure.id}: unknown eligibility rule {name!r}")
        reason = rule(case, registers)
        if reason is not None:
            return Verdict(eligible=False, reason=reason)
    return Verdict(eligible=True)
