"""Workflow step (a ``.waitForTaskToken`` Task): order a new PIN/PUK letter for the applicant's active card.

The card producer mails it to the holder's registered address; the execution waits until the producer confirms the
dispatch (SendTaskSuccess on the token handed over here). A retried attempt places no second order.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.card_producer import get_card_producer
from omnicity.application.steps import OpenTaskStep, build_workflow, parse
from omnicity.observability import logger, tracer

workflow = build_workflow(producer=get_card_producer())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(OpenTaskStep, event)
    order_id = workflow.order_pin_letter(step.case_id, step.task_token)
    return {"case_id": step.case_id, "order_id": order_id}
