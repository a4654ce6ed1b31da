"""Booked days (a bulky-items collection): which days a citizen can choose, and each day's capacity, taken atomically.

The rules come from the procedure's ``booking`` (``omnicity.domain.models.BookingSpec``): a collection day is a business
day (Monday to Friday, not a public holiday), at least ``min_business_days_ahead`` business days after today in
Brussels and at most ``horizon_days`` days after it. A booking can be cancelled up to two days before the collection:
the day before, the crews' round is planned, and from then on it cannot.

=================================  ==============================================  ===================================
pattern                            key                                             operation
=================================  ==============================================  ===================================
take a place on a day              pk=SLOT#<procedure_id>, sk=<yyyy-mm-dd>         UpdateItem ADD booked 1, on the
                                                                                   condition booked < capacity
give a place back                  pk=SLOT#<procedure_id>, sk=<yyyy-mm-dd>         UpdateItem ADD booked -1, on the
                                                                                   condition booked > 0
the days one can book              pk=SLOT#<procedure_id>,                         one Query, merged with the calendar
                                   sk BETWEEN <first day> AND <last day>           (a day never booked is all free)
=================================  ==============================================  ===================================

There is no read-then-write: DynamoDB checks the condition in the write itself, so however many citizens book the
same day at once, the day never holds more bookings than its capacity. The capacity is the catalogue's
(``capacity_per_day``), written on the item at each booking so the table shows it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from omnicity.adapters.dynamo import ConditionFailedError, TableRepository, call, from_attributes, pages, to_attributes
from omnicity.domain.business_days import city_calendar
from omnicity.domain.errors import ConfigurationError, ConflictError, NotFoundError, ValidationFailedError, field_error
from omnicity.domain.models import BookingSpec, Procedure, today_in_brussels
from omnicity.observability import logger

SATURDAY = 5


class SlotFullError(ConflictError):
    """The day chosen has no place left (409, naming the date field): choose another day among the open slots."""

    code = "slot_full"


class NotCancellableError(ConflictError):
    """The case cannot be cancelled (any more): it ended already, or its collection is tomorrow, today or past (409)."""

    code = "not_cancellable"


# ---------------------------------------------------------------------------------------------------- the calendar
def is_public_holiday(day: date) -> bool:
    """A Belgian public holiday or one of the city's own days off: no collections, not a business day."""
    return day.weekday() < SATURDAY and not city_calendar().is_business_day(day)


def is_business_day(day: date) -> bool:
    return city_calendar().is_business_day(day)


def add_business_days(day: date, count: int) -> date:
    """The ``count``-th business day after ``day`` (for 0: ``day`` itself if it is one, else the next one)."""
    return city_calendar().add_business_days(day, count)


def first_day(spec: BookingSpec, today: date) -> date:
    """The earliest day one can book today: ``min_business_days_ahead`` business days after today."""
    return add_business_days(today, spec.min_business_days_ahead)


def last_day(spec: BookingSpec, today: date) -> date:
    return today + timedelta(days=spec.horizon_days)


def collection_days(spec: BookingSpec, today: date) -> Iterator[date]:
    """Every day one can book today, in order (whether or not it has places left)."""
    day, last = first_day(spec, today), last_day(spec, today)
    while day <= last:
        if is_business_day(day):
            yield day
        day += timedelta(days=1)


def date_problem(spec: BookingSpec, day: date, today: date) -> str | None:
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


def last_cancellation_day(day: date) -> date:
    """The last day a booking for ``day`` can be cancelled: two days before (the round is planned the day before)."""
    return day - timedelta(days=2)


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


# ---------------------------------------------------------------------------------------------------- the book
class SlotBook(TableRepository):
    """The days of the procedures that book one, in the cases table. ``today`` defaults to today in Brussels."""

    def __init__(self, table_name: str, client: Any | None = None, today: Callable[[], date] | None = None) -> None:
        super().__init__(table_name, client)
        self._today = today

    def today(self) -> date:
        return (self._today or today_in_brussels)()

    @staticmethod
    def spec_of(procedure: Procedure) -> BookingSpec:
        if procedure.booking is None:
            raise NotFoundError(f"{procedure.id} books no day: it has no slots")
        return procedure.booking

    # ------------------------------------------------------------------------------------------ rules
    def chosen_day(self, procedure: Procedure, form: Mapping[str, Any]) -> date:
        """The day a (validated) form books, if the rules allow it today; otherwise a 422 naming the field."""
        spec = self.spec_of(procedure)
        day = booked_day(procedure, form)
        problem = date_problem(spec, day, self.today())
        if problem is not None:
            raise ValidationFailedError("the form has invalid fields", [field_error(f"form.{spec.field}", problem)])
        return day

    def check_cancellable(self, procedure: Procedure, day: date) -> None:
        """Cancellations close on the day before the collection (409 from then on)."""
        spec, deadline = self.spec_of(procedure), last_cancellation_day(day)
        if self.today() > deadline:
            reason = (
                f"too late to cancel: a collection can be cancelled up to two days before it, "
                f"so on {deadline.isoformat()} at the latest"
            )
            raise NotCancellableError(
                "this booking can no longer be cancelled", [field_error(f"form.{spec.field}", reason)]
            )

    # ------------------------------------------------------------------------------------------ places
    def book(self, procedure: Procedure, day: date) -> None:
        """Take one place on ``day``, in one conditional write; SlotFullError when none is left."""
        spec = self.spec_of(procedure)
        try:
            call(
                self.client,
                "update_item",
                TableName=self._table,
                Key=_key(procedure.id, day),
                UpdateExpression="SET #capacity = :capacity, #type = :type ADD #booked :one",
                ConditionExpression="attribute_not_exists(#booked) OR #booked < :capacity",
                ExpressionAttributeNames={"#booked": "booked", "#capacity": "capacity", "#type": "type"},
                ExpressionAttributeValues=to_attributes(
                    {":one": 1, ":capacity": spec.capacity_per_day, ":type": "slot"}
                ),
            )
        except ConditionFailedError:
            raise SlotFullError(
                f"{day.isoformat()} is full",
                [field_error(f"form.{spec.field}", "this day is full: choose another day among the open slots")],
            ) from None

    def free(self, procedure: Procedure, day: date) -> None:
        """Give one place on ``day`` back (a cancelled booking, or a submission that could not be stored)."""
        try:
            call(
                self.client,
                "update_item",
                TableName=self._table,
                Key=_key(procedure.id, day),
                UpdateExpression="ADD #booked :minus_one",
                ConditionExpression="#booked > :zero",
                ExpressionAttributeNames={"#booked": "booked"},
                ExpressionAttributeValues=to_attributes({":minus_one": -1, ":zero": 0}),
            )
        except ConditionFailedError:
            logger.warning("no booking to free", extra={"procedure_id": procedure.id, "day": day.isoformat()})

    def open_slots(self, procedure: Procedure) -> SlotList:
        """The days one can book today that have places left, with how many: one Query over the window."""
        spec = self.spec_of(procedure)
        today = self.today()
        first, last = first_day(spec, today), last_day(spec, today)
        booked = self._booked_between(procedure.id, first, last) if first <= last else {}
        items = []
        for day in collection_days(spec, today):
            remaining = max(0, spec.capacity_per_day - booked.get(day.isoformat(), 0))
            if remaining:
                items.append(OpenSlot(date=day, remaining=remaining, capacity=spec.capacity_per_day))
        return SlotList(items=items)

    def booked(self, procedure: Procedure, day: date) -> int:
        """How many places ``day`` has taken (0 when never booked)."""
        return self._booked_between(procedure.id, day, day).get(day.isoformat(), 0)

    def _booked_between(self, procedure_id: str, first: date, last: date) -> dict[str, int]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": to_attributes(
                {":pk": f"SLOT#{procedure_id}", ":first": first.isoformat(), ":last": last.isoformat()}
            ),
            "ConsistentRead": True,
        }
        booked: dict[str, int] = {}
        for page in pages(self.client, query):  # a window of days is a few KB: one page in practice
            for item in page.get("Items", []):
                slot = from_attributes(item)
                booked[str(slot["sk"])] = int(slot.get("booked", 0))
        return booked


def booked_day(procedure: Procedure, form: Mapping[str, Any]) -> date:
    """The day a case's (validated) form books."""
    spec = SlotBook.spec_of(procedure)
    value = form.get(spec.field)
    if not isinstance(value, str):
        raise ConfigurationError(f"{procedure.id}: booking.field {spec.field!r} is not a required date field")
    return date.fromisoformat(value)


def _key(procedure_id: str, day: date) -> dict[str, Any]:
    return {"pk": {"S": f"SLOT#{procedure_id}"}, "sk": {"S": day.isoformat()}}
