"""Business days: weekends, the ten Belgian public holidays computed for any year, and the city's own days off."""

from __future__ import annotations

from datetime import date

import pytest

from omnicity.domain.business_days import BusinessCalendar, belgian_public_holidays, city_calendar, easter_sunday


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],  # the latest and the earliest possible dates
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_ten_belgian_holidays_of_2026() -> None:
    assert sorted(belgian_public_holidays(2026).values()) == [
        date(2026, 1, 1),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Whit Monday
        date(2026, 7, 21),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
    ]


def test_every_year_has_ten_holidays_and_two_can_share_a_day() -> None:
    assert all(len(belgian_public_holidays(year)) == 10 for year in range(1990, 2100))
    holidays_2008 = belgian_public_holidays(2008)
    assert holidays_2008["ascension"] == holidays_2008["labour_day"] == date(2008, 5, 1)
    assert belgian_public_holidays(2026)["whit_monday"] == date(2026, 5, 25)


def test_business_days_skip_weekends_easter_monday_and_the_citys_8_may() -> None:
    calendar = city_calendar()
    # Thursday 2 April 2026 + 2 business days: Friday 3, (weekend, Easter Monday 6) Tuesday 7
    assert calendar.add_business_days(date(2026, 4, 2), 2) == date(2026, 4, 7)
    assert not calendar.is_business_day(date(2026, 5, 8))  # a Friday, the Brussels-Capital Region's holiday
    assert calendar.add_business_days(date(2026, 5, 7), 1) == date(2026, 5, 11)
    # Without the city's extra day, 8 May is an ordinary Friday
    assert BusinessCalendar().is_business_day(date(2026, 5, 8))


def test_counting_business_days_between_two_dates() -> None:
    calendar = city_calendar()
    assert calendar.business_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 2
    assert calendar.business_days_between(date(2026, 4, 7), date(2026, 4, 2)) == 0
    assert calendar.add_business_days(date(2026, 4, 4), 0) == date(2026, 4, 7)  # Saturday -> next business day
