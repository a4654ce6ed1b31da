"""Booking a day (a bulky-items collection): which days a citizen can choose, a place taken at submission and given
back when the submission fails or the case is cancelled, and until when a booking can be cancelled.

The rules are the procedure's settings: a day to book is a business day of the city's calendar (Monday to Friday,
not a public holiday), at least ``min_business_days_ahead`` business days after today in Brussels and at most
``horizon_days`` days after it. A booking can be cancelled until ``cancellable_until_days_before`` days before the day
(for a collection: two, as the crews' round is planned the day before); without that setting it cannot be cancelled.
Each day's places are kept by ``omnicity.adapters.slots`` (one conditional write per place: a day never holds more
bookings than ``capacity_per_day``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from omnicity.adapters.slots import SlotFullError
from omnicity.capabilities.base import (
    Cancellation,
    CancelTerms,
    Capability,
    Closure,
    Places,
    Settings,
    Submission,
    register,
)
from omnicity.domain.business_days import city_calendar
from omnicity.domain.errors import NotFoundError, field_error
from omnicity.domain.models import Case, FieldType, Procedure

SATURDAY = 5


class BookingSettings(Settings):
    field: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="The form's date field")]
    capacity_per_day: Annotated[int, Field(ge=1)]
    min_business_days_ahead: Annotated[int, Field(ge=0)] = 2
    horizon_days: Annotated[int, Field(ge=1, le=366)] = 30
    cancellable_until_days_before: Annotated[
        int | None, Field(ge=0, le=366, description="Cancelling is open until this many days before the day")
    ] = None


# ---------------------------------------------------------------------------------------------------- the calendar
def is_public_holiday(day: date) -> bool:
    """A Belgian public holiday or one of the city's own days off: not a business day, nothing booked on it."""
    return day.weekday() < SATURDAY and not city_calendar().is_business_day(day)


def is_business_day(day: date) -> bool:
    return city_calendar().is_business_day(day)


def add_business_days(day: date, count: int) -> date:
    """The ``count``-th business day after ``day`` (for 0: ``day`` itself if it is one, else the next one)."""
    return city_calendar().add_business_days(day, count)


def first_day(spec: BookingSettings, today: date) -> date:
    """The earliest day one can book today: ``min_business_days_ahead`` business days after today."""
    return add_business_days(today, spec.min_business_days_ahead)


def last_day(spec: BookingSettings, today: date) -> date:
    return today + timedelta(days=spec.horizon_days)


def bookable_days(spec: BookingSettings, today: date) -> Iterator[date]:
    """Every day one can book today, in order (whether or not it has places left)."""
    day, last = first_day(spec, today), last_day(spec, today)
    while day <= last:
        if is_business_day(day):
            yield day
        day += timedelta(days=1)


def date_problem(spec: BookingSettings, day: date, today: date) -> str | None:
    """Why ``day`` cannot be booked today (the reason the citizen reads), or None when it can."""
    earliest, latest = first_day(spec, today), last_day(spec, today)
    if day < earliest:
        ahead = spec.min_business_days_ahead
        return f"too soon: book at least {ahead} business days ahead, on {earliest.isoformat()} at the earliest"
    if day > latest:
        return f"too far ahead: book at most {spec.horizon_days} days ahead, on {latest.isoformat()} at the latest"
    if day.weekday() >= SATURDAY:
        return "not a collection day: collections are on weekdays (Monday to Friday)"
    if is_public_holiday(day):
        return "not a collection day: a public holiday"
    return None


def last_cancellation_day(spec: BookingSettings, day: date) -> date | None:
    """The last day a booking for ``day`` can be cancelled; None when such a booking cannot be cancelled."""
    if spec.cancellable_until_days_before is None:
        return None
    return day - timedelta(days=spec.cancellable_until_days_before)


def booked_day(spec: BookingSettings, form: Mapping[str, Any]) -> date:
    """The day a case's (validated) form books (the catalogue checked that the field is a required date)."""
    return date.fromisoformat(str(form[spec.field]))


# ---------------------------------------------------------------------------------------------------- what the API says
class OpenSlot(BaseModel):
    model_config = ConfigDict(frozen=True)

    date: date
    remaining: int
    capacity: int


class SlotList(BaseModel):
    """The days one can book now, with places left, earliest first."""

    model_config = ConfigDict(frozen=True)

    items: list[OpenSlot]


def open_slots(procedure: Procedure, places: Places) -> SlotList:
    """The days one can book today that have places left, with how many (404 for a procedure that books no day)."""
    spec = Booking.settings(procedure)
    if spec is None:
        raise NotFoundError(f"{procedure.id} books no day: it has no slots")
    today = places.today()
    first, last = first_day(spec, today), last_day(spec, today)
    booked = places.booked_between(procedure.id, first, last) if first <= last else {}
    items = []
    for day in bookable_days(spec, today):
        remaining = max(0, spec.capacity_per_day - booked.get(day.isoformat(), 0))
        if remaining:
            items.append(OpenSlot(date=day, remaining=remaining, capacity=spec.capacity_per_day))
    return SlotList(items=items)


# ---------------------------------------------------------------------------------------------------- the capability
@register
class Booking(Capability[BookingSettings]):
    name = "booking"
    settings_model = BookingSettings

    def check_procedure(self, procedure: Procedure, settings: BookingSettings) -> None:
        field = next((field for field in procedure.fields if field.name == settings.field), None)
        if field is None or field.type is not FieldType.DATE or not field.required:
            raise ValueError(f"field {settings.field!r} must be a required date field of the form")

    def form_problems(self, procedure: Procedure, form: Mapping[str, Any], context: Submission) -> list[dict[str, Any]]:
        spec = self.required(procedure)
        problem = date_problem(spec, booked_day(spec, form), context.places.today())
        return [] if problem is None else [field_error(f"form.{spec.field}", problem)]

    def reserve(self, procedure: Procedure, case: Case, context: Submission) -> None:
        """One place on the chosen day (409 naming the date field when the day is full)."""
        spec = self.required(procedure)
        day = booked_day(spec, case.form)
        try:
            context.places.book(procedure.id, day, spec.capacity_per_day)
        except SlotFullError as error:
            reason = "this day is full: choose another day among the open slots"
            raise SlotFullError(error.message, [field_error(f"form.{spec.field}", reason)]) from None

    def release(self, procedure: Procedure, case: Case, context: Submission) -> None:
        context.places.free(procedure.id, booked_day(self.required(procedure), case.form))

    def cancellation(self, procedure: Procedure, case: Case, context: Cancellation) -> CancelTerms:
        spec = self.required(procedure)
        day = booked_day(spec, case.form)
        deadline = last_cancellation_day(spec, day)
        if deadline is None:
            return CancelTerms(allowed=False)
        if context.today > deadline:
            reason = (
                f"too late to cancel: a booking can be cancelled up to {spec.cancellable_until_days_before} days "
                f"before its day, so on {deadline.isoformat()} at the latest"
            )
            return CancelTerms(allowed=True, until=deadline, refusal=reason, field=f"form.{spec.field}")
        return CancelTerms(allowed=True, until=deadline)

    def on_cancelled(self, procedure: Procedure, case: Case, context: Cancellation, *, first: bool) -> None:
        """The day's place is given back, by the call that cancelled the case only."""
        if first:
            context.places.free(procedure.id, booked_day(self.required(procedure), case.form))

    def on_failed(self, procedure: Procedure, case: Case, context: Closure) -> None:
        """A case that failed keeps no place: nothing will collect on its day (an agent sees the failed case)."""
        context.places.free(procedure.id, booked_day(self.required(procedure), case.form))
