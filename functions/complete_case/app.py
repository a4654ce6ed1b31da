"""Workflow step: close the case as completed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.observability import logger, metrics, tracer
from omnicity.steps import CaseStep, build_workflow, parse

workflow = build_workflow()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(CaseStep, event)
    case = workflow.complete(step.case_id)
    metrics.add_dimension(name="procedure", value=case.procedure_id)
    metrics.add_dimension(name="channel", value=case.channel.value)
    metrics.add_metric(name="ProductsDelivered", unit="Count", value=1)
    return {"case_id": case.case_id, "status": case.status.value}
