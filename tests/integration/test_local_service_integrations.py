"""The ``states:startExecution`` service integration on moto, as the local runtime installs it
(``infra.local.service_integrations``): the document machine's real hand-off state (StartReview) starts a Standard
execution named after the case in the same moto backend, and a second hand-off of an ended case is a success
(``StepFunctions.ExecutionAlreadyExistsException`` caught), never a failed case."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.runtime import FAKE_CREDENTIALS, MOTO_CONFIG, wait_for_execution
from infra.local.service_integrations import install_service_integrations, restore_service_integrations
from infra.local.template import REGION
from tests.conftest import ROOT

ROLE = "arn:aws:iam::123456789012:role/omnicity-local-states"
DOCUMENT_REQUEST = json.loads((ROOT / "statemachines" / "document_request.asl.json").read_text(encoding="utf-8"))


@pytest.fixture
def stepfunctions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    install_service_integrations()
    try:
        with mock_aws(config=MOTO_CONFIG):
            yield boto3.client("stepfunctions", region_name=REGION)
    finally:
        restore_service_integrations()


def hand_off_machine(client: Any, review_arn: str) -> str:
    """An Express machine made of the document machine's own StartReview and HandedToReview states (its MarkFailed
    replaced by a Fail state: no Lambda here), starting ``review_arn``."""
    states = DOCUMENT_REQUEST["States"]
    start_review = json.loads(json.dumps(states["StartReview"]).replace("${DocumentReviewStateMachineArn}", review_arn))
    definition = {
        "StartAt": "StartReview",
        "States": {
            "StartReview": start_review,
            "HandedToReview": states["HandedToReview"],
            "MarkFailed": {"Type": "Fail", "Error": "MarkFailed"},
        },
    }
    created = client.create_state_machine(
        name="HandOff", definition=json.dumps(definition), roleArn=ROLE, type="EXPRESS"
    )
    return str(created["stateMachineArn"])


def review_machine(client: Any) -> str:
    definition = {"StartAt": "Review", "States": {"Review": {"Type": "Pass", "End": True}}}
    created = client.create_state_machine(name="Review", definition=json.dumps(definition), roleArn=ROLE)
    return str(created["stateMachineArn"])


def run(client: Any, machine: str, name: str, execution_input: dict[str, Any]) -> dict[str, Any]:
    started = client.start_execution(stateMachineArn=machine, name=name, input=json.dumps(execution_input))
    return wait_for_execution(started["executionArn"], timeout=10, client=client)


def test_the_hand_off_starts_the_review_execution_named_after_the_case(stepfunctions: Any) -> None:
    # Given the review machine and the Express hand-off
    review = review_machine(stepfunctions)
    hand_off = hand_off_machine(stepfunctions, review)
    # When a case is handed off
    handed = run(stepfunctions, hand_off, "case-1", {"case_id": "case-1", "outcome": "review"})
    # Then the hand-off succeeded, and the review execution runs under the case's name with the case id as input
    assert handed["status"] == "SUCCEEDED", handed
    assert json.loads(handed["output"]) == {"case_id": "case-1", "outcome": "review"}  # ResultPath null
    review_execution = review.replace(":stateMachine:", ":execution:") + ":case-1"
    ended = wait_for_execution(review_execution, timeout=10, client=stepfunctions)
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["input"]) == {"case_id": "case-1"}


def test_handing_off_a_case_already_in_review_is_a_success(stepfunctions: Any) -> None:
    # Given a case whose review execution already ran
    review = review_machine(stepfunctions)
    hand_off = hand_off_machine(stepfunctions, review)
    assert run(stepfunctions, hand_off, "first", {"case_id": "case-2"})["status"] == "SUCCEEDED"
    # When it is handed off again (an Express execution is at-least-once: the step can run twice)
    again = run(stepfunctions, hand_off, "second", {"case_id": "case-2"})
    # Then Step Functions refused the second start, and the hand-off took that as done: no failed case
    assert again["status"] == "SUCCEEDED", again
    history = stepfunctions.get_execution_history(executionArn=again["executionArn"])["events"]
    failures = [event["taskFailedEventDetails"]["error"] for event in history if event["type"] == "TaskFailed"]
    assert failures == ["StepFunctions.ExecutionAlreadyExistsException"]
    assert len(stepfunctions.list_executions(stateMachineArn=review)["executions"]) == 1


def test_restoring_puts_moto_s_own_integration_back(stepfunctions: Any) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    mapped = ("_normalise_parameters", "_normalise_response")
    # Given the installed mapping
    assert {getattr(StateTaskServiceSfn, name).__module__ for name in mapped} == {"infra.local.service_integrations"}
    # When it is restored, then moto's own methods are back
    restore_service_integrations()
    assert all(getattr(StateTaskServiceSfn, name).__module__.startswith("moto.") for name in mapped)
    # ...and installing it again maps again (once: a second install changes nothing)
    install_service_integrations()
    install_service_integrations()
    review = review_machine(stepfunctions)
    assert run(stepfunctions, hand_off_machine(stepfunctions, review), "c3", {"case_id": "c3"})["status"] == "SUCCEEDED"
    restore_service_integrations()
    assert all(getattr(StateTaskServiceSfn, name).__module__.startswith("moto.") for name in mapped)
