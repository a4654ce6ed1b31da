"""Scheduled: mark failed the cases no workflow step has moved for a while (``STALLED_AFTER_MINUTES``) while they were
submitted or in progress, so that no case is left without a terminal or waiting status: an Express execution ends
without an EventBridge event when it runs past its limit or its MarkFailed gives up. One Query of the sparse in-flight
entries per round, whatever the number of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.slots import SlotBook
from omnicity.adapters.tasks import TaskRepository
from omnicity.application.workflow import Failures
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.config import StalledCasesSettings, load_settings
from omnicity.domain.models import Case
from omnicity.observability import logger, metrics, tracer

settings = load_settings(StalledCasesSettings)
failures = Failures(
    CaseRepository(settings.table_name, retention=retention_days_of),
    get_catalogue(),
    TaskRepository(settings.table_name, retention=retention_days_of),
    SlotBook(settings.table_name),
)


def count_failure(case: Case) -> None:
    metrics.add_metric(name="CasesFailed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="CasesStalled", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    after = timedelta(minutes=settings.stalled_after_minutes)
    failed = failures.fail_stalled(datetime.now(UTC), after, on_failed=count_failure)
    return {"failed": [case.case_id for case in failed]}
