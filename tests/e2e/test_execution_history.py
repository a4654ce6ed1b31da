"""What travels through Step Functions: ids, codes and outcomes only. A Standard execution's history keeps every
state's input and output for 90 days, whatever the case's retention; what people wrote (an agent's comment, a
question and its answer, a report's description) and who they are stay in the table, where retention applies.

Cases run end to end on the local runtime; every execution of each case (found by name: the case's id) is read back
with ``GetExecutionHistory``, as an operator would read it on AWS, and searched."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime
from omnicity.domain.nrn import format_nrn
from tests.conftest import HUGO, PIETER, Api, act, agent, extract_waiting_for_an_agent


def histories(runtime: LocalRuntime, case_id: str) -> dict[str, list[dict[str, Any]]]:
    """Each execution of the case (every state machine may have one, named after the case): its whole history."""
    stepfunctions = boto3.client("stepfunctions")
    found: dict[str, list[dict[str, Any]]] = {}
    for machine in runtime.description.state_machines.values():
        execution_arn = machine.arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
        try:
            stepfunctions.describe_execution(executionArn=execution_arn)
        except stepfunctions.exceptions.ExecutionDoesNotExist:
            continue
        pages = stepfunctions.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        found[machine.logical_id] = [event for page in pages for event in page["events"]]
    return found


def task_for(api: Api, token: str, department: str, reference: str, status: str = "open") -> dict[str, Any]:
    queue = api.request("GET", "/v1/agent/tasks", token=token, query=f"department={department}&status={status}")
    assert queue.status == 200, queue.body
    return next(task for task in queue.json["items"] if task["reference"] == reference)


def assert_ids_only(
    history: list[dict[str, Any]], *, case_id: str, task_id: str, outcome: str, absent: list[str]
) -> None:
    # the history is the case's, and the decision the agent's completion sent is the task's id and the outcome
    text = json.dumps(history, default=str, ensure_ascii=False)
    assert case_id in text
    decisions = [
        json.loads(event["taskSucceededEventDetails"]["output"])
        for event in history
        if event["type"] == "TaskSucceeded" and event["taskSucceededEventDetails"]["resource"].endswith("TaskToken")
    ]
    assert decisions == [{"task_id": task_id, "outcome": outcome}]
    # and nothing anybody wrote, nor who they are
    found = [written for written in absent if written.casefold() in text.casefold()]
    assert found == [], f"in the execution history: {found}"


@pytest.mark.parametrize(
    ("outcome", "comment"),
    [("refuse", "Condamnation incompatible avec l'emploi visé."), ("approve", "Vu avec M. Hugo au guichet.")],
)
def test_a_reviewed_case_leaves_no_comment_question_or_answer_in_its_executions(
    api: Api, runtime: LocalRuntime, outcome: str, comment: str
) -> None:
    # Given Hugo's criminal record extract, which an agent asks him about, and which he answers
    hugo = api.token(HUGO)
    created = extract_waiting_for_an_agent(api, hugo)
    clerk = agent(api, "agent-history", "population")
    task = task_for(api, clerk, "population", created["reference"])
    question, answer = "Pour quel employeur exactement ?", "La crèche Les Petits Loups, rue Haute."
    assert act(api, clerk, task["task_id"], "ask", {"question": question}).status == 200
    replied = api.request("POST", f"/v1/cases/{created['case_id']}/reply", token=hugo, body={"answer": answer})
    assert replied.status == 200, replied.body
    # When the agent decides, with a comment the citizen will read
    decided = act(api, clerk, task["task_id"], "complete", {"outcome": outcome, "comment": comment})
    assert decided.status == 200, decided.body
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    # Then the case holds the comment (the citizen reads it on the timeline) ...
    case = api.case(created["case_id"], hugo)
    assert comment in json.dumps(case, ensure_ascii=False)
    # ... and no execution of the case does: the document machine's, nor the review machine's that waited
    executions = histories(runtime, created["case_id"])
    assert set(executions) == {"DocumentRequestStateMachine", "DocumentReviewStateMachine"}
    absent = [comment, question, answer, HUGO, format_nrn(HUGO), "Hugo"]
    assert_ids_only(
        executions["DocumentReviewStateMachine"],
        case_id=created["case_id"],
        task_id=task["task_id"],
        outcome=outcome,
        absent=absent,
    )
    document_request = json.dumps(executions["DocumentRequestStateMachine"], default=str, ensure_ascii=False)
    assert [written for written in absent if written in document_request] == []


def test_a_field_service_case_leaves_no_description_place_or_comment_in_its_execution(
    api: Api, runtime: LocalRuntime
) -> None:
    # Given Pieter reporting a damaged road at a place, in his own words
    pieter = api.token(PIETER)
    description = "Nid-de-poule profond devant chez Mme Verhaegen, danger pour les vélos."
    form = {
        "category": "road_damage",
        "description": description,
        "location": {"lat": 50.86137, "lon": 4.35814},
        "address": {"street": "Rue des Palais Outre-Ponts", "number": "417", "postal_code": "1020"},
    }
    reported = api.request(
        "POST", "/v1/cases", token=pieter, body={"procedure_id": "public-space-alert", "language": "fr", "form": form}
    )
    assert reported.status == 201, reported.body
    case_id, reference = reported.json["case_id"], reported.json["reference"]
    api.wait_for_status(case_id, pieter, "waiting")
    # When a field agent closes it, saying what was done
    roads = agent(api, "field-roads-history", "roads")
    task = task_for(api, roads, "roads", reference)
    comment = "Rebouché à froid par l'équipe de M. Janssens; réfection prévue."
    closed = act(api, roads, task["task_id"], "complete", {"outcome": "fixed", "comment": comment})
    assert closed.status == 200, closed.body
    assert api.wait(case_id)["status"] == "SUCCEEDED"
    # Then its one execution carries ids and codes: no description, place, address, comment or person
    executions = histories(runtime, case_id)
    assert set(executions) == {"FieldServiceStateMachine"}
    absent = [description, "Verhaegen", "50.86137", "4.35814", "Outre-Ponts", comment, "Janssens", PIETER]
    absent.append(format_nrn(PIETER))
    assert_ids_only(
        executions["FieldServiceStateMachine"], case_id=case_id, task_id=task["task_id"], outcome="fixed", absent=absent
    )
