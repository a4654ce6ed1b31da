"""What each document template is rendered with: one context builder per template, from the case and the registers.

A builder returns the template's variables; the layout adds nothing of its own. Every builder gets the common part
(reference, document id, date of issue, language, the city's names) from :func:`build_context`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from omnicity.city import get_city
from omnicity.errors import StepInputError
from omnicity.models import Case, Procedure
from omnicity.registries import Registers

Builder = Callable[[Case, Registers], dict[str, Any]]


def _applicant(case: Case, registers: Registers) -> dict[str, Any]:
    person = registers.national.find(case.applicant.nrn)
    if person is None:
        raise StepInputError("the applicant is not in the national register (any more)")
    return {"person": person.model_dump()}


BUILDERS: dict[str, Builder] = {
    "residence-certificate": _applicant,
}


def build_context(
    procedure: Procedure, case: Case, registers: Registers, *, document_id: str, issued_on: date
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
        "issued_on": issued_on,
        "language": case.language.value,
        "city": {"fr": city.name.fr, "nl": city.name.nl},
        "form": dict(case.form),
        **builder(case, registers),
    }
