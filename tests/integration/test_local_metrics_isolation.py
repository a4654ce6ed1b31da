"""The local runtime runs every function in one process: each thread flushes only the metrics it added."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from infra.local.metrics_isolation import ThreadIsolatedEMFProvider, isolate_metrics


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    shared = Metrics(namespace="Omnicity", service="omnicity")
    restore = isolate_metrics(shared)
    yield shared
    restore()
    shared.clear_metrics()


def test_a_flush_on_another_thread_neither_prints_nor_empties_this_threads_metrics(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the API's invocation has added a metric and not flushed yet
    metrics.add_metric(name="CasesSubmitted", unit=MetricUnit.Count, value=1)

    def schedule() -> None:  # a schedule's invocation on its own thread adds its metric and flushes
        metrics.add_metric(name="OverdueTasksTotal", unit=MetricUnit.Count, value=0)
        metrics.flush_metrics()

    thread = threading.Thread(target=schedule)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    schedule_lines = capsys.readouterr().out.splitlines()

    # When the API's invocation flushes in turn (before the fix: SchemaValidationError, the set had been emptied)
    metrics.flush_metrics()
    api_lines = capsys.readouterr().out.splitlines()

    # Then each flush printed exactly its own invocation's metric, once
    assert [_metric_names(line) for line in schedule_lines] == [["OverdueTasksTotal"]]
    assert [_metric_names(line) for line in api_lines] == [["CasesSubmitted"]]


def test_dimensions_added_on_one_thread_stay_on_it_and_the_defaults_reach_every_thread() -> None:
    # Given a provider with a default dimension (its own dict: Metrics' class-level defaults are left alone)
    provider = ThreadIsolatedEMFProvider(namespace="Omnicity", service="omnicity", default_dimensions={"env": "local"})
    provider.add_dimension(name="procedure", value="residence-certificate")
    seen: dict[str, str] = {}

    def other() -> None:
        seen.update(provider.dimension_set)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=10)

    assert seen == {"env": "local"}
    assert provider.dimension_set == {"env": "local", "procedure": "residence-certificate"}


def test_isolating_twice_keeps_the_first_isolation_and_restore_puts_the_original_back() -> None:
    shared = Metrics(namespace="Omnicity", service="omnicity")
    original = shared.provider
    restore = isolate_metrics(shared)
    isolated = shared.provider
    assert isinstance(isolated, ThreadIsolatedEMFProvider)
    assert (isolated.namespace, isolated.service) == ("Omnicity", "omnicity")

    isolate_metrics(shared)()  # a second isolation is a no-op, and so is its restore
    assert shared.provider is isolated

    restore()
    assert shared.provider is original


def _metric_names(line: str) -> list[str]:
    blob = json.loads(line)
    return [metric["Name"] for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
