"""The agents' desk: their departments' task queues (in due order, overdue first), claiming, releasing and handing
over a task, and completing it, which resumes the waiting workflow.

Claiming is optional: an agent may complete a task that nobody claimed, or one they claimed; a task another agent
claimed is theirs (409) until they release it or hand it over. Only the agent who claimed a task releases it; an
agent hands over (reassigns) a task they claimed, or one nobody claimed, to another agent of the task's department,
named by the id their tokens carry: the agents' directory (``omnicity.adapters.agents``) must know that agent and their
department, otherwise the hand-over is refused (422 on ``agent``) and the task stays as it was. Every change is a
conditional write on the task's version: of two agents claiming (or completing) a task at once, exactly one wins,
the other gets 409.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from omnicity.adapters.agents import AgentDirectory
from omnicity.adapters.executions import WorkflowResumer
from omnicity.adapters.tasks import TaskRepository, task_id_for
from omnicity.application.views import CompleteTaskRequest, ReassignTaskRequest, TaskList, TaskView
from omnicity.catalogue import Catalogue
from omnicity.domain.errors import (
    CaseCancelledError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
    field_error,
)
from omnicity.domain.identity import Principal
from omnicity.domain.models import AgentTask, Role, TaskStatus, today_in_brussels
from omnicity.observability import logger


class AgentDesk:
    """``agents``: the directory a hand-over asks who may take a task."""

    def __init__(
        self,
        tasks: TaskRepository,
        catalogue: Catalogue,
        resumer: WorkflowResumer,
        *,
        agents: AgentDirectory,
    ) -> None:
        self._tasks = tasks
        self._catalogue = catalogue
        self._resumer = resumer
        self._agents = agents

    def queue(
        self,
        principal: Principal,
        department: str,
        status: TaskStatus,
        limit: int = 50,
        *,
        procedure_id: str | None = None,
        overdue: bool | None = None,
        today: date | None = None,
    ) -> TaskList:
        """A department's tasks in ``status``: overdue first, then by due date, then oldest (one Query)."""
        self._require_agent(principal)
        if department not in principal.departments:
            raise ForbiddenError(f"you are not an agent of the {department!r} department")
        today = today or today_in_brussels()
        tasks = self._tasks.queue(department, status, limit, procedure_id=procedure_id, overdue=overdue, today=today)
        return TaskList(items=[TaskView.of(task, today) for task in tasks])

    def claim(self, principal: Principal, task_id: str) -> TaskView:
        """Take an open task: it leaves the open queue for the claimed one, in this agent's name. Claiming a task
        one already holds changes nothing."""
        self._require_agent(principal)
        task = self._task_of_my_departments(principal, task_id)
        if task.status is TaskStatus.CLAIMED and task.claimed_by == principal.actor:
            return TaskView.of(task)
        if task.status is not TaskStatus.OPEN:
            raise ConflictError(f"task {task_id} is already {task_state(task)}")
        claimed = self._tasks.save(_claimed(task, principal.actor))
        logger.info("task claimed", extra={"task_id": task_id, "agent": principal.actor})
        return TaskView.of(claimed)

    def release(self, principal: Principal, task_id: str) -> TaskView:
        """Give a task one claimed back to the open queue (only the agent who claimed it)."""
        self._require_agent(principal)
        task = self._task_of_my_departments(principal, task_id)
        if task.status is not TaskStatus.CLAIMED or task.claimed_by != principal.actor:
            raise ConflictError(f"task {task_id} is {task_state(task)}: only the agent who claimed it releases it")
        released = self._tasks.save(
            task.model_copy(update={"status": TaskStatus.OPEN, "claimed_by": None, "claimed_at": None})
        )
        logger.info("task released", extra={"task_id": task_id, "agent": principal.actor})
        return TaskView.of(released)

    def reassign(self, principal: Principal, task_id: str, request: ReassignTaskRequest) -> TaskView:
        """Hand a task one claimed (or nobody's) to another agent of its department: it is theirs, claimed in their
        name. An id the directory does not know as an agent of the task's department is refused (422 on ``agent``)
        before anything is written: the task stays as it was, claimable."""
        self._require_agent(principal)
        task = self._task_of_my_departments(principal, task_id)
        if not task.status.awaits_agent or (task.status is TaskStatus.CLAIMED and task.claimed_by != principal.actor):
            raise ConflictError(f"task {task_id} is {task_state(task)}: it is not yours to hand over")
        departments = self._agents.departments_of(request.agent)
        if departments is None or task.department not in departments:
            reason = f"must be the id of an agent of the {task.department!r} department"
            raise ValidationFailedError("no such agent to hand the task to", [field_error("agent", reason)])
        reassigned = self._tasks.save(_claimed(task, f"{Role.AGENT.value}:{request.agent}"))
        logger.info("task reassigned", extra={"task_id": task_id, "agent": principal.actor, "to": request.agent})
        return TaskView.of(reassigned)

    def complete(self, principal: Principal, task_id: str, request: CompleteTaskRequest) -> TaskView:
        """Record the decision (exactly one agent wins a race), then resume the workflow with it. The task is
        nobody's or this agent's: one another agent claimed is 409. A task waiting for the citizen's answer can be
        decided too (the agent decides without it, e.g. a refusal after no answer): the case's clock restarts.
        The workflow gets the task's id and the outcome; the comment stays on the task (see WorkflowResumer)."""
        self._require_agent(principal)
        task = self._task_of_my_departments(principal, task_id)
        if not task.status.is_pending:
            raise ConflictError(f"task {task_id} is already {task.status.value}")
        if task.claimed_by is not None and task.claimed_by != principal.actor:
            raise ConflictError(f"task {task_id} is {task_state(task)}")
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
        try:
            self._resumer.resume(task.task_token, task.task_id, request.outcome)
        except Exception:
            # The workflow did not take the decision: the task is again as it was (open, or claimed by the same agent)
            # so it can be decided again, then re-raise.
            self._tasks.save(task.model_copy(update={"version": completed.version}))
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
        if not task.status.is_pending:
            return
        update = {"status": TaskStatus.CANCELLED, "completed_at": datetime.now(UTC), "completed_by": actor}
        try:
            self._tasks.save(task.model_copy(update=update))
        except ConflictError:
            return
        self._resumer.fail(task.task_token, CaseCancelledError.__name__, "the citizen cancelled the case")
        logger.info("task withdrawn", extra={"task_id": task.task_id, "case_id": case_id})

    def _task_of_my_departments(self, principal: Principal, task_id: str) -> AgentTask:
        return task_of_departments(self._tasks, principal, task_id)

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
        require_agent(principal)


def task_of_departments(tasks: TaskRepository, principal: Principal, task_id: str) -> AgentTask:
    """The task if it is in one of the agent's departments; otherwise the same 404 as no task at all."""
    try:
        task = tasks.get(task_id)
    except NotFoundError:
        raise NotFoundError(f"no task {task_id!r}") from None
    if task.department not in principal.departments:
        raise NotFoundError(f"no task {task_id!r}")
    return task


def require_agent(principal: Principal) -> None:
    if principal.role is not Role.AGENT:
        raise ForbiddenError("only agents work on tasks")


def _claimed(task: AgentTask, agent: str) -> AgentTask:
    return task.model_copy(update={"status": TaskStatus.CLAIMED, "claimed_by": agent, "claimed_at": datetime.now(UTC)})


def task_state(task: AgentTask) -> str:
    """How a task stands, for a 409's message: ``claimed by agent:...``, ``open``, ``completed``..."""
    if task.status is TaskStatus.WAITING_CITIZEN:
        return "waiting for the citizen's answer"
    return f"claimed by {task.claimed_by}" if task.status is TaskStatus.CLAIMED else task.status.value
