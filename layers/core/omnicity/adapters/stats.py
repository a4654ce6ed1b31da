"""The counters of the city's figures: products delivered, by day, channel and procedure, kept as cases complete.

A product is delivered when its case reaches ``completed``. The case repository then adds one to the counters of the
completion day (in Brussels) in the same transaction as the case's version-conditional write
(:func:`delivery_counters`): the counters move exactly when the case does, so a retried step never counts twice and
a failed write never counts at all.

=================================  ==========================================  ===========================
pattern                            key                                         operation
=================================  ==========================================  ===========================
a day's counters                   pk=STATS#<yyyy>, sk=<yyyy-mm-dd>            ADD (in the case's
                                   total, channel_<channel>,                   TransactWriteItems)
                                   procedure_<procedure_id>
the days of a period               pk=STATS#<yyyy>, sk BETWEEN from AND to     Query, one per calendar year
=================================  ==========================================  ===========================

A year has at most 366 small items (one page), so a period costs one Query per calendar year it touches, whatever
the number of cases (``omnicity.application.stats`` bounds a period's years).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any, Final

from omnicity.adapters.dynamo import TableRepository, pages
from omnicity.domain.models import Case, CaseStatus, Channel, brussels_date

TOTAL: Final = "total"
CHANNEL_PREFIX: Final = "channel_"
PROCEDURE_PREFIX: Final = "procedure_"

Counts = Mapping[str, int]  # a day's counters by attribute name: total, channel_portal, procedure_<id>...


# ---------------------------------------------------------------------------------------------------- keys and items
def stats_key(day: date) -> dict[str, Any]:
    return {"pk": {"S": f"STATS#{day.year:04d}"}, "sk": {"S": day.isoformat()}}


def counter_names(procedure_id: str, channel: Channel) -> tuple[str, str, str]:
    """The counters one delivered product adds one to."""
    return TOTAL, f"{CHANNEL_PREFIX}{channel.value}", f"{PROCEDURE_PREFIX}{procedure_id}"


def delivery_counters(table: str, before: Case, after: Case) -> list[dict[str, Any]]:
    """The TransactWriteItems entries that go with writing ``after`` over ``before``: one ADD to the counters of the
    completion day when the write moves the case to ``completed``; nothing for any other write."""
    if after.status is not CaseStatus.COMPLETED or before.status is CaseStatus.COMPLETED:
        return []
    names = counter_names(after.procedure_id, after.channel)
    aliases = {f"#c{index}": name for index, name in enumerate(names)}
    return [
        {
            "Update": {
                "TableName": table,
                "Key": stats_key(brussels_date(after.updated_at)),
                "UpdateExpression": "SET #type = :type ADD " + ", ".join(f"{alias} :one" for alias in aliases),
                "ExpressionAttributeNames": {"#type": "type", **aliases},
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":type": {"S": "stats"}},
            }
        }
    ]


def day_item(day: date, counts: Counts) -> dict[str, Any]:
    """A day's counters as a whole item (bulk loads: the demo data writes each day once)."""
    return {
        **stats_key(day),
        "type": {"S": "stats"},
        **{name: {"N": str(value)} for name, value in sorted(counts.items()) if value},
    }


def tally(products: Iterable[tuple[date, str, Channel]]) -> dict[date, Counter[str]]:
    """The day counters of delivered products ``(day, procedure_id, channel)``, as the live counting keeps them."""
    days: dict[date, Counter[str]] = {}
    for day, procedure_id, channel in products:
        days.setdefault(day, Counter()).update(counter_names(procedure_id, channel))
    return days


def years(first: date, last: date) -> Iterator[tuple[date, date]]:
    """The period cut at year ends: one ``(first, last)`` per calendar year (one Query each)."""
    for year in range(first.year, last.year + 1):
        yield max(first, date(year, 1, 1)), min(last, date(year, 12, 31))


# ---------------------------------------------------------------------------------------------------- reading
class StatsRepository(TableRepository):
    """Reads the day counters: one Query per calendar year of the period (a page holds a whole year)."""

    def days(self, first: date, last: date) -> Iterator[dict[str, int]]:
        """The counters of each day of ``first``..``last`` on which something was delivered."""
        for start, end in years(first, last):
            query: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :year AND sk BETWEEN :first AND :last",
                "ExpressionAttributeValues": {
                    ":year": {"S": f"STATS#{start.year:04d}"},
                    ":first": {"S": start.isoformat()},
                    ":last": {"S": end.isoformat()},
                },
            }
            for page in pages(self.client, query):  # one page in practice (366 items of ~200 bytes)
                yield from (_counts(item) for item in page.get("Items", []))


def _counts(item: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in item.items() if isinstance(value, Mapping) and "N" in value}
