"""Workflow step: record the agent's decision on the case (approved: go on; refused: rejected with the reason)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.tasks import TaskRepository
from omnicity.application.steps import DecisionStep, parse
from omnicity.application.workflow import HumanSteps
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.config import CoreSettings, load_settings
from omnicity.observability import logger, tracer

settings = load_settings(CoreSettings)
human_steps = HumanSteps(
    CaseRepository(settings.table_name, retention=retention_days_of),
    get_catalogue(),
    TaskRepository(settings.table_name, retention=retention_days_of),
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(DecisionStep, event)
    decided = human_steps.record_decision(step.case_id, step.decision.task_id, step.decision.outcome)
    return {"case_id": step.case_id, "decision": decided}
