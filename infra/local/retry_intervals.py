"""Scale the waits between ASL Retry attempts, locally, without changing a definition.

moto's Step Functions interpreter sleeps each Retry interval (``IntervalSeconds``, times ``BackoffRate`` per attempt,
capped by ``MaxDelaySeconds``) in real time, like AWS. The deployed definitions keep their real intervals; a local
runtime started with a scale below 1 (``LocalRuntime(retry_scale=...)`` or ``OMNICITY_LOCAL_RETRY_SCALE``) sleeps
that fraction of each interval instead, so a test exhausts a Retry (1 + 2 + 4 s for three attempts) in milliseconds.
Attempts, error matching and Catch are unchanged. Process-wide while installed, like the Lambda bridge.
"""

from __future__ import annotations

import os
import time
from typing import Any, Final

ENV_RETRY_SCALE: Final = "OMNICITY_LOCAL_RETRY_SCALE"


class _ScaledSleep:
    """Stands in for the ``time`` module in moto's retrier: ``sleep`` waits ``factor`` times as long."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.factor)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def retry_scale(given: float | None) -> float:
    """The factor to use: ``given``, else ``OMNICITY_LOCAL_RETRY_SCALE``, else 1 (real seconds)."""
    if given is None:
        text = os.environ.get(ENV_RETRY_SCALE, "").strip()
        try:
            given = float(text) if text else 1.0
        except ValueError:
            raise ValueError(f"{ENV_RETRY_SCALE} must be a number (a factor), got {text!r}") from None
    if not 0 <= given <= 1:
        raise ValueError(f"the retry interval scale is a factor between 0 and 1, got {given}")
    return given


def scale_retry_intervals(factor: float) -> None:
    """From now on, moto's interpreter sleeps ``factor`` times each Retry interval (1: as written)."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    setattr(retrier_decl, "time", time if factor == 1 else _ScaledSleep(factor))  # noqa: B010 - a module's global


def restore_retry_intervals() -> None:
    """Real intervals again."""
    scale_retry_intervals(1.0)
