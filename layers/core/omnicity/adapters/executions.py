"""Step Functions: a case's workflow is started here, one execution per case, named after it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from omnicity import aws
from omnicity.domain.errors import TransientError
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
