"""Places on booked days (``omnicity.capabilities.booking`` has the rules): each day's capacity, taken atomically.

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

from collections.abc import Callable
from datetime import date
from typing import Any

from omnicity.adapters.dynamo import ConditionFailedError, TableRepository, call, from_attributes, pages, to_attributes
from omnicity.domain.errors import ConflictError
from omnicity.domain.models import today_in_brussels
from omnicity.observability import logger


class SlotFullError(ConflictError):
    """The day chosen has no place left (409, naming the date field): choose another day among the open slots."""

    code = "slot_full"


class SlotBook(TableRepository):
    """The days of the procedures that book one, in the cases table. ``today`` defaults to today in Brussels."""

    def __init__(self, table_name: str, client: Any | None = None, today: Callable[[], date] | None = None) -> None:
        super().__init__(table_name, client)
        self._today = today

    def today(self) -> date:
        return (self._today or today_in_brussels)()

    def book(self, procedure_id: str, day: date, capacity: int) -> None:
        """Take one place on ``day``, in one conditional write; SlotFullError when none of ``capacity`` is left."""
        try:
            call(
                self.client,
                "update_item",
                TableName=self._table,
                Key=_key(procedure_id, day),
                UpdateExpression="SET #capacity = :capacity, #type = :type ADD #booked :one",
                ConditionExpression="attribute_not_exists(#booked) OR #booked < :capacity",
                ExpressionAttributeNames={"#booked": "booked", "#capacity": "capacity", "#type": "type"},
                ExpressionAttributeValues=to_attributes({":one": 1, ":capacity": capacity, ":type": "slot"}),
            )
        except ConditionFailedError:
            raise SlotFullError(f"{day.isoformat()} is full") from None

    def free(self, procedure_id: str, day: date) -> None:
        """Give one place on ``day`` back (a cancelled booking, or a submission that could not be stored)."""
        try:
            call(
                self.client,
                "update_item",
                TableName=self._table,
                Key=_key(procedure_id, day),
                UpdateExpression="ADD #booked :minus_one",
                ConditionExpression="#booked > :zero",
                ExpressionAttributeNames={"#booked": "booked"},
                ExpressionAttributeValues=to_attributes({":minus_one": -1, ":zero": 0}),
            )
        except ConditionFailedError:
            logger.warning("no booking to free", extra={"procedure_id": procedure_id, "day": day.isoformat()})

    def booked(self, procedure_id: str, day: date) -> int:
        """How many places ``day`` has taken (0 when never booked)."""
        return self.booked_between(procedure_id, day, day).get(day.isoformat(), 0)

    def booked_between(self, procedure_id: str, first: date, last: date) -> dict[str, int]:
        """The places taken on each day from ``first`` to ``last`` (by ISO date; a day never booked is absent)."""
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


def _key(procedure_id: str, day: date) -> dict[str, Any]:
    return {"pk": {"S": f"SLOT#{procedure_id}"}, "sk": {"S": day.isoformat()}}
