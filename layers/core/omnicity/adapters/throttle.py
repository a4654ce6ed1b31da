"""Per-caller limits: how often one caller may do something that costs the city (an anonymous report starts a
workflow and an agent's task) or that guesses (a wrong hand-off code). Fixed-window counters in the single table.

=================================  ==========================================  ===========================
pattern                            key                                         operation
=================================  ==========================================  ===========================
count one attempt of a caller      pk=THROTTLE#<purpose>#<digest>,             UpdateItem ADD hits 1, on the
                                   sk=WINDOW#<window start, epoch s>           condition hits < limit
is a caller's window used up       the same key                                GetItem (consistent)
=================================  ==========================================  ===========================

- A window is ``window_seconds`` long, aligned on the epoch: every caller's windows start at the same instants. At
  most ``attempts`` are counted in a window; the next is refused (:class:`TooManyRequestsError`, a 429 whose
  ``Retry-After`` is the time left until the window ends) and not counted. A fixed window lets a caller burst up to
  twice the limit across a window's end; the limit bounds the rate, it is no exact quota.
- DynamoDB checks the condition in the write itself: however many requests of one caller arrive at once, no more
  than ``attempts`` pass in a window. One write per attempt, no read before it (:meth:`Throttle.hit`).
- Callers are opaque ids (a source address, a citizen); only a digest is stored, of the purpose, the window and the
  caller, so a counter names nobody and two windows of one caller share no key. An item expires with its window
  (the table's TTL attribute ``expires_at``: DynamoDB deletes it within days; an old window is never read again).
  A digest of an IPv4 address can be reversed by trying every address: it is a pseudonym kept a few days, in the
  table that holds the cases themselves, not an anonymisation.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from omnicity.adapters.audit import EXPIRES_AT
from omnicity.adapters.dynamo import ConditionFailedError, TableRepository, call
from omnicity.domain.errors import TooManyRequestsError

IPV6_PREFIX: Final = 64  # an IPv6 host is given a whole /64: its addresses are one caller
UNKNOWN_SOURCE: Final = "address:unknown"


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` of one caller per ``window_seconds``, for ``purpose`` (a word naming what is
    limited: each purpose counts on its own)."""

    purpose: str
    attempts: int
    window_seconds: int
    refusal: str  # what the caller is told, e.g. "too many reports from your address"

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.window_seconds < 1 or not self.purpose.isidentifier():
            raise ValueError(f"a limit allows 1 attempt or more per window of 1 s or more, for a named purpose: {self}")


def caller_of_address(source_ip: str | None) -> str:
    """The caller an anonymous request's source address stands for: the address itself (IPv4), or its /64 network
    (IPv6: one host may pick any address of its /64). Text that is no address (API Gateway always gives one) is one
    caller for all such requests."""
    try:
        address = ipaddress.ip_address((source_ip or "").strip())
    except ValueError:
        return UNKNOWN_SOURCE
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 host 192.0.2.1
            return f"address:{address.ipv4_mapped}"
        return f"address:{ipaddress.ip_network(f'{address}/{IPV6_PREFIX}', strict=False)}"
    return f"address:{address}"


class Throttle(TableRepository):
    """The counters, in the cases table. ``clock`` (epoch seconds) is injectable for tests."""

    def __init__(self, table_name: str, client: Any | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(table_name, client)
        self._clock = clock

    def hit(self, limit: Limit, caller: str) -> None:
        """Count one attempt of ``caller``; TooManyRequestsError, counting nothing, when the window holds
        ``limit.attempts`` already."""
        start, end, now = self._window(limit)
        try:
            call(
                self.client,
                "update_item",
                TableName=self._table,
                Key=_key(limit, caller, start),
                UpdateExpression="SET #expires = if_not_exists(#expires, :end) ADD #hits :one",
                ConditionExpression="attribute_not_exists(#hits) OR #hits < :limit",
                ExpressionAttributeNames={"#hits": "hits", "#expires": EXPIRES_AT},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit.attempts)},
                    ":end": {"N": str(end)},
                },
            )
        except ConditionFailedError:
            raise _refused(limit, end, now) from None

    def check(self, limit: Limit, caller: str) -> None:
        """TooManyRequestsError when ``caller``'s window holds ``limit.attempts`` already; counts nothing (for what
        is counted only when it fails, e.g. a wrong code: checked before the attempt, counted after it)."""
        start, end, now = self._window(limit)
        response = call(
            self.client, "get_item", TableName=self._table, Key=_key(limit, caller, start), ConsistentRead=True
        )
        hits = int(response.get("Item", {}).get("hits", {}).get("N", "0"))
        if hits >= limit.attempts:
            raise _refused(limit, end, now)

    def _window(self, limit: Limit) -> tuple[int, int, float]:
        """The current window's start and end (epoch seconds), and now."""
        now = self._clock()
        start = int(now // limit.window_seconds) * limit.window_seconds
        return start, start + limit.window_seconds, now


@dataclass(frozen=True)
class CallerLimit:
    """One limit, counted in ``throttle``: what a use case is given (``hit`` and ``check`` of one caller)."""

    throttle: Throttle
    limit: Limit

    def hit(self, caller: str) -> None:
        self.throttle.hit(self.limit, caller)

    def check(self, caller: str) -> None:
        self.throttle.check(self.limit, caller)


def _key(limit: Limit, caller: str, start: int) -> dict[str, Any]:
    digest = hashlib.sha256(f"omnicity-throttle:{limit.purpose}:{start}:{caller}".encode()).hexdigest()[:32]
    return {"pk": {"S": f"THROTTLE#{limit.purpose}#{digest}"}, "sk": {"S": f"WINDOW#{start}"}}


def _refused(limit: Limit, end: int, now: float) -> TooManyRequestsError:
    retry_after = max(1, math.ceil(end - now))
    return TooManyRequestsError(
        f"{limit.refusal}: try again in {retry_after} s",
        retry_after_seconds=retry_after,
    )
