"""Workflow step: email the citizen about their case (document ready, rejected...) in the case's language."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.notifications import EmailSender
from omnicity.adapters.registries import get_registers
from omnicity.application.steps import NotifyStep, parse
from omnicity.application.workflow import Notifications
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.config import NotifySettings, load_settings
from omnicity.observability import logger, tracer

settings = load_settings(NotifySettings)
notifications = Notifications(
    CaseRepository(settings.table_name, retention=retention_days_of),
    get_catalogue(),
    get_registers(),
    EmailSender(settings.sender_email),
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(NotifyStep, event)
    notifications.notify(step.case_id, step.message)
    return {"case_id": step.case_id}
