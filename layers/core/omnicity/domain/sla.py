"""The SLA clock: when a case is due, in business days of the city's calendar (``omnicity.domain.business_days``).

A case is due ``sla_business_days`` business days after the day (in Brussels) it was submitted: weekends, the ten
Belgian public holidays and the city's own days off (8 May) do not count. While the case waits for the citizen (a
missing document, an answer), the clock stops: :func:`suspend` pins the due date and records when the wait began,
:func:`resume` moves the due date on by the business days the wait took. During a wait, :func:`due_on` already counts
the days waited so far.

The ``waiting`` cases wait on the city's side (an agent, the card producer): their clock runs. An agent's question to
the citizen (``omnicity.application.inquiries``) calls :func:`suspend` (the case is then ``awaiting_citizen``); the
citizen's answer, or the agent's decision without it (``omnicity.application.workflow``), calls :func:`resume`.
"""

from __future__ import annotations

from datetime import date, datetime

from omnicity.domain.business_days import BusinessCalendar, city_calendar
from omnicity.domain.models import Case, Procedure, brussels_date, today_in_brussels


def due_date(procedure: Procedure, submitted_at: datetime, calendar: BusinessCalendar | None = None) -> date:
    """The day a case submitted at ``submitted_at`` is due: the procedure's SLA in business days after that day."""
    calendar = calendar or city_calendar()
    return calendar.add_business_days(brussels_date(submitted_at), procedure.sla_business_days)


def due_on(
    case: Case, procedure: Procedure, *, today: date | None = None, calendar: BusinessCalendar | None = None
) -> date:
    """The case's due date as of ``today`` (default: today in Brussels): the pinned date (or the one its submission
    gives), moved on by the business days of a wait for the citizen still running."""
    calendar = calendar or city_calendar()
    pinned = case.due_on or due_date(procedure, case.created_at, calendar)
    if case.sla_suspended_at is None:
        return pinned
    waited = calendar.business_days_between(brussels_date(case.sla_suspended_at), today or today_in_brussels())
    return calendar.add_business_days(pinned, waited) if waited else pinned


def is_overdue(case: Case, procedure: Procedure, *, today: date | None = None) -> bool:
    """A case still open whose due date has passed (a closed case is never overdue)."""
    today = today or today_in_brussels()
    return not case.status.is_terminal and due_on(case, procedure, today=today) < today


def suspend(case: Case, at: datetime, procedure: Procedure, calendar: BusinessCalendar | None = None) -> Case:
    """Stop the clock at ``at``: the case now waits for the citizen. Already stopped: the case as it is."""
    if case.sla_suspended_at is not None:
        return case
    pinned = case.due_on or due_date(procedure, case.created_at, calendar)
    return case.model_copy(update={"due_on": pinned, "sla_suspended_at": at})


def resume(case: Case, at: datetime, procedure: Procedure, calendar: BusinessCalendar | None = None) -> Case:
    """Restart the clock at ``at``: the due date moves on by the business days spent waiting (those after the day
    the wait began, up to and including the day it ended). Not stopped: the case as it is."""
    if case.sla_suspended_at is None:
        return case
    due = due_on(case, procedure, today=brussels_date(at), calendar=calendar)
    return case.model_copy(update={"due_on": due, "sla_suspended_at": None})
