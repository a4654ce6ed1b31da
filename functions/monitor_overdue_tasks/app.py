"""Scheduled: count each department's overdue agent tasks and publish them as a metric (the overdue-tasks alarm
watches it). One COUNT Query per department queue, whatever the number of cases."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.tasks import TaskRepository
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.config import CoreSettings, load_settings
from omnicity.observability import NAMESPACE, SERVICE, logger, metrics, tracer

tasks = TaskRepository(load_settings(CoreSettings).table_name, retention=retention_days_of)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    overdue = {department: tasks.count_overdue(department) for department in get_catalogue().departments()}
    for department, count in overdue.items():
        if not count:
            continue  # a department with nothing overdue publishes nothing (missing data reads as zero)
        with single_metric(name="OverdueTasks", unit=MetricUnit.Count, value=count, namespace=NAMESPACE) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            metric.add_dimension(name="department", value=department)
    metrics.add_metric(name="OverdueTasksTotal", unit="Count", value=sum(overdue.values()))
    metrics.flush_metrics()
    return {"overdue": overdue, "total": sum(overdue.values())}
