"""Business days in Brussels: weekends, the ten Belgian public holidays (computed for any year, Easter included),
and the days the city adds in ``catalogue/city.yaml`` (``extra_holidays``, e.g. 8 May, the Brussels-Capital
Region's holiday). Used for due dates (SLA) and for how far ahead a booking must be.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def belgian_public_holidays(year: int) -> dict[str, date]:
    """The ten legal public holidays of Belgium in ``year``, by name (two may fall on one day: Ascension on
    1 May in 2008)."""
    easter = easter_sunday(year)
    return {
        "new_year": date(year, 1, 1),
        "easter_monday": easter + timedelta(days=1),
        "labour_day": date(year, 5, 1),
        "ascension": easter + timedelta(days=39),
        "whit_monday": easter + timedelta(days=50),
        "national_day": date(year, 7, 21),
        "assumption": date(year, 8, 15),
        "all_saints": date(year, 11, 1),
        "armistice": date(year, 11, 11),
        "christmas": date(year, 12, 25),
    }


class BusinessCalendar:
    """Weekdays that are neither a Belgian public holiday nor one of the city's own days off (``MM-DD``)."""

    def __init__(self, extra_holidays: tuple[str, ...] = ()) -> None:
        self._extra = tuple((int(month), int(day)) for month, day in (text.split("-") for text in extra_holidays))

    def holidays(self, year: int) -> frozenset[date]:
        return frozenset(belgian_public_holidays(year).values()) | {date(year, m, d) for m, d in self._extra}

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays(day.year)

    def add_business_days(self, start: date, days: int) -> date:
        """The ``days``-th business day after ``start`` (for 0: ``start`` itself if it is one, else the next one)."""
        current, remaining = start, days
        while remaining or not self.is_business_day(current):
            current += timedelta(days=1)
            if remaining and self.is_business_day(current):
                remaining -= 1
        return current

    def business_days_between(self, start: date, end: date) -> int:
        """How many business days lie after ``start`` up to and including ``end`` (0 when end <= start)."""
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            if self.is_business_day(current):
                count += 1
        return count


@cache
def city_calendar() -> BusinessCalendar:
    from omnicity.domain.city import get_city

    return BusinessCalendar(tuple(get_city().extra_holidays))
