"""Workflow step: record on the case that the card producer dispatched the PIN letter (its confirmation)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.application.steps import DispatchStep, build_workflow, parse
from omnicity.observability import logger, tracer

workflow = build_workflow()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(DispatchStep, event)
    outcome = workflow.record_dispatch(step.case_id, step.dispatch.order_id, step.dispatch.dispatched_on)
    return {"case_id": step.case_id, "outcome": outcome}
