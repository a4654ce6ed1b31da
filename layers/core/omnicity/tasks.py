"""Agent tasks: the human steps of the workflows, queued per department (same single table as the cases).

=================================  =================================================  ==========================
pattern                            key                                                operation
=================================  =================================================  ==========================
a task by id                       pk=TASK#<task_id>, sk=TASK                         GetItem (consistent)
a department's tasks by status,    gsi2pk=QUEUE#<department>#<status>,                Query gsi2, ascending
oldest first                       gsi2sk=<created_at>#<task_id>
=================================  =================================================  ==========================

A task's id is derived from its case and step, so a retried step finds the task it already opened. Completing a
task is a conditional write on its version: of two agents completing the same task at once, exactly one wins.
"""

from __future__ import annotations

import uuid
from typing import Any

from omnicity import aws
from omnicity.dynamo import ConditionFailedError, call, from_attributes, to_attributes
from omnicity.errors import ConflictError, NotFoundError
from omnicity.models import AgentTask, TaskStatus

TASK_SK = "TASK"
QUEUE_INDEX = "gsi2"
_KEY_ATTRIBUTES = ("pk", "sk", "type", "gsi2pk", "gsi2sk")
_NAMESPACE = uuid.UUID("9d3f0c52-1b7e-4a8e-8f4a-2c6d5e0b7a13")


def task_id_for(case_id: str, step: str) -> str:
    return "task-" + uuid.uuid5(_NAMESPACE, f"{case_id}/{step}").hex[:20]


class TaskRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.dynamodb()
        return self._client

    def open(self, task: AgentTask) -> AgentTask:
        """Store a new open task; a task that already exists (a retried step) is returned as it is."""
        stored = task.model_copy(update={"version": 1})
        try:
            call(
                self.client,
                "put_item",
                TableName=self._table,
                Item=self._item(stored),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConditionFailedError:
            return self.get(task.task_id)
        return stored

    def get(self, task_id: str) -> AgentTask:
        response = call(
            self.client,
            "get_item",
            TableName=self._table,
            Key={"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": TASK_SK}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            raise NotFoundError(f"no task {task_id!r}")
        return AgentTask.model_validate(from_attributes(item, _KEY_ATTRIBUTES))

    def save(self, task: AgentTask) -> AgentTask:
        """Write the task if nobody changed it since it was read; the loser of a race gets ConflictError."""
        stored = task.model_copy(update={"version": task.version + 1})
        try:
            call(
                self.client,
                "put_item",
                TableName=self._table,
                Item=self._item(stored),
                ConditionExpression="#version = :read_version",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":read_version": {"N": str(task.version)}},
            )
        except ConditionFailedError:
            raise ConflictError(f"task {task.task_id} was changed by someone else") from None
        return stored

    def queue(self, department: str, status: TaskStatus, limit: int = 50) -> list[AgentTask]:
        response = call(
            self.client,
            "query",
            TableName=self._table,
            IndexName=QUEUE_INDEX,
            KeyConditionExpression="gsi2pk = :queue",
            ExpressionAttributeValues={":queue": {"S": f"QUEUE#{department}#{status.value}"}},
            ScanIndexForward=True,
            Limit=max(1, min(limit, 100)),
        )
        return [AgentTask.model_validate(from_attributes(item, _KEY_ATTRIBUTES)) for item in response.get("Items", [])]

    def _item(self, task: AgentTask) -> dict[str, Any]:
        item = to_attributes(task.model_dump(mode="json"))
        item.update(
            {
                "pk": {"S": f"TASK#{task.task_id}"},
                "sk": {"S": TASK_SK},
                "type": {"S": "task"},
                "gsi2pk": {"S": f"QUEUE#{task.department}#{task.status.value}"},
                "gsi2sk": {"S": f"{task.created_at.isoformat()}#{task.task_id}"},
            }
        )
        return item
