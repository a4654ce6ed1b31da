"""Step Functions: a case's workflow is started here, one execution per case, named after it; an agent's decision
resumes the execution waiting on its task's token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from omnicity import aws
from omnicity.domain.errors import ConflictError, TransientError
from omnicity.domain.models import Case

StateMachineFor = Callable[[str], str]


class WorkflowStarter:
    """Starts a procedure's state machine; the execution is named after the case (one execution per case)."""

    def __init__(self, state_machine_for: StateMachineFor, client: Any | None = None) -> None:
        self._state_machine_for = state_machine_for
        self._client = client

    def check_configured(self, family: str) -> None:
        """Fail (ConfigurationError) before anything is stored when the family has no state machine."""
        self._state_machine_for(family)

    def start(self, family: str, case: Case) -> None:
        """Start the case's execution; one that already exists is a success (a retried start).

        Any AWS failure to start, transient or not, is a TransientError: the submission then records the case as
        failed instead of leaving it ``submitted`` with no workflow to move it.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        state_machine_arn = self._state_machine_for(family)
        client = self._client or aws.stepfunctions()
        try:
            client.start_execution(
                stateMachineArn=state_machine_arn,
                name=case.case_id,
                input=json.dumps({"case_id": case.case_id, "procedure_id": case.procedure_id}),
            )
        except (ClientError, BotoCoreError) as exc:
            code = aws.error_code(exc)
            if code == "ExecutionAlreadyExists":
                return
            raise TransientError(f"the workflow could not be started ({code or type(exc).__name__})") from exc


# Step Functions' answers when the token no longer belongs to a waiting execution (decided, timed out, stopped).
_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class WorkflowResumer:
    """Hands an agent's decision to the execution waiting on the task's token.

    What it sends stays in the execution's history (90 days for a Standard machine, whatever the case's retention):
    ids and codes only. The decision is the task's id and the outcome; who decided and what they wrote are on the
    task, in the table, where the workflow's step reads them
    (``omnicity.application.workflow.HumanSteps.record_decision``).
    """

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    def resume(self, task_token: str, task_id: str, outcome: str) -> None:
        from botocore.exceptions import ClientError

        client = self._client or aws.stepfunctions()
        decision = {"task_id": task_id, "outcome": outcome}
        try:
            with aws.translate_errors("Step Functions send_task_success"):
                client.send_task_success(taskToken=task_token, output=json.dumps(decision))
        except ClientError as exc:
            if aws.error_code(exc) in _GONE:
                raise ConflictError("the workflow no longer waits for this task") from exc
            raise

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """End the wait with ``error`` (the state machine's Catch matches it by name); a wait already over is fine.
        ``cause`` stays in the execution's history: a sentence of the code's, never what a person wrote."""
        from botocore.exceptions import ClientError

        client = self._client or aws.stepfunctions()
        try:
            with aws.translate_errors("Step Functions send_task_failure"):
                client.send_task_failure(taskToken=task_token, error=error, cause=cause)
        except ClientError as exc:
            if aws.error_code(exc) not in _GONE:
                raise
