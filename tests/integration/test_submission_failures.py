"""A workflow that cannot be started never leaves a case ``submitted`` forever: Submissions.submit against the real
repository (moto, the template's table) with a tiny Step Functions client that fails."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.documents import Uploads
from omnicity.adapters.executions import WorkflowStarter
from omnicity.adapters.slots import SlotBook
from omnicity.application.submissions import Submissions
from omnicity.application.views import SubmitCaseRequest
from omnicity.catalogue import get_catalogue
from omnicity.domain.errors import TransientError
from omnicity.domain.identity import Principal
from omnicity.domain.models import CaseStatus, Channel, Language, Role
from omnicity.domain.nrn import make_nrn
from tests.fakes import NoLimit

_sequence = count(401)
URL = "https://states.eu-west-1.amazonaws.com"


class StepFunctions:
    """Just enough of a Step Functions client: ``start_execution`` raises ``error``, or records the call."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.started: list[dict[str, Any]] = []

    def start_execution(self, **request: Any) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.started.append(request)
        return {"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:m:x"}


def service(repository: CaseRepository, client: StepFunctions) -> Submissions:
    uploads = Uploads("unused")
    return Submissions(
        repository,
        get_catalogue(),
        WorkflowStarter(lambda _family: "arn:aws:states:eu-west-1:123456789012:stateMachine:m", client),
        SlotBook("unused"),
        uploads,
        NoLimit(),
    )


def new_citizen() -> Principal:
    """A citizen with no case yet, so their listing shows exactly what this test stored."""
    nrn = make_nrn(date(1970, 1, 1), next(_sequence))
    return Principal(role=Role.CITIZEN, subject=nrn, channel=Channel.PORTAL, nrn=nrn)


REQUEST = SubmitCaseRequest(procedure_id="residence-certificate", language=Language.NL, form={"purpose": "housing"})


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "from AWS"}}, "StartExecution")


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (EndpointConnectionError(endpoint_url=URL), "EndpointConnectionError"),
        (ReadTimeoutError(endpoint_url=URL), "ReadTimeoutError"),
        (refused("ThrottlingException"), "ThrottlingException"),
        (refused("AccessDeniedException"), "AccessDeniedException"),
        (refused("StateMachineDoesNotExist"), "StateMachineDoesNotExist"),
        (NoCredentialsError(), "NoCredentialsError"),
    ],
    ids=["unreachable", "read-timeout", "throttled", "access-denied", "no-state-machine", "no-credentials"],
)
def test_a_workflow_that_cannot_start_leaves_the_case_failed(
    repository: CaseRepository, error: Exception, named: str
) -> None:
    # Given Step Functions that cannot be reached, throttles, refuses, or cannot even be signed for
    citizen = new_citizen()
    cases = service(repository, StepFunctions(error))
    # When a citizen submits a case
    with pytest.raises(TransientError) as raised:
        cases.submit(citizen, REQUEST)
    # Then the caller is told to retry later (503), caused by the AWS error...
    assert raised.value.http_status == 503
    assert raised.value.__cause__ is error
    # ...and the stored case is failed, with the technical cause for agents and a reason for the citizen
    [case], _ = repository.list_for_citizen(citizen.nrn or "")
    assert case.status is CaseStatus.FAILED
    assert case.failure is not None
    assert case.failure.error == "WorkflowNotStarted"
    assert case.failure.step == "submit"
    assert named in case.failure.cause
    assert case.reason is not None
    assert [entry.event for entry in case.timeline] == ["submitted", "failed"]


def test_an_execution_that_already_exists_is_a_successful_start(repository: CaseRepository) -> None:
    # Given a start that finds the case's execution already running (a retried start)
    citizen = new_citizen()
    error = ClientError({"Error": {"Code": "ExecutionAlreadyExists", "Message": "exists"}}, "StartExecution")
    # When the case is submitted
    created = service(repository, StepFunctions(error)).submit(citizen, REQUEST)
    # Then the case stays submitted, for the running workflow to move
    assert created.status is CaseStatus.SUBMITTED
    assert repository.get(created.case_id).status is CaseStatus.SUBMITTED


def test_a_started_workflow_is_named_after_the_case(repository: CaseRepository) -> None:
    client = StepFunctions()
    created = service(repository, client).submit(new_citizen(), REQUEST)
    assert [request["name"] for request in client.started] == [created.case_id]
    assert repository.get(created.case_id).status is CaseStatus.SUBMITTED
