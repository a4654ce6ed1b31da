"""Workflow step: record on the case that the card producer dispatched the PIN letter (its confirmation)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.application.card_order import PinLetterDispatches
from omnicity.application.steps import DispatchStep, parse
from omnicity.catalogue import retention_days_of
from omnicity.config import CoreSettings, load_settings
from omnicity.observability import logger, tracer

settings = load_settings(CoreSettings)
dispatches = PinLetterDispatches(CaseRepository(settings.table_name, retention=retention_days_of))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(DispatchStep, event)
    outcome = dispatches.record_dispatch(step.case_id, step.dispatch.order_id, step.dispatch.dispatched_on)
    return {"case_id": step.case_id, "outcome": outcome}
