"""Workflow step: close the case as completed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.application.steps import CaseStep, parse
from omnicity.application.workflow import Completion
from omnicity.catalogue import retention_days_of
from omnicity.config import CoreSettings, load_settings
from omnicity.domain.models import Case
from omnicity.observability import SERVICE, logger, metrics, tracer

settings = load_settings(CoreSettings)
completion = Completion(CaseRepository(settings.table_name, retention=retention_days_of))


def count_delivery(case: Case) -> None:
    """One product delivered (once per case: a retried step delivers nothing more), by procedure and channel
    together, and by each alone (EMF dimension sets, each with ``service``: what the dashboard sums)."""
    metrics.add_dimension(name="procedure", value=case.procedure_id)
    metrics.add_dimension(name="channel", value=case.channel.value)
    metrics.add_dimensions(service=SERVICE, procedure=case.procedure_id)
    metrics.add_dimensions(service=SERVICE, channel=case.channel.value)
    metrics.add_metric(name="ProductsDelivered", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(CaseStep, event)
    case = completion.complete(step.case_id, on_delivered=count_delivery)
    return {"case_id": case.case_id, "status": case.status.value}
