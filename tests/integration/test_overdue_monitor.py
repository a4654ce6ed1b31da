"""The overdue-tasks monitor counts each department's tasks past their due date (the alarm's metric)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from infra.local.runtime import LocalRuntime
from omnicity.adapters.tasks import TaskRepository
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.domain.models import AgentTask, LocalizedText, TaskStatus
from tests.conftest import ROOT


def task(task_id: str, department: str, due_on: date, status: TaskStatus = TaskStatus.OPEN) -> AgentTask:
    return AgentTask(
        task_id=task_id,
        case_id=f"case-{task_id}",
        reference="BXL-2026-000001",
        procedure_id="public-space-alert",
        department=department,
        kind="field",
        outcomes=["fixed", "not_found"],
        instructions=LocalizedText(fr="x", nl="x", en="x"),
        status=status,
        created_at=datetime(2026, 11, 2, tzinfo=UTC),
        due_on=due_on,
        task_token="token",
    )


def test_the_monitor_counts_overdue_open_and_claimed_tasks_per_department(runtime: LocalRuntime) -> None:
    # Given roads tasks: one overdue and open, one overdue and claimed, one due in the future, one overdue but done
    tasks = TaskRepository(next(iter(runtime.description.tables.values())).name, retention=retention_days_of)
    tasks.open(task("t1", "roads", date(2026, 11, 20)))
    tasks.open(task("t2", "roads", date(2026, 11, 25), TaskStatus.CLAIMED))
    tasks.open(task("t3", "roads", date(2099, 1, 1)))
    tasks.open(task("t4", "roads", date(2026, 11, 1), TaskStatus.COMPLETED))
    # When the scheduled monitor runs with its sample event
    scheduled = json.loads((ROOT / "events" / "monitor_overdue_tasks.json").read_text())
    result = runtime.bridge.invoke_function("MonitorOverdueTasksFunction", scheduled)
    # Then roads has two overdue tasks, and every department a task can be queued for is reported
    assert result["overdue"]["roads"] == 2
    assert set(result["overdue"]) == set(get_catalogue().departments())
    assert result["total"] >= 2
    assert tasks.count_overdue("roads", today=date(2026, 11, 21)) == 1


def test_a_closed_task_expires_with_its_procedures_retention_and_an_open_one_never(runtime: LocalRuntime) -> None:
    import boto3

    table = next(iter(runtime.description.tables.values())).name
    tasks = TaskRepository(table, retention=retention_days_of)
    opened = tasks.open(task("t-ret-1", "cleanliness", date(2026, 12, 1)))
    done = tasks.save(
        opened.model_copy(update={"status": TaskStatus.COMPLETED, "completed_at": datetime(2026, 12, 1, tzinfo=UTC)})
    )

    def stored(task_id: str) -> dict[str, object]:
        key = {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": "TASK"}}
        return dict(boto3.client("dynamodb").get_item(TableName=table, Key=key)["Item"])

    retention = get_catalogue().get("public-space-alert").retention_days
    expected = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp()) + retention * 86400
    assert stored(done.task_id)["expires_at"] == {"N": str(expected)}
    assert tasks.get(done.task_id).status is TaskStatus.COMPLETED
    tasks.open(task("t-ret-2", "cleanliness", date(2026, 12, 1)))
    assert "expires_at" not in stored("t-ret-2")
