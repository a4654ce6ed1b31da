"""The booking rules of a collection day: weekdays only, at least 2 business days ahead, within the horizon; and
cancellation until the day before. Pure date arithmetic, with today given."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from omnicity.catalogue import get_catalogue
from omnicity.errors import NotFoundError, ValidationFailedError
from omnicity.models import BookingSpec, FieldType
from omnicity.slots import (
    NotCancellableError,
    SlotBook,
    add_business_days,
    collection_days,
    date_problem,
    first_day,
    last_cancellation_day,
)

SPEC = BookingSpec(field="collection_date", capacity_per_day=3, min_business_days_ahead=2, horizon_days=30)
MONDAY = date(2026, 3, 2)
THURSDAY, FRIDAY, SATURDAY, SUNDAY = (MONDAY + timedelta(days=n) for n in (3, 4, 5, 6))
BULKY = get_catalogue().get("bulky-items-removal")


def on(day: date) -> Callable[[], date]:
    """A clock stopped on ``day``."""
    return lambda: day


def test_the_fixed_days_are_the_weekdays_they_claim() -> None:
    assert [day.strftime("%A") for day in (MONDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY)] == [
        "Monday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]


@pytest.mark.parametrize(
    ("today", "earliest"),
    [
        (MONDAY, MONDAY + timedelta(days=2)),  # Wednesday
        (THURSDAY, MONDAY + timedelta(days=7)),  # Friday, then over the weekend: Monday
        (FRIDAY, MONDAY + timedelta(days=8)),  # Monday, Tuesday
        (SATURDAY, MONDAY + timedelta(days=8)),  # a weekend day counts as nothing: Monday, Tuesday
        (SUNDAY, MONDAY + timedelta(days=8)),
    ],
    ids=["monday", "thursday", "friday", "saturday", "sunday"],
)
def test_two_business_days_ahead_skip_the_weekend(today: date, earliest: date) -> None:
    assert first_day(SPEC, today) == earliest
    assert date_problem(SPEC, earliest, today) is None
    too_soon = date_problem(SPEC, earliest - timedelta(days=1), today)
    assert too_soon is not None
    assert too_soon.startswith("too soon")
    assert earliest.isoformat() in too_soon


def test_add_business_days_counts_weekdays_only() -> None:
    assert add_business_days(FRIDAY, 1) == MONDAY + timedelta(days=7)
    assert add_business_days(FRIDAY, 5) == FRIDAY + timedelta(days=7)
    assert add_business_days(SATURDAY, 0) == MONDAY + timedelta(days=7)


def test_a_weekend_day_is_refused_even_within_the_window() -> None:
    # Given today a Monday: the next Saturday and Sunday are in the window, but not collection days
    for day in (SATURDAY, SUNDAY, SATURDAY + timedelta(days=7)):
        problem = date_problem(SPEC, day, MONDAY)
        assert problem == "not a collection day: collections are on weekdays (Monday to Friday)"


def test_the_horizon_is_the_last_day_one_can_book() -> None:
    # Given today a Monday: 30 days ahead is a Wednesday
    last = MONDAY + timedelta(days=30)
    assert last.weekday() == 2
    assert date_problem(SPEC, last, MONDAY) is None
    problem = date_problem(SPEC, last + timedelta(days=1), MONDAY)
    assert problem is not None
    assert problem.startswith("too far ahead")
    assert last.isoformat() in problem


def test_the_past_and_today_are_too_soon() -> None:
    for day in (MONDAY - timedelta(days=7), MONDAY, MONDAY + timedelta(days=1)):
        problem = date_problem(SPEC, day, MONDAY)
        assert problem is not None
        assert problem.startswith("too soon")


def test_the_bookable_days_are_the_weekdays_of_the_window_in_order() -> None:
    days = list(collection_days(SPEC, FRIDAY))
    assert days[0] == first_day(SPEC, FRIDAY)
    assert days[-1] <= FRIDAY + timedelta(days=30)
    assert all(day.weekday() < 5 for day in days)
    assert days == sorted(set(days))
    # every weekday of the window is there: from Tuesday 10 March to Sunday 5 April, 19 weekdays
    assert len(days) == 19


def test_belgian_holidays_and_the_citys_8_may_close_the_day_like_a_weekend() -> None:
    # Given Easter Monday 2026 (6 April) and 8 May 2026 (a Friday: the Brussels-Capital Region's holiday)
    easter_monday, iris_day = date(2026, 4, 6), date(2026, 5, 8)
    # Then neither is a collection day, nor counted when booking ahead
    assert date_problem(SPEC, easter_monday, date(2026, 3, 27)) == "not a collection day: a public holiday"
    assert date_problem(SPEC, iris_day, date(2026, 4, 27)) == "not a collection day: a public holiday"
    assert easter_monday not in list(collection_days(SPEC, date(2026, 3, 27)))
    # Thursday 2 April + 2 business days: Friday 3, then (weekend, Easter Monday) Tuesday 7
    assert first_day(SPEC, date(2026, 4, 2)) == date(2026, 4, 7)


def test_cancellation_closes_the_day_before_the_collection() -> None:
    collection = MONDAY + timedelta(days=9)  # a Wednesday
    assert last_cancellation_day(collection) == MONDAY + timedelta(days=7)
    book = SlotBook("unused", client=object(), today=on(MONDAY + timedelta(days=7)))
    book.check_cancellable(BULKY, collection)  # two days before: fine
    for today in (collection - timedelta(days=1), collection, collection + timedelta(days=1)):
        late = SlotBook("unused", client=object(), today=on(today))
        with pytest.raises(NotCancellableError) as raised:
            late.check_cancellable(BULKY, collection)
        assert raised.value.http_status == 409
        assert raised.value.details[0]["field"] == "form.collection_date"
        assert "too late to cancel" in raised.value.details[0]["reason"]


def test_a_chosen_day_the_rules_refuse_is_a_422_naming_the_field() -> None:
    book = SlotBook("unused", client=object(), today=lambda: FRIDAY)
    with pytest.raises(ValidationFailedError) as raised:
        book.chosen_day(BULKY, {"collection_date": (FRIDAY + timedelta(days=1)).isoformat()})
    assert [detail["field"] for detail in raised.value.details] == ["form.collection_date"]
    assert book.chosen_day(BULKY, {"collection_date": "2026-03-10"}) == date(2026, 3, 10)


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
    for field in BULKY.fields:
        assert all((field.label.fr, field.label.nl, field.label.en))
