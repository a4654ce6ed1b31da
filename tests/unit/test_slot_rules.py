"""The booking rules of a collection day: a day the city's calendar keeps open (a weekday that is neither a Belgian
public holiday nor one of the city's own days off), at least ``min_business_days_ahead`` such days after today, at
most ``horizon_days`` days after it; and cancellation until two days before. Pure date arithmetic, with today given:
every day of a year in turn, so the weekends, Easter, the city's 8 May and the turn of the year all come by."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import cache

import pytest

from omnicity.adapters.documents import Uploads
from omnicity.adapters.slots import SlotBook
from omnicity.capabilities.base import Cancellation, Submission
from omnicity.capabilities.booking import (
    Booking,
    BookingSettings,
    bookable_days,
    date_problem,
    first_day,
    last_cancellation_day,
    open_slots,
)
from omnicity.capabilities.review import Review
from omnicity.catalogue import get_catalogue, load_procedure
from omnicity.domain.business_days import city_calendar
from omnicity.domain.errors import NotFoundError
from omnicity.domain.models import FieldType
from tests.fakes import make_case

BULKY = get_catalogue().get("bulky-items-removal")
# The catalogue's bookings, and the rules at their edges: no notice with a one-day horizon, a long notice.
BOOKINGS = [Booking.settings(procedure) for procedure in get_catalogue().all()]
SPECS = [spec for spec in BOOKINGS if spec is not None] + [
    BookingSettings(field="collection_date", capacity_per_day=1, min_business_days_ahead=0, horizon_days=1),
    BookingSettings(field="collection_date", capacity_per_day=1, min_business_days_ahead=5, horizon_days=40),
]
TODAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]


def spec_id(spec: BookingSettings) -> str:
    return f"{spec.min_business_days_ahead}-ahead-{spec.horizon_days}-days"


def on(day: date) -> Callable[[], date]:
    """A clock stopped on ``day``."""
    return lambda: day


def span(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@cache
def days_off(year: int) -> frozenset[date]:
    """The city calendar's days off in ``year``: the Belgian public holidays and the city's own (city.yaml)."""
    return city_calendar().holidays(year)


def is_open(day: date) -> bool:
    """What the city's calendar says: a weekday (Monday to Friday) that is none of its days off."""
    return day.weekday() < 5 and day not in days_off(day.year)


def bookable(spec: BookingSettings, today: date) -> list[date]:
    """The days the rules allow, read from their words: the open days up to ``horizon_days`` after today, from the
    ``min_business_days_ahead``-th open day after today on (from today itself when no notice is needed)."""
    last = today + timedelta(days=spec.horizon_days)
    if spec.min_business_days_ahead == 0:
        return [day for day in span(today, last) if is_open(day)]
    after_today = [day for day in span(today + timedelta(days=1), last) if is_open(day)]
    return after_today[spec.min_business_days_ahead - 1 :]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_the_days_one_can_book_are_the_open_days_between_the_notice_and_the_horizon(spec: BookingSettings) -> None:
    for today in TODAYS:
        # Given today / When the days one can book are listed
        days = list(bookable_days(spec, today))
        # Then they are the open days of the window, in order, the earliest being the first day one can book
        assert days == bookable(spec, today), today
        if days:
            assert first_day(spec, today) == days[0], today
        else:  # a window without an open day (a weekend with a one-day horizon)
            assert first_day(spec, today) > today + timedelta(days=spec.horizon_days), today


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_a_day_one_cannot_book_is_refused_with_its_reason(spec: BookingSettings) -> None:
    for today in TODAYS:
        allowed = set(bookable(spec, today))
        earliest, latest = first_day(spec, today), today + timedelta(days=spec.horizon_days)
        # Given any day from a few days before today to a few days past the horizon
        for day in span(today - timedelta(days=3), latest + timedelta(days=3)):
            # When it is checked / Then it is allowed when the rules allow it, otherwise refused saying why
            problem = date_problem(spec, day, today)
            if day in allowed:
                assert problem is None, (today, day)
            elif day < earliest:
                assert problem is not None, (today, day)
                assert problem.startswith("too soon"), (today, day, problem)
                assert earliest.isoformat() in problem
            elif day > latest:
                assert problem is not None, (today, day)
                assert problem.startswith("too far ahead"), (today, day, problem)
                assert latest.isoformat() in problem
            elif day.weekday() >= 5:
                assert problem == "not a collection day: collections are on weekdays (Monday to Friday)", (today, day)
            else:
                assert day in days_off(day.year), (today, day)
                assert problem == "not a collection day: a public holiday", (today, day)


def cancelling_on(today: date) -> Cancellation:
    """What the cancellation hooks are given on ``today`` (nothing is booked or withdrawn by these tests)."""
    return Cancellation(places=SlotBook("unused", client=object()), withdrawals=NoDesk(), actor="citizen", today=today)


class NoDesk:
    def withdraw(self, case_id: str, kind: str, actor: str) -> None:
        raise AssertionError("nothing is withdrawn here")


def test_cancellation_closes_the_day_before_the_collection() -> None:
    # Given a collection on 11 March 2026
    collection = date(2026, 3, 11)
    case = make_case(BULKY.id, form={"collection_date": collection.isoformat()})
    spec = Booking.required(BULKY)
    # Then it can be cancelled until 9 March, two days before (on the 10th the crews' round is planned)
    assert last_cancellation_day(spec, collection) == date(2026, 3, 9)
    in_time = Booking().cancellation(BULKY, case, cancelling_on(date(2026, 3, 9)))
    assert in_time.allowed
    assert in_time.until == date(2026, 3, 9)
    assert in_time.refusal is None
    for today in (date(2026, 3, 10), collection, date(2026, 3, 12)):
        late = Booking().cancellation(BULKY, case, cancelling_on(today))
        assert late.allowed, today  # the procedure offers cancelling: only the date refuses it
        assert late.field == "form.collection_date"
        assert late.refusal is not None
        assert "too late to cancel" in late.refusal
        assert "2026-03-09" in late.refusal


def test_a_booking_without_a_cancellation_period_cannot_be_cancelled() -> None:
    # Given the same procedure, its booking settings saying nothing of cancelling
    settings = Booking.required(BULKY).model_copy(update={"cancellable_until_days_before": None})
    fixed = BULKY.model_copy(update={"capabilities": {**BULKY.capabilities, "booking": settings}})
    case = make_case(BULKY.id, form={"collection_date": "2026-03-11"})
    # When asked whether a case can be cancelled, long before its day / Then the booking does not offer it
    assert not Booking().cancellation(fixed, case, cancelling_on(date(2026, 2, 1))).allowed


def submitting_on(today: date) -> Submission:
    return Submission(places=SlotBook("unused", client=object(), today=on(today)), uploads=Uploads("unused"))


def test_a_chosen_day_the_rules_refuse_is_a_problem_naming_the_field() -> None:
    # Given today, and the catalogue's rules for a bulky-items collection
    today = date(2026, 3, 6)
    # When the citizen chooses tomorrow (too soon whatever the day) / Then a problem naming the form's date field
    tomorrow = {"collection_date": (today + timedelta(days=1)).isoformat()}
    problems = Booking().form_problems(BULKY, tomorrow, submitting_on(today))
    assert [problem["field"] for problem in problems] == ["form.collection_date"]
    # And the first day the rules allow is accepted
    earliest = first_day(Booking.required(BULKY), today)
    assert Booking().form_problems(BULKY, {"collection_date": earliest.isoformat()}, submitting_on(today)) == []


def test_a_procedure_without_booking_has_no_slots() -> None:
    with pytest.raises(NotFoundError):
        open_slots(get_catalogue().get("residence-certificate"), SlotBook("unused", client=object()))


def test_every_booking_names_a_required_date_field_of_its_procedure() -> None:
    booked = [procedure for procedure in get_catalogue().all() if Booking.settings(procedure) is not None]
    assert "bulky-items-removal" in [procedure.id for procedure in booked]
    for procedure in booked:
        field = next(field for field in procedure.fields if field.name == Booking.required(procedure).field)
        assert field.type is FieldType.DATE
        assert field.required


@pytest.mark.parametrize("field", ["items", "no_such_field"])
def test_a_booking_of_a_field_that_is_not_a_required_date_does_not_load(field: str) -> None:
    # Given the bulky-items entry, its booking naming another field than its date
    data = BULKY.model_dump(mode="json")
    data["capabilities"]["booking"]["field"] = field
    # When the catalogue loads it / Then it is refused, naming the capability
    with pytest.raises(ValueError, match=r"capabilities\.booking"):
        load_procedure(data)


def test_the_bulky_items_catalogue_entry() -> None:
    assert BULKY.family == "field_service"
    assert BULKY.department == "cleanliness"
    assert BULKY.fee_cents == 0
    assert [channel.value for channel in BULKY.channels] == ["portal", "kiosk", "counter"]
    review = Review.required(BULKY)
    assert review.kind == "collection"
    assert review.outcomes == ["collected", "not_collected"]
    assert review.approving == ["collected", "not_collected"]
    assert not review.comment_required
    items = next(field for field in BULKY.fields if field.name == "items")
    assert items.max_total == 3
    assert {"sofa", "mattress", "wardrobe", "fridge", "washing_machine", "table", "chairs"} <= {
        choice.value for choice in items.choices or []
    }
