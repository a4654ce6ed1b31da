"""The one rule that says which department handles a case and which agents act on it
(omnicity.capabilities.departments)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from omnicity.capabilities.departments import acting_department, handling_department
from omnicity.capabilities.review import ReviewSettings
from omnicity.capabilities.routing import RoutingSettings
from omnicity.catalogue import get_catalogue
from omnicity.domain.identity import Principal
from omnicity.domain.models import (
    Case,
    CaseStatus,
    Channel,
    LocalizedText,
    Procedure,
    Role,
)
from tests.fakes import make_case

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ALERTS = get_catalogue().get("public-space-alert")  # the cleanliness department's; routed by category
EXTRACT = get_catalogue().get("criminal-record-extract")  # reviewed by population
CERTIFICATE = get_catalogue().get("residence-certificate")  # no human step, no routing
# A procedure of one department whose human step is another's, routed by a field: each fallback differs.
ROUTED = CERTIFICATE.model_copy(
    update={
        "id": "routed",
        "department": "population",
        "capabilities": {
            "review": ReviewSettings(department="civil_status", instructions=LocalizedText(fr="V", nl="N", en="C")),
            "routing": RoutingSettings(field="kind", departments={"festival": "events"}),
        },
    }
)


def case_of(procedure: Procedure, form: dict[str, Any]) -> Case:
    return make_case(procedure.id, form=form, status=CaseStatus.WAITING, at=NOW)


def agent_of(*departments: str) -> Principal:
    return Principal(role=Role.AGENT, subject="agent-7", channel=Channel.COUNTER, departments=frozenset(departments))


@pytest.mark.parametrize(
    ("procedure", "form", "department"),
    [
        (ALERTS, {"category": "street_lighting"}, "public_lighting"),  # routed: the category's department
        (ALERTS, {"category": "graffiti"}, "cleanliness"),
        (ROUTED, {"kind": "festival"}, "events"),
        (ROUTED, {"kind": "wedding"}, "civil_status"),  # a value the routing does not name: the human step's
        (ROUTED, {}, "civil_status"),
        (ROUTED, {"kind": ["festival"]}, "civil_status"),  # a form not validated yet: looked up as text only
        (EXTRACT, {"model": "595"}, "population"),  # no routing: the human step's
        (CERTIFICATE.model_copy(update={"department": "civil_status"}), {}, "civil_status"),  # neither: its own
    ],
    ids=["routed", "routed-same", "routed-2", "unknown-value", "no-value", "not-text", "review", "procedure"],
)
def test_a_case_is_handled_by_its_routed_department_else_its_human_steps_else_its_procedures(
    procedure: Procedure, form: dict[str, Any], department: str
) -> None:
    assert handling_department(procedure, form) == department


def test_only_the_agents_of_the_handling_department_act_on_a_case() -> None:
    # Given an alert about a street light: the procedure is cleanliness's, the case is the lighting department's
    light = case_of(ALERTS, {"category": "street_lighting"})
    # Then a lighting agent acts on it for lighting, and an agent of lighting and cleanliness acts for lighting too
    assert acting_department(agent_of("public_lighting"), ALERTS, light) == "public_lighting"
    assert acting_department(agent_of("cleanliness", "public_lighting"), ALERTS, light) == "public_lighting"
    # And the procedure's own department, another department, an agent of none: nobody
    assert acting_department(agent_of("cleanliness"), ALERTS, light) is None
    assert acting_department(agent_of("population", "roads"), ALERTS, light) is None
    assert acting_department(agent_of(), ALERTS, light) is None


def test_only_agents_act_on_a_case_whatever_they_claim() -> None:
    # Given a citizen and a kiosk whose claims would name the department (the rule is for agents only)
    light = case_of(ALERTS, {"category": "street_lighting"})
    lighting = frozenset({"public_lighting"})
    citizen = Principal(role=Role.CITIZEN, subject="c", channel=Channel.PORTAL, nrn="87031413235", departments=lighting)
    kiosk = Principal(role=Role.KIOSK, subject="k", channel=Channel.KIOSK, departments=lighting)
    # Then neither acts on it
    assert acting_department(citizen, ALERTS, light) is None
    assert acting_department(kiosk, ALERTS, light) is None
