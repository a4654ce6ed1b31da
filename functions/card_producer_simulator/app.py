"""The simulated card producer (a scheduled function): dispatch the PIN letters that are due and confirm each one to
the workflow waiting for it (SendTaskSuccess with the order id and the dispatch date). Idempotent: safe to run twice
at once or again after a crash."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.card_producer import get_simulated_card_producer
from omnicity.observability import logger, metrics, tracer

producer = get_simulated_card_producer()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    confirmed = producer.confirm_due()
    if confirmed:
        metrics.add_metric(name="PinLettersDispatched", unit="Count", value=len(confirmed))
    return {"confirmed": confirmed}
