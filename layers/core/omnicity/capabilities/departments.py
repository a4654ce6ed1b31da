"""Which department handles a case, and which agents act on it: the one rule, in one place.

- **The handling department** of a case is, in this order: the department its procedure's routing sends the routed
  field's value to (an alert's ``category``: ``street_lighting`` goes to ``public_lighting``); else, when the
  procedure routes nothing or the value is not one the routing names, the department of its human step (the
  ``review`` capability's ``department``); else the procedure's own ``department``. A case has exactly one handling
  department.
- **Who acts on a case**: the agents of its handling department, and nobody else. They read it (``GET
  /v1/cases/{id}``, its documents, its whole file in the back office), its task is in their queue, they publish its
  photos. The procedure's department does not see a case routed elsewhere (an alert about a street light is the
  lighting department's, not cleanliness's); an agent of several departments reads it for the handling one, and the
  read is logged for that department. To any other agent the case does not exist (the same 404 as a missing case).

Everything that names a case's department asks here: the agents' reads (``omnicity.application.case_reads``,
``omnicity.application.back_office``), the task the workflow opens (``omnicity.application.workflow``), a counter agent
opening a case for a citizen (``omnicity.application.submissions``), and Open311's ``agency_responsible`` and ``group``
(``omnicity.application.open311``). The rule reads the catalogue as it is now: a routing changed after a task was
opened does not move that task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omnicity.capabilities.review import Review
from omnicity.capabilities.routing import Routing
from omnicity.domain.identity import Principal
from omnicity.domain.models import Case, Procedure, Role


def handling_department(procedure: Procedure, form: Mapping[str, Any]) -> str:
    """The department that handles a case of ``procedure`` whose form is ``form`` (routed, else the human step's,
    else the procedure's). ``form`` may be a form not validated yet: its routed value is only looked up, as text."""
    routing = Routing.settings(procedure)
    if routing is not None:
        routed = routing.departments.get(str(form.get(routing.field, "")))
        if routed is not None:
            return routed
    review = Review.settings(procedure)
    return review.department if review is not None else procedure.department


def departments_of(procedure: Procedure) -> set[str]:
    """Every department a task of ``procedure`` can be queued for: its human step's and every one it routes to."""
    review, routing = Review.settings(procedure), Routing.settings(procedure)
    found = {review.department} if review is not None else set()
    if routing is not None:
        found.update(routing.departments.values())
    return found


def acting_department(principal: Principal, procedure: Procedure, case: Case) -> str | None:
    """The department ``principal`` acts for on ``case``: its handling department when the principal is one of its
    agents; None for anyone else (a citizen, a kiosk, an agent of other departments only)."""
    if principal.role is not Role.AGENT:
        return None
    department = handling_department(procedure, case.form)
    return department if department in principal.departments else None
