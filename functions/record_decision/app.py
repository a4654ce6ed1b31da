"""Workflow step: record the agent's decision on the case (approved: go on; refused: rejected with the reason)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.application.steps import DecisionStep, build_workflow, parse
from omnicity.observability import logger, tracer

workflow = build_workflow()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(DecisionStep, event)
    decided = workflow.record_decision(step.case_id, step.decision.task_id, step.decision.outcome)
    return {"case_id": step.case_id, "decision": decided}
