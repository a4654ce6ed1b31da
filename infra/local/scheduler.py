"""The template's schedules, run for real: every enabled ``Schedule`` event's function on a timer thread.

EventBridge invokes a scheduled function asynchronously with a *Scheduled Event* (or the event's ``Input``). Locally
every schedule fires every ``interval`` seconds, whatever its ``rate``/``cron`` expression (a laptop does not wait a
minute, let alone a day), through the Lambda bridge; ``run_once`` fires them all at once, for tests and scripts. A
function error is logged, as Lambda would for an asynchronous invocation, and the timer goes on.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Final

from infra.local.bridge import InvocationResult
from infra.local.template import ACCOUNT_ID, REGION, ScheduleSpec

ENV_INTERVAL: Final = "OMNICITY_LOCAL_SCHEDULE_SECONDS"
DEFAULT_INTERVAL_SECONDS: Final = 2.0

logger = logging.getLogger(__name__)

Invoke = Callable[[str, bytes], InvocationResult]


def scheduled_event(schedule: ScheduleSpec, now: datetime | None = None) -> bytes:
    """What the function receives: the schedule's ``Input``, or EventBridge's Scheduled Event."""
    if schedule.input is not None:
        return schedule.input.encode("utf-8")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [schedule.rule_arn],
        "detail": {},
    }
    return json.dumps(event).encode("utf-8")


class LocalScheduler:
    """Fires ``schedules`` through ``invoke`` (logical id, JSON payload) every ``interval`` seconds once started."""

    def __init__(self, schedules: Iterable[ScheduleSpec], invoke: Invoke, *, interval: float) -> None:
        if interval <= 0:
            raise ValueError(f"a schedule interval is a positive number of seconds, got {interval!r}")
        self.schedules = tuple(schedule for schedule in schedules if schedule.enabled)
        self.interval = interval
        self._invoke = invoke
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = threading.Lock()  # one round at a time: the timer's and run_once's

    @property
    def running(self) -> bool:
        """True while the timer thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> dict[str, InvocationResult]:
        """Fire every enabled schedule now, one after the other; returns each result by ``<function>.<event>``."""
        results = {}
        with self._running:
            for schedule in self.schedules:
                result = self._invoke(schedule.function_id, scheduled_event(schedule))
                if result.function_error is not None:
                    logger.warning(
                        "scheduled %s.%s failed: %s",
                        schedule.function_id,
                        schedule.event_name,
                        result.payload.decode("utf-8", "replace"),
                    )
                results[f"{schedule.function_id}.{schedule.event_name}"] = result
        return results

    def start(self) -> None:
        """Start the timer thread (first round one interval from now); nothing to do without schedules."""
        if self.running or not self.schedules:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="omnicity-local-scheduler", daemon=True)
        self._thread.start()
        logger.info(
            "schedules run every %s s: %s",
            self.interval,
            ", ".join(f"{s.function_id}.{s.event_name} ({s.expression})" for s in self.schedules),
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the timer, waiting for a round in progress to end."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the timer must outlive any round (a bridge failure is logged, not fatal)
                logger.exception("a round of schedules failed")
