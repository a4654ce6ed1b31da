"""What each document template is rendered with: one context builder per template, from the case and the registers.

A builder returns the template's variables; the layout adds nothing of its own. Every builder gets the common part
(reference, document id, date of issue, language, the city's names) from :func:`build_context`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

from omnicity.adapters.registries import Person, Registers
from omnicity.adapters.registries.civil_status import may_obtain_extract
from omnicity.catalogue import get_catalogue
from omnicity.catalogue.eligibility import criminal_record_entries, extract_model, requested_act
from omnicity.domain.city import get_city
from omnicity.domain.errors import StepInputError
from omnicity.domain.models import Case, Language, Procedure, today_in_brussels

Builder = Callable[[Case, Registers], dict[str, Any]]

_MEMBER_FIELDS = {"nrn", "first_name", "last_name", "birth_date", "gender", "nationality"}


def _person(case: Case, registers: Registers) -> Person:
    person = registers.national.find(case.applicant_nrn)
    if person is None:
        raise StepInputError("the applicant is not in the national register (any more)")
    return person


def _applicant(case: Case, registers: Registers) -> dict[str, Any]:
    return {"person": _person(case, registers).model_dump()}


def _household_composition(case: Case, registers: Registers) -> dict[str, Any]:
    """The applicant's household: every living member, the reference person first, then by date of birth.

    The reference person is the household's eldest living member; each other member's relation to them (``spouse``,
    ``child`` or ``other``) comes from the civil status acts (marriages and births).
    """
    person = _person(case, registers)
    members = [
        member for member in registers.national.people() if member.household_id == person.household_id and member.alive
    ]
    reference = min(members, key=lambda member: (member.birth_date, member.nrn))
    spouses = registers.civil_status.spouses_of(reference.nrn)
    children = registers.civil_status.children_of(reference.nrn)

    def relation(member: Person) -> str:
        if member.nrn == reference.nrn:
            return "reference_person"
        if member.nrn in spouses:
            return "spouse"
        return "child" if member.nrn in children else "other"

    others = sorted((m for m in members if m.nrn != reference.nrn), key=lambda m: (m.birth_date, m.nrn))
    return {
        "person": person.model_dump(),
        "members": [
            member.model_dump(include=_MEMBER_FIELDS) | {"relation": relation(member)}
            for member in [reference, *others]
        ],
    }


def _belgian(case: Case, registers: Registers) -> dict[str, Any]:
    person = _person(case, registers)
    if person.nationality != "BE":  # the eligibility rule refuses this; never certify it whatever the catalogue says
        raise StepInputError("the city certifies Belgian nationality only")
    return {"person": person.model_dump()}


def _alive(case: Case, registers: Registers) -> dict[str, Any]:
    person = _person(case, registers)
    if not person.alive:  # the eligibility rule refuses this; never certify it whatever the catalogue says
        raise StepInputError("a life certificate is never issued for a deceased person")
    return {"person": person.model_dump()}


def _residence_history(case: Case, registers: Registers) -> dict[str, Any]:
    """The current residence, then the earlier ones newest first, each with the day it began and the day it ended
    (the day the person settled at the next address)."""
    person = _person(case, registers)
    history = [*person.previous_addresses, person.address]
    periods = [
        {"address": address.model_dump(), "since": address.settled_on, "until": following.settled_on}
        for address, following in itertools.pairwise(history)
    ]
    return {"person": person.model_dump(), "previous": periods[::-1]}


def _civil_status_extract(case: Case, registers: Registers) -> dict[str, Any]:
    act = requested_act(case, registers)
    if act is None:
        raise StepInputError("the civil status register holds no such act (any more)")
    if not may_obtain_extract(registers.civil_status, case.applicant_nrn, act, today_in_brussels()):
        raise StepInputError("the applicant may not obtain an extract of this act")
    return {"act": act.model_dump()}


def _criminal_record_extract(case: Case, registers: Registers) -> dict[str, Any]:
    """The applicant, the extract's model (``form.model``), the activity it is asked for (``form.purpose``, required
    by the article 596 models) and the entries it shows."""
    model = extract_model(case)
    purpose = str(case.form.get("purpose") or "").strip() or None
    if model.needs_purpose and purpose is None:
        raise StepInputError(f"a model {model.value} extract names the activity it is asked for")
    return {
        "person": _person(case, registers).model_dump(),
        "model": model.value,
        "purpose": purpose,
        "entries": [entry.model_dump() for entry in criminal_record_entries(case, registers)],
    }


def choice_label(procedure: Procedure, field_name: str, value: str, language: Language) -> str:
    """The label, in ``language``, of the choice ``value`` of ``procedure``'s field ``field_name``."""
    field = next((field for field in procedure.fields if field.name == field_name), None)
    choice = next((choice for choice in (field.choices or []) if choice.value == value), None) if field else None
    if choice is None:
        raise StepInputError(f"{value!r} is not a choice of the field {field_name!r} of {procedure.id}")
    return choice.label.in_language(language)


def _form_value(case: Case, name: str) -> Any:
    if name not in case.form:
        raise StepInputError(f"the form of case {case.case_id} has no {name!r}")
    return case.form[name]


def _street_artist_permit(case: Case, registers: Registers) -> dict[str, Any]:
    """The holder (from the register) and the permit's terms, choices as labels in the case's language."""
    procedure = get_catalogue().get(case.procedure_id)

    def label(field_name: str, value: str) -> str:
        return choice_label(procedure, field_name, value, case.language)

    return {
        "person": _person(case, registers).model_dump(),
        "artist_name": str(_form_value(case, "artist_name")),
        "discipline": label("discipline", _form_value(case, "discipline")),
        "amplified": _form_value(case, "amplified") is True,
        "start_date": date.fromisoformat(_form_value(case, "start_date")),
        "end_date": date.fromisoformat(_form_value(case, "end_date")),
        "zones": [label("zones", zone) for zone in _form_value(case, "zones")],
    }


def _greening_letter(case: Case, registers: Registers) -> dict[str, Any]:
    """The applicant, the kind of greening (``kind``: its value, ``kind_label``: in the case's language), the address
    with its section's names, and the remarks the agent gave with the approval after the visit (or None)."""
    procedure = get_catalogue().get(case.procedure_id)
    kind, address = _form_value(case, "kind"), dict(_form_value(case, "address"))
    section = next((s for s in get_city().sections if address.get("postal_code") in s.postal_codes), None)
    if section is None:
        raise StepInputError(f"the address of case {case.case_id} is not in the city")
    decision = next((entry for entry in reversed(case.timeline) if entry.event.startswith("decided:")), None)
    return {
        "person": _person(case, registers).model_dump(),
        "kind": kind,
        "kind_label": choice_label(procedure, "kind", kind, case.language),
        "address": {"box": None, **address, "municipality_fr": section.fr, "municipality_nl": section.nl},
        "remarks": decision.note.in_language(case.language) if decision and decision.note else None,
    }


BUILDERS: dict[str, Builder] = {
    "residence-certificate": _applicant,
    "household-composition-certificate": _household_composition,
    "nationality-certificate": _belgian,
    "life-certificate": _alive,
    "residence-history-certificate": _residence_history,
    "civil-status-extract": _civil_status_extract,
    "criminal-record-extract": _criminal_record_extract,
    "street-artist-permit": _street_artist_permit,
    "greening-letter": _greening_letter,
}


def build_context(
    procedure: Procedure,
    case: Case,
    registers: Registers,
    *,
    document_id: str,
    issued_on: date,
    verification_url: str,
) -> dict[str, Any]:
    if procedure.document is None:
        raise StepInputError(f"procedure {procedure.id} issues no document")
    builder = BUILDERS.get(procedure.document.template)
    if builder is None:
        raise StepInputError(f"no context builder for the document template {procedure.document.template!r}")
    city = get_city()
    return {
        "reference": case.reference,
        "document_id": document_id,
        "verification_url": verification_url,
        "issued_on": issued_on,
        "language": case.language.value,
        "city": {"fr": city.name.fr, "nl": city.name.nl},
        "form": dict(case.form),
        **builder(case, registers),
    }
