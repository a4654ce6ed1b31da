"""The booking rules of a collection day: a day the city's calendar keeps open (a weekday that is neither a Belgian
public holiday nor one of the city's own days off), at least ``min_business_days_ahead`` such days after today, at
most ``horizon_days`` days after it; and cancellation until two days before. Pure date arithmetic, with today given:
every day of a year in turn, so the weekends, Easter, the city's 8 May and the turn of the year all come by."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import cache

import pytest

from omnicity.adapters.slots import (
    NotCancellableError,
    SlotBook,
    collection_days,
    date_problem,
    first_day,
    last_cancellation_day,
)
from omnicity.catalogue import get_catalogue
from omnicity.domain.business_days import city_calendar
from omnicity.domain.errors import NotFoundError, ValidationFailedError
from omnicity.domain.models import BookingSpec, FieldType

BULKY = get_catalogue().get("bulky-items-removal")
# The catalogue's bookings, and the rules at their edges: no notice with a one-day horizon, a long notice.
SPECS = [procedure.booking for procedure in get_catalogue().all() if procedure.booking is not None] + [
    BookingSpec(field="collection_date", capacity_per_day=1, min_business_days_ahead=0, horizon_days=1),
    BookingSpec(field="collection_date", capacity_per_day=1, min_business_days_ahead=5, horizon_days=40),
]
TODAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]


def spec_id(spec: BookingSpec) -> str:
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


def bookable(spec: BookingSpec, today: date) -> list[date]:
    """The days the rules allow, read from their words: the open days up to ``horizon_days`` after today, from the
    ``min_business_days_ahead``-th open day after today on (from today itself when no notice is needed)."""
    last = today + timedelta(days=spec.horizon_days)
    if spec.min_business_days_ahead == 0:
        return [day for day in span(today, last) if is_open(day)]
    after_today = [day for day in span(today + timedelta(days=1), last) if is_open(day)]
    return after_today[spec.min_business_days_ahead - 1 :]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_the_days_one_can_book_are_the_open_days_between_the_notice_and_the_horizon(spec: BookingSpec) -> None:
    for today in TODAYS:
        # Given today / When the days one can book are listed
        days = list(collection_days(spec, today))
        # Then they are the open days of the window, in order, the earliest being the first day one can book
        assert days == bookable(spec, today), today
        if days:
            assert first_day(spec, today) == days[0], today
        else:  # a window without an open day (a weekend with a one-day horizon)
            assert first_day(spec, today) > today + timedelta(days=spec.horizon_days), today


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_a_day_one_cannot_book_is_refused_with_its_reason(spec: BookingSpec) -> None:
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


def test_cancellation_closes_the_day_before_the_collection() -> None:
    # Given a collection on 11 March 2026
    collection = date(2026, 3, 11)
    # Then it can be cancelled until 9 March, two days before (on the 10th the crews' round is planned)
    assert last_cancellation_day(collection) == date(2026, 3, 9)
    SlotBook("unused", client=object(), today=on(date(2026, 3, 9))).check_cancellable(BULKY, collection)
    for today in (date(2026, 3, 10), collection, date(2026, 3, 12)):
        late = SlotBook("unused", client=object(), today=on(today))
        with pytest.raises(NotCancellableError) as raised:
            late.check_cancellable(BULKY, collection)
        assert raised.value.http_status == 409
        assert raised.value.details[0]["field"] == "form.collection_date"
        assert "too late to cancel" in raised.value.details[0]["reason"]
        assert "2026-03-09" in raised.value.details[0]["reason"]


def test_a_chosen_day_the_rules_refuse_is_a_422_naming_the_field() -> None:
    # Given today, and the catalogue's rules for a bulky-items collection
    today = date(2026, 3, 6)
    book = SlotBook("unused", client=object(), today=on(today))
    # When the citizen chooses tomorrow (too soon whatever the day) / Then a 422 naming the form's date field
    with pytest.raises(ValidationFailedError) as raised:
        book.chosen_day(BULKY, {"collection_date": (today + timedelta(days=1)).isoformat()})
    assert [detail["field"] for detail in raised.value.details] == ["form.collection_date"]
    # And the first day the rules allow is taken as chosen
    earliest = first_day(SlotBook.spec_of(BULKY), today)
    assert book.chosen_day(BULKY, {"collection_date": earliest.isoformat()}) == earliest


def test_a_procedure_without_booking_has_no_slots() -> None:
    with pytest.raises(NotFoundError):
        SlotBook.spec_of(get_catalogue().get("residence-certificate"))


def test_every_booking_names_a_required_date_field_of_its_procedure() -> None:
    booked = [procedure for procedure in get_catalogue().all() if procedure.booking is not None]
    assert "bulky-items-removal" in [procedure.id for procedure in booked]
    for procedure in booked:
        assert procedure.booking is not None
        field = next(field for field in procedure.fields if field.name == procedure.booking.field)
        assert field.type is FieldType.DATE
        assert field.required


def test_the_bulky_items_catalogue_entry() -> None:
    assert BULKY.family == "field_service"
    assert BULKY.department == "cleanliness"
    assert BULKY.fee_cents == 0
    assert [channel.value for channel in BULKY.channels] == ["portal", "kiosk", "counter"]
    assert BULKY.review is not None
    assert BULKY.review.kind == "collection"
    assert BULKY.review.outcomes == ["collected", "not_collected"]
    assert BULKY.review.approving == ["collected", "not_collected"]
    assert not BULKY.review.comment_required
    items = next(field for field in BULKY.fields if field.name == "items")
    assert items.max_total == 3
    assert {"sofa", "mattress", "wardrobe", "fridge", "washing_machine", "table", "chairs"} <= {
        choice.value for choice in items.choices or []
    }
