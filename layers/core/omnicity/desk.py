"""The agents' desk: their departments' task queues, and completing a task, which resumes the waiting workflow."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from omnicity import aws
from omnicity.catalogue import Catalogue
from omnicity.errors import (
    CaseCancelledError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
    field_error,
)
from omnicity.identity import Principal
from omnicity.models import AgentTask, Role, TaskStatus
from omnicity.observability import logger
from omnicity.tasks import TaskRepository, task_id_for
from omnicity.views import CompleteTaskRequest, TaskList, TaskView

# Step Functions' answers when the token no longer belongs to a waiting execution (decided, timed out, stopped).
_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class WorkflowResumer:
    """Hands an agent's decision to the execution waiting on the task's token."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    def resume(self, task_token: str, decision: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        client = self._client or aws.stepfunctions()
        try:
            with aws.translate_errors("Step Functions send_task_success"):
                client.send_task_success(taskToken=task_token, output=json.dumps(decision))
        except ClientError as exc:
            if aws.error_code(exc) in _GONE:
                raise ConflictError("the workflow no longer waits for this task") from exc
            raise

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """End the wait with ``error`` (the state machine's Catch matches it by name); a wait already over is fine."""
        from botocore.exceptions import ClientError

        client = self._client or aws.stepfunctions()
        try:
            with aws.translate_errors("Step Functions send_task_failure"):
                client.send_task_failure(taskToken=task_token, error=error, cause=cause)
        except ClientError as exc:
            if aws.error_code(exc) not in _GONE:
                raise


class AgentDesk:
    def __init__(self, tasks: TaskRepository, catalogue: Catalogue, resumer: WorkflowResumer) -> None:
        self._tasks = tasks
        self._catalogue = catalogue
        self._resumer = resumer

    def queue(self, principal: Principal, department: str, status: TaskStatus, limit: int = 50) -> TaskList:
        self._require_agent(principal)
        if department not in principal.departments:
            raise ForbiddenError(f"you are not an agent of the {department!r} department")
        return TaskList(items=[TaskView.of(task) for task in self._tasks.queue(department, status, limit)])

    def complete(self, principal: Principal, task_id: str, request: CompleteTaskRequest) -> TaskView:
        """Record the decision (exactly one agent wins a race), then resume the workflow with it."""
        self._require_agent(principal)
        task = self._task_of_my_departments(principal, task_id)
        if task.status is not TaskStatus.OPEN:
            raise ConflictError(f"task {task_id} is already {task.status.value}")
        self._check_decision(task, request)
        completed = self._tasks.save(
            task.model_copy(
                update={
                    "status": TaskStatus.COMPLETED,
                    "completed_at": datetime.now(UTC),
                    "completed_by": principal.actor,
                    "outcome": request.outcome,
                    "comment": request.comment,
                }
            )
        )
        decision = {"outcome": request.outcome, "agent": principal.actor, "comment": request.comment}
        try:
            self._resumer.resume(task.task_token, decision)
        except Exception:
            # The workflow did not take the decision: reopen the task so it can be decided again, then re-raise.
            self._tasks.save(completed.model_copy(update=_REOPENED))
            raise
        logger.info("task completed", extra={"task_id": task_id, "outcome": request.outcome})
        return TaskView.of(completed)

    def withdraw(self, case_id: str, kind: str, actor: str) -> None:
        """The case was cancelled: its open task (if the workflow opened one) leaves the queue, and the workflow
        waiting on it ends (``CaseCancelledError``, caught by the state machine). A task an agent is deciding at that
        very moment stays theirs: the workflow takes the decision and finds the case cancelled."""
        try:
            task = self._tasks.get(task_id_for(case_id, kind))
        except NotFoundError:
            return  # not opened yet: the workflow finds the case cancelled and ends by itself
        if task.status is not TaskStatus.OPEN:
            return
        update = {"status": TaskStatus.CANCELLED, "completed_at": datetime.now(UTC), "completed_by": actor}
        try:
            self._tasks.save(task.model_copy(update=update))
        except ConflictError:
            return
        self._resumer.fail(task.task_token, CaseCancelledError.__name__, "the citizen cancelled the case")
        logger.info("task withdrawn", extra={"task_id": task.task_id, "case_id": case_id})

    def _task_of_my_departments(self, principal: Principal, task_id: str) -> AgentTask:
        """The task if it is in one of the agent's departments; otherwise the same 404 as no task at all."""
        try:
            task = self._tasks.get(task_id)
        except NotFoundError:
            raise NotFoundError(f"no task {task_id!r}") from None
        if task.department not in principal.departments:
            raise NotFoundError(f"no task {task_id!r}")
        return task

    @staticmethod
    def _check_decision(task: AgentTask, request: CompleteTaskRequest) -> None:
        problems = []
        if request.outcome not in task.outcomes:
            problems.append(field_error("outcome", f"must be one of: {', '.join(task.outcomes)}"))
        needs_comment = task.comment_required or request.outcome not in task.approving
        if needs_comment and not (request.comment or "").strip():
            problems.append(field_error("comment", "required: say why, the citizen will read it"))
        if problems:
            raise ValidationFailedError("the decision is incomplete", problems)

    @staticmethod
    def _require_agent(principal: Principal) -> None:
        if principal.role is not Role.AGENT:
            raise ForbiddenError("only agents work on tasks")


_REOPENED: dict[str, Any] = {
    "status": TaskStatus.OPEN,
    "completed_at": None,
    "completed_by": None,
    "outcome": None,
    "comment": None,
}
