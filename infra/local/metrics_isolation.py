"""Each thread its own Powertools metric set, as each Lambda execution environment has its own process.

Powertools keeps a ``Metrics`` object's metric set, dimensions, metadata and timestamp in its provider, and the sets
are class-level, shared by every ``Metrics`` of the process. On Lambda that is right: a process runs one function's
invocations one after another. The local runtime runs every function of the template in one process, on several
threads at once (the HTTP front, the state machines' interpreter, the schedules), so one function's flush would
print and empty another's metrics half-way: a schedule's flush once emptied the set the API was serializing, and the
API answered 502.

:func:`isolate_metrics` gives a ``Metrics`` a provider whose per-invocation state belongs to the thread that reads
it; an invocation runs on one thread, so it flushes exactly the metrics it added. The namespace, the service and the
default dimensions stay shared, as they are configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

T = TypeVar("T")


class _PerThread(Generic[T]):
    """An attribute whose value is the reading thread's own, made by ``initial(instance)`` on a thread's first read."""

    def __init__(self, initial: Callable[[ThreadIsolatedEMFProvider], T]) -> None:
        self._initial = initial
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, instance: ThreadIsolatedEMFProvider | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        state = instance.thread_state
        try:
            return getattr(state, self._name)
        except AttributeError:
            value = self._initial(instance)
            setattr(state, self._name, value)
            return value

    def __set__(self, instance: ThreadIsolatedEMFProvider, value: T) -> None:
        setattr(instance.thread_state, self._name, value)


def _default_dimension_set(provider: ThreadIsolatedEMFProvider) -> dict[str, str]:
    return {name: str(value) for name, value in provider.default_dimensions.items()}


class ThreadIsolatedEMFProvider(AmazonCloudWatchEMFProvider):
    """Powertools' CloudWatch EMF provider whose metrics, dimensions, metadata and timestamp are per thread."""

    metric_set = _PerThread[dict[str, Any]](lambda provider: {})
    dimension_set = _PerThread[dict[str, str]](_default_dimension_set)
    dimension_sets = _PerThread[list[dict[str, str]]](lambda provider: [])
    metadata_set = _PerThread[dict[str, Any]](lambda provider: {})
    timestamp = _PerThread[int | None](lambda provider: None)

    def __init__(self, *, namespace: str | None, service: str | None, default_dimensions: dict[str, Any]) -> None:
        self.thread_state = threading.local()
        super().__init__(namespace=namespace, service=service, default_dimensions=default_dimensions)


def isolate_metrics(metrics: Metrics) -> Callable[[], None]:
    """Give ``metrics`` a :class:`ThreadIsolatedEMFProvider` (same namespace, service and default dimensions); returns
    the function that puts its provider back.

    Handlers decorated with ``metrics.log_metrics`` bind the provider of the moment they are decorated: isolate before
    the handler modules are loaded (the local runtime does, before it installs the Lambda bridge).
    """
    original = metrics.provider
    if isinstance(original, ThreadIsolatedEMFProvider):
        return lambda: None
    metrics.provider = ThreadIsolatedEMFProvider(
        namespace=original.namespace, service=original.service, default_dimensions=original.default_dimensions
    )

    def restore() -> None:
        metrics.provider = original

    return restore
