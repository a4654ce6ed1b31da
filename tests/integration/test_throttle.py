"""Per-caller limits against a moto table built from template.yaml, on a clock the tests move: attempts counted in
one conditional write, refused past the limit with the time left in the window, counted apart per caller and per
window, atomically under concurrency; counters name nobody and expire with their window."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest

from omnicity.adapters.throttle import UNKNOWN_SOURCE, CallerLimit, Limit, Throttle, caller_of_address
from omnicity.domain.errors import TooManyRequestsError
from tests.fakes import CountingClient

WINDOW_START = 1_800_000_000  # a multiple of 600 and of 900: a window starts here


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def reports(attempts: int = 10) -> Limit:
    """A limit of its own (a fresh purpose) so that tests do not count each other's attempts."""
    return Limit(f"report_{uuid.uuid4().hex[:8]}", attempts, 600, "too many reports from your address")


def test_the_attempt_after_the_limit_is_refused_until_the_window_ends(table: str) -> None:
    # Given a limit of 10 per 10 minutes, 123.4 s into a window, and a caller who made 10 attempts
    limit, clock = reports(10), Clock(WINDOW_START + 123.4)
    client = CountingClient(boto3.client("dynamodb"))
    throttle = Throttle(table, client=client, clock=clock)
    for _ in range(10):
        throttle.hit(limit, "address:198.51.100.7")
    # Then each attempt cost one write and no read
    assert client.calls == ["update_item"] * 10
    # When it makes an 11th
    with pytest.raises(TooManyRequestsError) as refused:
        throttle.hit(limit, "address:198.51.100.7")
    # Then it is a 429 that says when the window ends (476.6 s later: 477 s, whole seconds rounded up)
    assert refused.value.http_status == 429
    assert refused.value.retry_after_seconds == 477
    assert refused.value.message == "too many reports from your address: try again in 477 s"
    # And a second before the window ends, one second is left
    clock.now = WINDOW_START + 599.5
    with pytest.raises(TooManyRequestsError) as still:
        throttle.hit(limit, "address:198.51.100.7")
    assert still.value.retry_after_seconds == 1
    # And another caller is not concerned
    throttle.hit(limit, "address:198.51.100.8")


def test_a_new_window_counts_from_zero_and_refused_attempts_were_never_counted(table: str) -> None:
    # Given a caller refused many times in a window
    limit, clock = reports(3), Clock(WINDOW_START)
    throttle = Throttle(table, clock=clock)
    for _ in range(3):
        throttle.hit(limit, "address:203.0.113.9")
    for _ in range(5):
        with pytest.raises(TooManyRequestsError):
            throttle.hit(limit, "address:203.0.113.9")
    # When the next window starts
    clock.now = WINDOW_START + 600
    # Then the caller has its whole limit again, and no more
    for _ in range(3):
        throttle.hit(limit, "address:203.0.113.9")
    with pytest.raises(TooManyRequestsError):
        throttle.hit(limit, "address:203.0.113.9")


def test_twenty_attempts_at_once_pass_exactly_the_limit(table: str) -> None:
    # Given a limit of 5 and 20 requests of one caller at the same moment (the local runtime gives moto DynamoDB's
    # per-item atomic writes: see infra/local/atomic_writes.py)
    limit = reports(5)
    throttle = Throttle(table, client=boto3.client("dynamodb"), clock=Clock(WINDOW_START))
    start = threading.Barrier(20)
    passed: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        start.wait()
        try:
            throttle.hit(limit, "address:192.0.2.1")
        except TooManyRequestsError:
            with lock:
                refused.append(index)
        else:
            with lock:
                passed.append(index)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly 5 passed
    assert (len(passed), len(refused)) == (5, 15)


def test_check_counts_nothing_and_refuses_once_the_window_is_used_up(table: str) -> None:
    # Given wrong codes limited to 2 per window, and a citizen who has made none
    limit = Limit(f"failure_{uuid.uuid4().hex[:8]}", 2, 900, "too many wrong hand-off codes")
    clock = Clock(WINDOW_START + 100)
    failures = CallerLimit(Throttle(table, clock=clock), limit)
    # When the window is checked many times, nothing is counted
    for _ in range(5):
        failures.check("citizen:87031413235")
    # Then it takes 2 failures to use it up, and from then on a check is a 429 until the window ends
    failures.hit("citizen:87031413235")
    failures.check("citizen:87031413235")
    failures.hit("citizen:87031413235")
    with pytest.raises(TooManyRequestsError) as refused:
        failures.check("citizen:87031413235")
    assert refused.value.retry_after_seconds == 800
    failures.check("citizen:79051708730")
    clock.now = WINDOW_START + 900
    failures.check("citizen:87031413235")


def test_a_counter_names_nobody_and_expires_with_its_window(table: str) -> None:
    # Given a caller's attempt
    limit = reports(10)
    Throttle(table, clock=Clock(WINDOW_START + 5)).hit(limit, "address:198.51.100.77")
    # Then the counter's item holds a digest, never the address, and the end of its window as its TTL
    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": only_partition_of(table, limit)}},
    )["Items"]
    [item] = items
    assert "198.51.100" not in repr(item)
    assert item["sk"] == {"S": f"WINDOW#{WINDOW_START}"}
    assert item["hits"] == {"N": "1"}
    assert item["expires_at"] == {"N": str(WINDOW_START + 600)}


def only_partition_of(table: str, limit: Limit) -> str:
    """The one counter partition of ``limit``'s purpose (a test may look for it; the code never scans)."""
    found = boto3.client("dynamodb").scan(
        TableName=table,
        FilterExpression="begins_with(pk, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": f"THROTTLE#{limit.purpose}#"}},
    )["Items"]
    assert len(found) == 1, found
    return str(found[0]["pk"]["S"])


@pytest.mark.parametrize(
    ("source_ip", "caller"),
    [
        ("198.51.100.7", "address:198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "address:2001:db8:1:2::/64"),  # a host picks any address of its /64
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "address:2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "address:198.51.100.7"),  # an IPv4 host, written in IPv6
        ("", UNKNOWN_SOURCE),
        (None, UNKNOWN_SOURCE),
        ("not an address", UNKNOWN_SOURCE),
    ],
)
def test_the_caller_of_an_address(source_ip: str | None, caller: str) -> None:
    assert caller_of_address(source_ip) == caller


@pytest.mark.parametrize(("attempts", "window", "purpose"), [(0, 600, "report"), (1, 0, "report"), (1, 60, "a b")])
def test_a_limit_that_limits_nothing_sensible_is_refused(attempts: int, window: int, purpose: str) -> None:
    with pytest.raises(ValueError, match="a limit allows"):
        Limit(purpose, attempts, window, "refused")
