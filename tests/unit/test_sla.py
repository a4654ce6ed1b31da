"""The SLA clock: due dates in the city's business days (Easter Monday, 8 May, Ascension...), and the clock stopped
while a case waits for the citizen."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from omnicity.catalogue import get_catalogue
from omnicity.domain import sla
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, Procedure, TimelineEntry
from tests.conftest import ELISE


def procedure(sla_business_days: int) -> Procedure:
    return get_catalogue().get("criminal-record-extract").model_copy(update={"sla_business_days": sla_business_days})


def case_submitted(at: datetime, status: CaseStatus = CaseStatus.WAITING) -> Case:
    return Case(
        case_id="0b7e7a52-3c55-4d0e-a0f1-5b1e3a9c2d11",
        reference="BXL-2026-000001",
        procedure_id="criminal-record-extract",
        applicant=Applicant(nrn=ELISE),
        channel=Channel.PORTAL,
        language=Language.FR,
        form={"model": "595"},
        status=status,
        timeline=[TimelineEntry(at=at, status=status, event="submitted", actor="citizen")],
        submitted_by="citizen",
        created_at=at,
        updated_at=at,
    )


def brussels(day: date, hour: int = 10) -> datetime:
    """A moment on ``day`` in Brussels (summer time: UTC+2), as the platform stores it (UTC)."""
    return datetime(day.year, day.month, day.day, hour - 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("submitted", "days", "due"),
    [
        # Thursday 2 April 2026, 5 days: Fri 3, (Easter Monday 6 skipped), Tue 7, Wed 8, Thu 9, Fri 10
        (date(2026, 4, 2), 5, date(2026, 4, 10)),
        # Friday 3 April, 1 day: not Saturday, Sunday nor Easter Monday: Tuesday 7
        (date(2026, 4, 3), 1, date(2026, 4, 7)),
        # Monday 4 May, 5 days: Tue 5, Wed 6, Thu 7, (Friday 8 May: the city's day off), Mon 11, Tue 12
        (date(2026, 5, 4), 5, date(2026, 5, 12)),
        # Thursday 7 May, 1 day: Friday 8 May is off, then the weekend: Monday 11
        (date(2026, 5, 7), 1, date(2026, 5, 11)),
        # Monday 11 May, 5 days: Tue 12, Wed 13, (Ascension Thu 14), Fri 15, Mon 18, Tue 19
        (date(2026, 5, 11), 5, date(2026, 5, 19)),
        # Friday 22 May, 1 day: the weekend, then Whit Monday 25: Tuesday 26
        (date(2026, 5, 22), 1, date(2026, 5, 26)),
        # Saturday 4 April, 0 days (issued at once): the next business day, Tuesday 7 (after Easter Monday)
        (date(2026, 4, 4), 0, date(2026, 4, 7)),
    ],
)
def test_the_due_date_counts_business_days_of_the_citys_calendar(submitted: date, days: int, due: date) -> None:
    assert sla.due_date(procedure(days), brussels(submitted)) == due
    assert sla.due_on(case_submitted(brussels(submitted)), procedure(days)) == due


def test_the_day_of_submission_is_the_day_in_brussels_not_in_utc() -> None:
    # Given a case submitted on Thursday 7 May 2026 at 23:30 UTC: already Friday 8 May (the city's day off) in Brussels
    late = datetime(2026, 5, 7, 23, 30, tzinfo=UTC)
    # Then "at once" is the next business day, Monday 11 (on Thursday 7 in UTC it would have been that same day)
    assert sla.due_date(procedure(0), late) == date(2026, 5, 11)
    assert sla.due_date(procedure(2), late) == date(2026, 5, 12)


def test_a_case_is_overdue_once_its_due_date_has_passed_and_never_once_closed() -> None:
    case = case_submitted(brussels(date(2026, 4, 2)))  # due Friday 10 April
    assert not sla.is_overdue(case, procedure(5), today=date(2026, 4, 10))
    assert sla.is_overdue(case, procedure(5), today=date(2026, 4, 13))
    closed = case.model_copy(update={"status": CaseStatus.COMPLETED})
    assert not sla.is_overdue(closed, procedure(5), today=date(2026, 4, 13))


def test_suspending_then_resuming_moves_the_due_date_by_the_business_days_waited() -> None:
    # Given a case submitted Monday 4 May 2026 with 5 business days: due Tuesday 12 May
    case = case_submitted(brussels(date(2026, 5, 4)))
    five = procedure(5)
    assert sla.due_on(case, five) == date(2026, 5, 12)
    # When it waits for the citizen from Wednesday 6 May to Monday 11 May
    waiting = sla.suspend(case, brussels(date(2026, 5, 6)), five)
    assert waiting.due_on == date(2026, 5, 12)
    assert waiting.sla_suspended_at == brussels(date(2026, 5, 6))
    resumed = sla.resume(waiting, brussels(date(2026, 5, 11), hour=15), five)
    # Then the business days waited (Thu 7 and Mon 11; Fri 8 May is off) push it on by two business days, over
    # Ascension (Thu 14): Wed 13, Fri 15
    assert resumed.sla_suspended_at is None
    assert resumed.due_on == date(2026, 5, 15)
    assert sla.due_on(resumed, five) == date(2026, 5, 15)


def test_while_suspended_the_due_date_moves_on_with_every_business_day_waited() -> None:
    five = procedure(5)
    waiting = sla.suspend(case_submitted(brussels(date(2026, 4, 1))), brussels(date(2026, 4, 2)), five)  # due 9 Apr
    assert sla.due_on(waiting, five, today=date(2026, 4, 2)) == date(2026, 4, 9)  # the same day: nothing lost
    assert sla.due_on(waiting, five, today=date(2026, 4, 6)) == date(2026, 4, 10)  # Fri 3; Easter Monday is off
    assert sla.due_on(waiting, five, today=date(2026, 4, 8)) == date(2026, 4, 14)  # Fri 3, Tue 7, Wed 8
    # and a case waiting for the citizen is not overdue for the days it waited
    assert not sla.is_overdue(waiting, five, today=date(2026, 4, 13))


def test_a_wait_within_one_day_or_over_a_weekend_and_holidays_only_costs_nothing() -> None:
    five = procedure(5)
    case = case_submitted(brussels(date(2026, 4, 1)))  # due Thursday 9 April
    same_day = sla.resume(sla.suspend(case, brussels(date(2026, 4, 1), 9), five), brussels(date(2026, 4, 1), 17), five)
    # Friday 3 April evening to Monday 6 (Easter Monday): Saturday, Sunday and the holiday are no business days
    long_weekend = sla.resume(sla.suspend(case, brussels(date(2026, 4, 3)), five), brussels(date(2026, 4, 6)), five)
    assert same_day.due_on == long_weekend.due_on == date(2026, 4, 9)


def test_suspend_and_resume_are_idempotent() -> None:
    five = procedure(5)
    case = case_submitted(brussels(date(2026, 5, 4)))
    assert sla.resume(case, brussels(date(2026, 5, 6)), five) == case  # not suspended: nothing to resume
    once = sla.suspend(case, brussels(date(2026, 5, 5)), five)
    assert sla.suspend(once, brussels(date(2026, 5, 7)), five) == once  # the first wait's start is kept
    resumed = sla.resume(once, brussels(date(2026, 5, 6)), five)  # Wed 6: one business day waited
    assert resumed.due_on == date(2026, 5, 13)
    assert sla.resume(resumed, brussels(date(2026, 5, 20)), five) == resumed
