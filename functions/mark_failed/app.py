"""Workflow step (the Catch target of every task): mark the case failed with the reason, so no case is lost."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.observability import logger, metrics, tracer
from omnicity.steps import FailedStep, build_workflow, parse

workflow = build_workflow()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(FailedStep, event)
    case = workflow.mark_failed(step.case_id, step.error.error, step.error.cause)
    metrics.add_metric(name="CasesFailed", unit="Count", value=1)
    return {"case_id": case.case_id, "status": case.status.value}
