"""The document request family on two machines: a certificate issued at once runs on the Express machine only; a case
an agent decides runs there, then on the Standard review machine (both executions named after the case); a step that
fails for good on the Express path still ends the case failed (Catch -> MarkFailed)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime, wait_for_execution
from tests.conftest import ELISE, Api

HUGO = "72030324138"  # fictional; his criminal record holds entries: an agent decides his extract
DOCUMENT = "DocumentRequestStateMachine"
REVIEW = "DocumentReviewStateMachine"


def executions_of(runtime: LocalRuntime, case_id: str) -> dict[str, dict[str, Any]]:
    """The case's executions, by machine (moto describes Express executions; AWS keeps no record of them)."""
    stepfunctions = boto3.client("stepfunctions")
    found = {}
    for machine in runtime.description.state_machines.values():
        for execution in stepfunctions.list_executions(stateMachineArn=machine.arn)["executions"]:
            if execution["name"] == case_id:
                found[machine.logical_id] = stepfunctions.describe_execution(executionArn=execution["executionArn"])
    return found


def machine_type(runtime: LocalRuntime, logical_id: str) -> str:
    arn = runtime.description.state_machines[logical_id].arn
    return str(boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["type"])


def submit(api: Api, token: str, procedure_id: str, form: dict[str, Any]) -> str:
    reply = api.request(
        "POST", "/v1/cases", token=token, body={"procedure_id": procedure_id, "language": "fr", "form": form}
    )
    assert reply.status == 201, reply.body
    return str(reply.json["case_id"])


@pytest.fixture(scope="module")
def agent(api: Api) -> str:
    return api.token("agent-102", role="agent", client="counter", departments=["population"])


def test_the_document_machine_is_express_and_the_review_machine_standard(runtime: LocalRuntime) -> None:
    assert (machine_type(runtime, DOCUMENT), machine_type(runtime, REVIEW)) == ("EXPRESS", "STANDARD")


def test_a_certificate_issued_at_once_runs_on_the_express_machine_only(runtime: LocalRuntime, api: Api) -> None:
    # Given Élise asking for a residence certificate (no agent decides it)
    elise = api.token(ELISE)
    case_id = submit(api, elise, "residence-certificate", {"purpose": "housing"})
    # When its workflow ends
    assert api.wait(case_id)["status"] == "SUCCEEDED"
    # Then it ran once, on the Express document machine, and never reached the review machine
    executions = executions_of(runtime, case_id)
    assert set(executions) == {DOCUMENT}
    assert executions[DOCUMENT]["status"] == "SUCCEEDED"
    case = api.case(case_id, elise)
    assert case["status"] == "completed"
    assert len(case["documents"]) == 1


def test_a_record_with_entries_runs_express_then_standard_and_completes_once_approved(
    runtime: LocalRuntime, api: Api, agent: str
) -> None:
    # Given Hugo's criminal record extract (his record holds entries)
    hugo = api.token(HUGO)
    case_id = submit(api, hugo, "criminal-record-extract", {"model": "595"})
    # When the case waits for an agent
    api.wait_for_status(case_id, hugo, "waiting")
    # Then the Express execution has ended, having handed the case to the review machine, which waits for the agent
    document_arn = runtime.description.state_machines[DOCUMENT].arn.replace(":stateMachine:", ":execution:")
    handed = wait_for_execution(f"{document_arn}:{case_id}", timeout=30)
    assert handed["status"] == "SUCCEEDED"
    executions = executions_of(runtime, case_id)
    assert set(executions) == {DOCUMENT, REVIEW}
    assert executions[REVIEW]["status"] == "RUNNING"
    assert executions[REVIEW]["startDate"] >= handed["startDate"]
    # When the agent approves
    queue = api.request("GET", "/v1/agent/tasks", token=agent, query="department=population&status=open")
    task = next(task for task in queue.json["items"] if task["case_id"] == case_id)
    reply = api.request("POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body={"outcome": "approve"})
    assert reply.status == 200, reply.body
    # Then the review execution completes the case: one extract issued
    ended = api.wait(case_id)
    assert ended["stateMachineArn"] == runtime.description.state_machines[REVIEW].arn
    assert ended["status"] == "SUCCEEDED"
    case = api.case(case_id, hugo)
    assert case["status"] == "completed"
    assert len(case["documents"]) == 1
    assert [entry["event"] for entry in case["timeline"]].count("completed") == 1


def test_a_step_failing_for_good_on_the_express_path_ends_the_case_failed(runtime: LocalRuntime, api: Api) -> None:
    # Given the document step failing with an error not worth retrying (a bug)
    def broken(event: Any, context: Any) -> Any:
        raise KeyError("template")

    elise = api.token(ELISE)
    with runtime.bridge.handler_replaced("RenderDocumentFunction", lambda handler: broken):
        # When Élise asks for a certificate
        case_id = submit(api, elise, "residence-certificate", {"purpose": "housing"})
        execution = api.wait(case_id)
    # Then the Express execution went through MarkFailed to its Fail state, on that machine only
    assert execution["stateMachineArn"] == runtime.description.state_machines[DOCUMENT].arn
    assert (execution["status"], execution.get("error")) == ("FAILED", "CaseFailed")
    assert set(executions_of(runtime, case_id)) == {DOCUMENT}
    # ...and the case is failed, with a plain reason for the citizen
    case = api.case(case_id, elise)
    assert case["status"] == "failed"
    assert case["reason"]
