"""Agent tasks: the human steps of the workflows, queued per department (same single table as the cases).

=================================  =================================================  ==========================
pattern                            key                                                operation
=================================  =================================================  ==========================
a task by id                       pk=TASK#<task_id>, sk=TASK                         GetItem (consistent)
a department's tasks by status     gsi2pk=QUEUE#<department>#<status>,                Query gsi2, ascending
(open, claimed, completed...),     gsi2sk=<due_on>#<created_at>#<task_id>
overdue first, then by due date,
then oldest
... only the overdue ones          the same, and gsi2sk < <today>                     key condition on gsi2sk
... only those not overdue         the same, and gsi2sk >= <today>                    key condition on gsi2sk
how many overdue (monitoring)      the same, gsi2sk < <today>, open and claimed      Query Select=COUNT
... of one procedure               the same, FilterExpression procedure_id = :p       Query page after page until
                                                                                  ``limit`` tasks (no Scan)
=================================  =================================================  ==========================

The sort key starts with the task's due date (``due_on``, the case's SLA due date, ``omnicity.domain.sla``): one Query
returns a queue in due order, and the overdue tasks (due before today in Brussels) come first because they are due
earliest. A task without a due date sorts last (``9999-12-31``).

A task's id is derived from its case and step, so a retried step finds the task it already opened. Every change of
a task (claim, release, reassign, complete) is a conditional write on its version: of two agents claiming or
completing the same task at once, exactly one wins, the other gets ConflictError (409). Claiming moves the task from
the ``open`` queue to the ``claimed`` one (its ``gsi2pk`` changes with its status).

A task leaves the open and claimed queues for good when it is decided (``completed``), or closed undecided with its
case: ``cancelled`` (the citizen cancelled), ``failed`` (the case failed:
``omnicity.application.workflow.Failures.mark_failed`` closes it in the transaction that fails the case, with an entry
in the case's audit trail).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from omnicity.adapters.audit import Retention
from omnicity.adapters.dynamo import ConditionFailedError, TableRepository, call, from_attributes, pages, to_attributes
from omnicity.domain.errors import ConflictError, NotFoundError
from omnicity.domain.models import AgentTask, TaskStatus, today_in_brussels

TASK_SK = "TASK"
QUEUE_INDEX = "gsi2"
_KEY_ATTRIBUTES = ("pk", "sk", "type", "gsi2pk", "gsi2sk", "expires_at")
NO_DUE_DATE = date(9999, 12, 31)
_NAMESPACE = uuid.UUID("9d3f0c52-1b7e-4a8e-8f4a-2c6d5e0b7a13")


def queue_position(task: AgentTask) -> str:
    """Where a task sorts in its queue: by due date, then creation, then id."""
    return f"{(task.due_on or NO_DUE_DATE).isoformat()}#{task.created_at.isoformat()}#{task.task_id}"


def task_id_for(case_id: str, step: str) -> str:
    return "task-" + uuid.uuid5(_NAMESPACE, f"{case_id}/{step}").hex[:20]


def closed_undecided(task: AgentTask, status: TaskStatus, at: datetime, actor: str) -> AgentTask:
    """The task closed without a decision because its case ended (``cancelled``, ``failed``): out of the open and
    claimed queues (into the ``status`` one), never overdue, kept as long as its case."""
    if status.is_pending or status is TaskStatus.COMPLETED:
        raise ValueError(f"a task is not closed undecided as {status.value}")
    return task.model_copy(update={"status": status, "completed_at": at, "completed_by": actor})


class TaskRepository(TableRepository):
    def __init__(self, table_name: str, client: Any | None = None, *, retention: Retention) -> None:
        super().__init__(table_name, client)
        self._retention = retention  # procedure id -> days a closed task is kept

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

    def save(self, task: AgentTask, along: Sequence[dict[str, Any]] = ()) -> AgentTask:
        """Write the task if nobody changed it since it was read; the loser of a race gets ConflictError.

        ``along``: TransactWriteItems entries written in the same transaction, all or nothing (the audit entry of a
        task closed with its case)."""
        put, stored = self.conditional_put(task)
        try:
            if along:
                call(self.client, "transact_write_items", TransactItems=[{"Put": put}, *along])
            else:
                call(self.client, "put_item", **put)
        except ConditionFailedError:
            raise ConflictError(f"task {task.task_id} was changed by someone else") from None
        return stored

    def conditional_put(self, task: AgentTask) -> tuple[dict[str, Any], AgentTask]:
        """The write :meth:`save` makes (conditional on the version read), for a transaction that changes the task
        with its case (``omnicity.application.inquiries``), and the task as it is then stored."""
        stored = task.model_copy(update={"version": task.version + 1})
        put = {
            "TableName": self._table,
            "Item": self._item(stored),
            "ConditionExpression": "#version = :read_version",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":read_version": {"N": str(task.version)}},
        }
        return put, stored

    def count_overdue(self, department: str, today: date | None = None) -> int:
        """How many of a department's open or claimed tasks are due before ``today`` (COUNT queries, no items)."""
        before = (today or today_in_brussels()).isoformat()
        total = 0
        for status in (TaskStatus.OPEN, TaskStatus.CLAIMED):
            query: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": QUEUE_INDEX,
                "KeyConditionExpression": "gsi2pk = :queue AND gsi2sk < :today",
                "ExpressionAttributeValues": {
                    ":queue": {"S": f"QUEUE#{department}#{status.value}"},
                    ":today": {"S": before},
                },
                "Select": "COUNT",
            }
            total += sum(int(page.get("Count", 0)) for page in pages(self.client, query))
        return total

    def queue(
        self,
        department: str,
        status: TaskStatus,
        limit: int = 50,
        *,
        procedure_id: str | None = None,
        overdue: bool | None = None,
        today: date | None = None,
    ) -> list[AgentTask]:
        """A department's tasks in ``status``, in due order (overdue first), at most ``limit``. ``overdue``: only the
        tasks due before ``today`` (True) or only the others (False); ``procedure_id``: only that procedure's."""
        limit = max(1, min(limit, 100))
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": QUEUE_INDEX,
            "KeyConditionExpression": "gsi2pk = :queue",
            "ExpressionAttributeValues": {":queue": {"S": f"QUEUE#{department}#{status.value}"}},
            "ScanIndexForward": True,
            "Limit": limit,
        }
        if overdue is not None:
            # "<due_on>#..." < "<today>" exactly when due_on < today (same-length ISO dates compare as dates)
            query["KeyConditionExpression"] += " AND gsi2sk < :today" if overdue else " AND gsi2sk >= :today"
            query["ExpressionAttributeValues"][":today"] = {"S": (today or today_in_brussels()).isoformat()}
        if procedure_id is not None:
            query["FilterExpression"] = "procedure_id = :procedure"
            query["ExpressionAttributeValues"][":procedure"] = {"S": procedure_id}
        tasks: list[AgentTask] = []
        for page in pages(self.client, query):  # a filtered page may hold fewer tasks than asked: read on
            tasks += [AgentTask.model_validate(from_attributes(item, _KEY_ATTRIBUTES)) for item in page["Items"]]
            if len(tasks) >= limit:
                break
        return tasks[:limit]

    def _item(self, task: AgentTask) -> dict[str, Any]:
        item = to_attributes(task.model_dump(mode="json"))
        item.update(
            {
                "pk": {"S": f"TASK#{task.task_id}"},
                "sk": {"S": TASK_SK},
                "type": {"S": "task"},
                "gsi2pk": {"S": f"QUEUE#{task.department}#{task.status.value}"},
                "gsi2sk": {"S": queue_position(task)},
            }
        )
        if not task.status.is_pending:
            # A closed task is kept as long as its procedure keeps a closed case, then DynamoDB's TTL removes it.
            closed = task.completed_at or task.created_at
            retention = timedelta(days=self._retention(task.procedure_id))
            item["expires_at"] = {"N": str(int((closed + retention).timestamp()))}
        return item
