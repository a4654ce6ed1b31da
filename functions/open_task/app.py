"""Workflow step (a ``.waitForTaskToken`` Task): queue the procedure's human step for its department.

The execution then waits until an agent completes the task through the API (SendTaskSuccess with the decision).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.tasks import TaskRepository
from omnicity.application.steps import OpenTaskStep, parse
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
    step = parse(OpenTaskStep, event)
    task = human_steps.open_task(step.case_id, step.task_token)
    return {"case_id": step.case_id, "task_id": task.task_id}
