"""The city's figures: products delivered, by day, channel and procedure, from counters kept as cases complete.

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
the number of cases; a period spans at most :data:`MAX_PERIOD_YEARS` calendar years.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field

from omnicity.adapters.dynamo import TableRepository, pages
from omnicity.catalogue import Catalogue
from omnicity.domain.errors import ForbiddenError, ValidationFailedError, field_error
from omnicity.domain.identity import Principal
from omnicity.domain.models import Case, CaseStatus, Channel, Role, brussels_date

REPORTING: Final = "reporting"  # the department whose agents read the figures
MAX_PERIOD_YEARS: Final = 5  # calendar years a period may touch: as many Queries at most
SHARE_PLACES: Final = 4  # shares are fractions of 1 rounded to 4 decimal places (0.5400 = 54.00 %)
TOTAL: Final = "total"
CHANNEL_PREFIX: Final = "channel_"
PROCEDURE_PREFIX: Final = "procedure_"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

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


# ---------------------------------------------------------------------------------------------------- the period
def parse_period(start: str, end: str) -> tuple[date, date]:
    """``from`` and ``to`` (``YYYY-MM-DD``, both included) as dates; a 422 naming the field otherwise."""
    first, last = _parse_date("from", start), _parse_date("to", end)
    if first > last:
        raise ValidationFailedError("the period is invalid", [field_error("to", "must be on or after from")])
    if last.year - first.year + 1 > MAX_PERIOD_YEARS:
        reason = f"the period spans at most {MAX_PERIOD_YEARS} calendar years"
        raise ValidationFailedError("the period is invalid", [field_error("to", reason)])
    return first, last


def _parse_date(field: str, text: str) -> date:
    if not _DATE.fullmatch(text):
        raise ValidationFailedError("the period is invalid", [field_error(field, "not a date (YYYY-MM-DD)")])
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailedError("the period is invalid", [field_error(field, "no such day")]) from None


def years(first: date, last: date) -> Iterator[tuple[date, date]]:
    """The period cut at year ends: one ``(first, last)`` per calendar year (one Query each)."""
    for year in range(first.year, last.year + 1):
        yield max(first, date(year, 1, 1)), min(last, date(year, 12, 31))


# ---------------------------------------------------------------------------------------------------- the figures
class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class ByChannel(View):
    portal: int
    kiosk: int
    counter: int


class ChannelShares(View):
    portal: float
    kiosk: float
    counter: float


class Figures(View):
    """Products delivered (cases completed) in a period, by channel and procedure; shares are fractions of 1."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    from_: Annotated[date, Field(alias="from", description="First day of the period (Brussels), included")]
    to: Annotated[date, Field(description="Last day of the period (Brussels), included")]
    total: int
    by_channel: ByChannel
    by_procedure: Annotated[dict[str, int], Field(description="Every procedure of the catalogue, and any counted")]
    channel_shares: Annotated[
        ChannelShares, Field(description="Fractions of 1, 4 decimal places, summing to exactly 1 (0 when no product)")
    ]
    digital_share: Annotated[float, Field(description="portal + kiosk, as a fraction of 1")]


def shares(counts: Mapping[str, int], places: int = SHARE_PLACES) -> dict[str, float]:
    """Each count as a fraction of their sum, rounded to ``places`` decimals so that the fractions add up to exactly
    1 (largest remainder: the units left after rounding down go to the largest remainders, ties to the first named);
    all 0 when the sum is 0."""
    scale, total = 10**places, sum(counts.values())
    if total == 0:
        return dict.fromkeys(counts, 0.0)
    floors = {name: count * scale // total for name, count in counts.items()}
    left = scale - sum(floors.values())
    order = sorted(counts, key=lambda name: -(counts[name] * scale % total))  # stable: ties keep the given order
    return {name: (floors[name] + (1 if name in order[:left] else 0)) / scale for name in counts}


def figures_of(first: date, last: date, days: Iterable[Counts], procedures: Iterable[str] = ()) -> Figures:
    """Add up the counters of the days of a period (``procedures``: ids listed even when nothing was delivered)."""
    summed: Counter[str] = Counter()
    for counts in days:
        summed.update(counts)
    by_channel = {channel.value: summed[f"{CHANNEL_PREFIX}{channel.value}"] for channel in Channel}
    by_procedure = dict.fromkeys(procedures, 0)
    for name, value in summed.items():
        if name.startswith(PROCEDURE_PREFIX):
            by_procedure[name.removeprefix(PROCEDURE_PREFIX)] = value
    channel_shares = shares(by_channel)
    return Figures(
        from_=first,
        to=last,
        total=summed[TOTAL],
        by_channel=ByChannel.model_validate(by_channel),
        by_procedure=dict(sorted(by_procedure.items())),
        channel_shares=ChannelShares.model_validate(channel_shares),
        # the sum of two shares of whole units: exactly 1 - the counter's share
        digital_share=round(channel_shares[Channel.PORTAL.value] + channel_shares[Channel.KIOSK.value], SHARE_PLACES),
    )


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


class StatsService:
    def __init__(self, repository: StatsRepository, catalogue: Catalogue) -> None:
        self._stats = repository
        self._catalogue = catalogue

    def figures(self, principal: Principal, start: str, end: str) -> Figures:
        """The period's figures, for agents of the reporting department only."""
        if principal.role is not Role.AGENT or REPORTING not in principal.departments:
            raise ForbiddenError(f"the figures are for agents of the {REPORTING!r} department")
        first, last = parse_period(start, end)
        procedures = [procedure.id for procedure in self._catalogue.all()]
        return figures_of(first, last, self._stats.days(first, last), procedures)
