"""Workflow step (a ``.waitForTaskToken`` Task): order a new PIN/PUK letter for the applicant's active card.

The card producer mails it to the holder's registered address; the execution waits until the producer confirms the
dispatch (SendTaskSuccess on the token handed over here). A retried attempt places no second order.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.card_producer import get_card_producer
from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.registries import get_registers
from omnicity.application.card_order import PinLetterOrders
from omnicity.application.steps import OpenTaskStep, parse
from omnicity.catalogue import retention_days_of
from omnicity.config import CoreSettings, load_settings
from omnicity.observability import logger, tracer

settings = load_settings(CoreSettings)
orders = PinLetterOrders(
    CaseRepository(settings.table_name, retention=retention_days_of), get_registers().cards, get_card_producer()
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(OpenTaskStep, event)
    order_id = orders.order_pin_letter(step.case_id, step.task_token)
    return {"case_id": step.case_id, "order_id": order_id}
