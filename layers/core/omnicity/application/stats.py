"""The city's figures: products delivered in a period, by channel and procedure, with the channel shares.

The counters are kept by the case repository as cases complete (``omnicity.adapters.stats``: one ADD in the
transaction that completes a case); this module reads a period's days and adds them up, for the reporting agents.
A period spans at most :data:`MAX_PERIOD_YEARS` calendar years (one Query each).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from omnicity.adapters.stats import CHANNEL_PREFIX, PROCEDURE_PREFIX, TOTAL, Counts, StatsRepository
from omnicity.catalogue import Catalogue
from omnicity.domain.errors import ForbiddenError, ValidationFailedError, field_error
from omnicity.domain.identity import Principal
from omnicity.domain.models import Channel, Role

REPORTING: Final = "reporting"  # the department whose agents read the figures
MAX_PERIOD_YEARS: Final = 5  # calendar years a period may touch: as many Queries at most
SHARE_PLACES: Final = 4  # shares are fractions of 1 rounded to 4 decimal places (0.5400 = 54.00 %)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


# ---------------------------------------------------------------------------------------------------- the figures
class View(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


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

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

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
