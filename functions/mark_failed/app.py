"""Workflow step (the Catch target of every task): mark the case failed with the reason, so no case is lost."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.slots import SlotBook
from omnicity.adapters.tasks import TaskRepository
from omnicity.application.steps import FailedStep, parse
from omnicity.application.workflow import Failures
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.config import CoreSettings, load_settings
from omnicity.domain.models import Case
from omnicity.observability import logger, metrics, tracer

settings = load_settings(CoreSettings)
failures = Failures(
    CaseRepository(settings.table_name, retention=retention_days_of),
    get_catalogue(),
    TaskRepository(settings.table_name, retention=retention_days_of),
    SlotBook(settings.table_name),
)


def count_failure(case: Case) -> None:
    """One case failed (once: the execution-ended event that follows our own Fail state counts nothing more)."""
    metrics.add_metric(name="CasesFailed", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(FailedStep, event)
    case = failures.mark_failed(step.case_id, step.error.error, step.error.cause, on_failed=count_failure)
    return {"case_id": case.case_id, "status": case.status.value}
