"""Fault injection: the platform on the local runtime with a step, or DynamoDB, made to fail on purpose.

- A step that fails transiently is retried by its state machine's Retry, and the case completes, once: one document,
  each timeline event once (whether the step failed before doing its work or after, its reply lost).
- A step that keeps failing (or fails with an error not worth retrying) ends the case ``failed`` through
  Catch -> MarkFailed: agents see the technical cause, the citizen a plain reason.
- When MarkFailed itself gives up on a Standard machine (here the document review one), the execution fails with the
  case still in progress: the EventBridge rule of template.yaml on FAILED executions (delivered here as EventBridge
  would, through its InputTransformer) fails it. Express executions (the document machine's at-once path) emit no
  such event: the rule names the Standard machines only.
- A throttled DynamoDB write is retried by botocore (``omnicity.aws``: standard retry mode, ``max_attempts`` 3
  retries, so 4 attempts); one throttled on every attempt becomes TransientError, which the state machine retries:
  nothing is lost.
- After all of it, no case is left in flight: each is terminal, or waiting for someone.

Faults are injected where AWS would produce them: a handler that raises (``LambdaBridge.handler_replaced``), and a
DynamoDB error answered by a botocore ``before-send`` hook instead of the service. The runtime sleeps 1/100 of each
ASL Retry interval (``OMNICITY_LOCAL_RETRY_SCALE``): the deployed definitions keep theirs.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse

from infra.local.bridge import Handler
from infra.local.retry_intervals import ENV_RETRY_SCALE
from infra.local.runtime import LocalRuntime, wait_for_execution
from infra.local.template import load_template
from omnicity import aws
from omnicity.adapters.audit import AuditKind, AuditTrail
from omnicity.adapters.tasks import TaskRepository
from omnicity.catalogue import retention_days_of
from omnicity.domain.errors import CaseConflictError, TransientError
from tests.conftest import ELISE, ROOT, TEMPLATE, Api, extract_waiting_for_an_agent, fresh_runtime

HUGO = "72030324138"  # fictional; his criminal record holds entries: an agent decides his extract
DOCUMENT_STEPS = [
    "ValidateRequestFunction",
    "CheckEligibilityFunction",
    "RenderDocumentFunction",
    "CompleteCaseFunction",
]
DEFINITION = json.loads((ROOT / "statemachines" / "document_request.asl.json").read_text(encoding="utf-8"))
RETRIES = DEFINITION["States"]["RenderDocument"]["Retry"][0]["MaxAttempts"]  # a step runs 1 + RETRIES times at most
MARK_FAILED_RETRIES = DEFINITION["States"]["MarkFailed"]["Retry"][0]["MaxAttempts"]
EVENTS_OF_A_DOCUMENT = [
    "submitted",
    "validated",
    "eligibility_confirmed",
    "document_issued",
    "notified:document_ready",
    "completed",
]
IN_FLIGHT = {"submitted", "in_progress"}  # every other status is terminal, or waits for an agent or the citizen


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """This module's platform, as `make run` runs it (a moto server: a throttled request never reaches it, as on
    AWS; in-process moto would apply it anyway), with ASL Retry intervals slept at 1/100 (1 s -> 10 ms)."""
    with mock.patch.dict(os.environ, {ENV_RETRY_SCALE: "0.01"}), fresh_runtime("server") as local:
        yield local


@pytest.fixture(scope="module")
def elise(api: Api) -> str:
    return api.token(ELISE)


@pytest.fixture(scope="module")
def agent(api: Api) -> str:
    return api.token("agent-ops", role="agent", client="counter", departments=["population"])


# ---------------------------------------------------------------------------------------------- the retry scale
def test_the_state_machines_keep_their_real_retry_intervals(runtime: LocalRuntime) -> None:
    # Given the runtime of this module, which sleeps 1/100 of each Retry interval
    assert runtime.retry_scale == 0.01
    # Then the definitions moto runs are the deployed ones: every Retry still waits its real IntervalSeconds
    stepfunctions = boto3.client("stepfunctions")
    for machine in runtime.description.state_machines.values():
        definition = json.loads(stepfunctions.describe_state_machine(stateMachineArn=machine.arn)["definition"])
        retriers = [retrier for state in definition["States"].values() for retrier in state.get("Retry", [])]
        assert retriers
        assert {retrier["IntervalSeconds"] for retrier in retriers} == {1}


@pytest.mark.parametrize("value", ["fast", "-0.5", "2"])
def test_a_retry_scale_that_is_not_a_factor_is_refused(value: str) -> None:
    with mock.patch.dict(os.environ, {ENV_RETRY_SCALE: value}), pytest.raises(ValueError, match=r"(?i)retry"):
        LocalRuntime(TEMPLATE, mode="inprocess")


# ---------------------------------------------------------------------------------------------- injecting faults
@dataclass
class Fault:
    """Wraps a handler: the first ``times`` invocations fail with ``error`` (every one when ``times`` is None),
    ``before`` the real handler runs or ``after`` it did its work (its reply lost); counts the invocations."""

    error: Callable[[], Exception]
    times: int | None = 1
    when: str = "before"
    invocations: int = 0
    cases: list[Any] = field(default_factory=list)  # the case id of each invocation's event
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, handler: Handler) -> Handler:
        def faulty(event: Any, context: Any) -> Any:
            with self.lock:
                self.invocations += 1
                self.cases.append(event.get("case_id") if isinstance(event, dict) else None)
                failing = self.times is None or self.invocations <= self.times
            if failing and self.when == "before":
                raise self.error()
            result = handler(event, context)
            if failing:
                raise self.error()
            return result

        return faulty


@contextmanager
def injected(runtime: LocalRuntime, function: str, fault: Fault) -> Iterator[Fault]:
    with runtime.bridge.handler_replaced(function, fault.wrap):
        yield fault


@dataclass
class Throttle:
    """DynamoDB answering ``code`` (HTTP 400, as the service does) to the first ``times`` attempts of ``operation``
    that a function makes while armed; every attempt is counted. The answer comes from a botocore ``before-send``
    hook, so the client's own retry logic runs exactly as against AWS."""

    operation: str
    times: int
    code: str = "ProvisionedThroughputExceededException"
    attempts: int = 0
    throttled: int = 0
    armed: threading.local = field(default_factory=threading.local)

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if not getattr(self.armed, "on", False):
            return None
        self.attempts += 1
        if self.throttled >= self.times:
            return None  # on to moto
        self.throttled += 1
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "Rate exceeded"})
        return AWSResponse(request.url, 400, {"x-amzn-RequestId": "throttled"}, _Raw(body.encode()))

    def arming(self, handler: Handler) -> Handler:
        """``handler`` with the throttle armed during its run (in its thread only: other functions are untouched)."""

        def armed(event: Any, context: Any) -> Any:
            self.armed.on = True
            try:
                return handler(event, context)
            finally:
                self.armed.on = False

        return armed


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class _QuickBackoff:
    """Stands in for ``time`` in ``botocore.endpoint``, whose only use of it is to sleep the retry backoff it computed
    (standard mode: up to 1, 2, 4 s): 1/100 of it here. The attempts and what they answer are unchanged."""

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / 100)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@contextmanager
def throttled(runtime: LocalRuntime, function: str, throttle: Throttle) -> Iterator[Throttle]:
    events = aws.dynamodb().meta.events  # the one client of the process, which every function uses
    event_name = f"before-send.dynamodb.{throttle.operation}"
    events.register_first(event_name, throttle.before_send)
    try:
        with (
            mock.patch.object(botocore.endpoint, "time", _QuickBackoff()),
            runtime.bridge.handler_replaced(function, throttle.arming),
        ):
            yield throttle
    finally:
        events.unregister(event_name, throttle.before_send)


# ---------------------------------------------------------------------------------------------- helpers
def submit(api: Api, token: str) -> str:
    reply = api.submit(token, form={"purpose": "housing"})
    assert reply.status == 201, reply.body
    return str(reply.json["case_id"])


def events_of(case: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in case["timeline"]]


def agent_view(api: Api, agent: str, case_id: str) -> dict[str, Any]:
    reply = api.request("GET", f"/v1/agent/cases/{case_id}", token=agent, query="reason=ops+check")
    assert reply.status == 200, reply.body
    return dict(reply.json)


def execution_arn(runtime: LocalRuntime, case_id: str) -> str:
    machine = runtime.description.state_machines["DocumentRequestStateMachine"].arn
    return machine.replace(":stateMachine:", ":execution:") + f":{case_id}"


# ---------------------------------------------------------------------------------------------- transient faults
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("function", DOCUMENT_STEPS)
def test_a_step_failing_once_is_retried_and_the_case_completes_once(
    runtime: LocalRuntime, api: Api, elise: str, function: str, when: str
) -> None:
    # Given a step whose first invocation fails with a transient error, before its work or after it (reply lost)
    fault = Fault(lambda: TransientError("DynamoDB put_item throttled or unavailable (ServiceUnavailable)"), when=when)
    with injected(runtime, function, fault):
        # When a citizen asks for a residence certificate
        case_id = submit(api, elise)
        execution = api.wait(case_id)
    # Then the state machine ran the step again, and the workflow succeeded
    assert fault.invocations == 2
    assert execution["status"] == "SUCCEEDED", execution
    # ...and the case is completed exactly once: one document, each event once, in order
    case = api.case(case_id, elise)
    assert case["status"] == "completed"
    assert len(case["documents"]) == 1
    assert events_of(case) == EVENTS_OF_A_DOCUMENT


def test_a_conflicting_write_is_retried_too(runtime: LocalRuntime, api: Api, elise: str) -> None:
    # Given a step that loses an optimistic-locking race once (another writer moved the case on)
    fault = Fault(lambda: CaseConflictError("case changed since version 2"))
    with injected(runtime, "RenderDocumentFunction", fault):
        case_id = submit(api, elise)
        execution = api.wait(case_id)
    # Then it is retried, and the case completes
    assert (fault.invocations, execution["status"]) == (2, "SUCCEEDED")
    assert api.case(case_id, elise)["status"] == "completed"


# ---------------------------------------------------------------------------------------------- lasting faults
@pytest.mark.parametrize(
    ("error", "invocations", "told"),
    [
        (
            lambda: TransientError("DynamoDB update_item throttled or unavailable (InternalServerError)"),
            1 + RETRIES,
            "InternalServerError",
        ),
        (lambda: KeyError("template"), 1, "template"),  # a bug: never worth retrying
    ],
    ids=["keeps-failing-transiently", "not-retried"],
)
def test_a_step_that_keeps_failing_ends_the_case_failed_with_the_reason_for_agents(
    runtime: LocalRuntime,
    api: Api,
    elise: str,
    agent: str,
    error: Callable[[], Exception],
    invocations: int,
    told: str,
) -> None:
    # Given the document step failing on every invocation
    fault = Fault(error, times=None)
    with injected(runtime, "RenderDocumentFunction", fault):
        # When a citizen asks for a certificate
        case_id = submit(api, elise)
        execution = api.wait(case_id)
    # Then the step ran as often as its Retry allows, and the execution ended in its Fail state after MarkFailed
    assert fault.invocations == invocations
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "CaseFailed"
    # ...the case is failed: the agents of its department see the technical cause
    seen = agent_view(api, agent, case_id)
    assert seen["status"] == "failed"
    assert seen["failure"]["error"] == type(error()).__name__
    assert told in seen["failure"]["cause"]
    # ...and the citizen sees a plain reason, never the technical cause
    mine = api.case(case_id, elise)
    assert mine["status"] == "failed"
    assert mine["reason"]
    assert "failure" not in mine or mine["failure"] is None
    assert events_of(mine)[-1] == "failed"


def deliver_execution_ended(runtime: LocalRuntime, execution: dict[str, Any]) -> Any:
    """What EventBridge does with a Step Functions *Execution Status Change* event, per template.yaml's rule on
    MarkFailedFunction: match the event against the rule's pattern, build the input with its InputTransformer, and
    invoke the function (asynchronously on AWS; here at once). Returns the function's reply."""
    rule = load_template(TEMPLATE)["Resources"]["MarkFailedFunction"]["Properties"]["Events"]["ExecutionEnded"]
    properties = rule["Properties"]
    detail = {
        "name": execution["name"],
        "status": execution["status"],
        "stateMachineArn": execution["stateMachineArn"],
        "executionArn": execution["executionArn"],
    }
    pattern = properties["Pattern"]
    assert detail["status"] in pattern["detail"]["status"]
    machines = {runtime.description.state_machines[ref["Ref"]].arn for ref in pattern["detail"]["stateMachineArn"]}
    assert detail["stateMachineArn"] in machines
    event = {"source": "aws.states", "detail-type": "Step Functions Execution Status Change", "detail": detail}
    transformer = properties["InputTransformer"]
    values = {name: _json_path(event, path) for name, path in transformer["InputPathsMap"].items()}
    payload = _render_input_template(transformer["InputTemplate"], values)
    result = runtime.bridge.invoke_payload("MarkFailedFunction", payload)
    assert result.function_error is None, result.payload
    return json.loads(result.payload)


def _json_path(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def _render_input_template(template: str, values: dict[str, Any]) -> str:
    """EventBridge's rule: a placeholder inside a JSON string is replaced by the bare text, elsewhere by JSON."""
    rendered: list[str] = []
    in_string = False
    for token in re.split(r'(\\.|"|<[A-Za-z0-9_.-]+>)', template):
        name = token[1:-1] if token.startswith("<") and token.endswith(">") else None
        if token == '"':
            in_string = not in_string
        if name in values:
            rendered.append(str(values[name]) if in_string else json.dumps(values[name]))
        else:
            rendered.append(token)
    return "".join(rendered)


def test_when_mark_failed_gives_up_the_failed_execution_event_fails_the_case(
    runtime: LocalRuntime, api: Api, agent: str
) -> None:
    # Given Hugo's extract waiting for an agent in the Standard review machine (his record holds entries)
    hugo = api.token(HUGO)
    case_id, task = hugos_extract_waiting(api, hugo, agent)
    # ...the document step failing for good, and MarkFailed unable to write (every attempt, retries included)
    step = Fault(lambda: KeyError("template"), times=None)
    marker = Fault(
        lambda: TransientError("DynamoDB put_item throttled or unavailable (ServiceUnavailable)"), times=None
    )
    with injected(runtime, "RenderDocumentFunction", step), injected(runtime, "MarkFailedFunction", marker):
        # When the agent approves
        decided = api.request(
            "POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body={"outcome": "approve"}
        )
        assert decided.status == 200, decided.body
        execution = api.wait(case_id)
    # Then the review execution failed with MarkFailed's error, and the case was left in progress by the workflow
    assert execution["stateMachineArn"] == runtime.description.state_machines["DocumentReviewStateMachine"].arn
    assert marker.cases == [case_id] * (1 + MARK_FAILED_RETRIES), marker.cases
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "TransientError"
    assert api.case(case_id, hugo)["status"] == "in_progress"
    # When EventBridge delivers the execution's status change to MarkFailed (healthy again), as template.yaml says
    reply = deliver_execution_ended(runtime, execution)
    # Then the case is failed, with the execution's end as the cause for agents
    assert reply == {"case_id": case_id, "status": "failed"}
    seen = agent_view(api, agent, case_id)
    assert seen["status"] == "failed"
    assert seen["failure"]["error"] == "FAILED"
    assert "FAILED" in seen["failure"]["cause"]


# ---------------------------------------------------------------------------------------------- a failed case's task
def hugos_extract_waiting(api: Api, hugo: str, agent: str) -> tuple[str, dict[str, Any]]:
    """A new extract of Hugo's, waiting for the population department: its case id and its task."""
    case_id = str(extract_waiting_for_an_agent(api, hugo)["case_id"])
    return case_id, next(task for task in population_tasks(api, agent, "open") if task["case_id"] == case_id)


def population_tasks(api: Api, agent: str, status: str) -> list[dict[str, Any]]:
    reply = api.request("GET", "/v1/agent/tasks", token=agent, query=f"department=population&status={status}&limit=100")
    assert reply.status == 200, reply.body
    return list(reply.json["items"])


def assert_closed_with_its_case(api: Api, agent: str, table: str, case_id: str, task_id: str) -> None:
    """The case failed, and its task left every queue an agent works from for the ``failed`` one, with its entry."""
    seen = agent_view(api, agent, case_id)
    assert seen["status"] == "failed"
    assert [(task["task_id"], task["status"]) for task in seen["tasks"]] == [(task_id, "failed")]
    for status in ("open", "claimed", "waiting_citizen"):
        assert task_id not in {task["task_id"] for task in population_tasks(api, agent, status)}, status
    [closed] = [task for task in population_tasks(api, agent, "failed") if task["task_id"] == task_id]
    assert (closed["completed_by"], closed["overdue"]) == ("system", False)
    [entry] = [
        entry
        for entry in AuditTrail(table, retention=retention_days_of).entries(case_id)
        if entry.kind is AuditKind.TASK
    ]
    assert (entry.target, entry.department, entry.event) == (task_id, "population", "task_failed:review")


def test_a_case_whose_wait_for_an_agent_times_out_fails_and_closes_its_claimed_task(
    runtime: LocalRuntime, api: Api, agent: str, table: str
) -> None:
    # Given Hugo's extract waiting for an agent, its task claimed by one
    hugo = api.token(HUGO)
    case_id, task = hugos_extract_waiting(api, hugo, agent)
    assert api.request("POST", f"/v1/agent/tasks/{task['task_id']}/claim", token=agent).status == 200
    # When the wait ends in an error, as Step Functions ends it after the task's TimeoutSeconds (90 days) with
    # States.Timeout (a name only Step Functions may give: here another one, which the same Catch, States.ALL, takes)
    token = TaskRepository(table, retention=retention_days_of).get(task["task_id"]).task_token
    boto3.client("stepfunctions").send_task_failure(
        taskToken=token, error="WaitTimedOut", cause="the wait for an agent timed out"
    )
    execution = api.wait(case_id)
    # Then the execution went through MarkFailed to its Fail state
    assert (execution["status"], execution.get("error")) == ("FAILED", "CaseFailed")
    # ...and the case failed with its task closed: no agent is left with a task nothing will carry on
    assert_closed_with_its_case(api, agent, table, case_id, task["task_id"])
    # ...and the agent who held it can no longer act on it
    decided = api.request(
        "POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body={"outcome": "approve"}
    )
    assert decided.status == 409, decided.body


def test_an_execution_that_times_out_fails_its_case_and_closes_the_task_waiting_for_the_citizen(
    runtime: LocalRuntime, api: Api, agent: str, table: str
) -> None:
    # Given Hugo's extract whose agent asked him a question (the task waits for his answer)
    hugo = api.token(HUGO)
    case_id, task = hugos_extract_waiting(api, hugo, agent)
    asked = api.request("POST", f"/v1/agent/tasks/{task['task_id']}/ask", token=agent, body={"question": "Pour qui ?"})
    assert asked.status == 200, asked.body
    # When its Standard execution ends TIMED_OUT (or is stopped: ABORTED), and EventBridge delivers the status change
    # to MarkFailed (the local runtime emulates neither the end nor the rule: the event is delivered as the rule would)
    machine = runtime.description.state_machines["DocumentReviewStateMachine"].arn
    ended = {
        "name": case_id,
        "status": "TIMED_OUT",
        "stateMachineArn": machine,
        "executionArn": machine.replace(":stateMachine:", ":execution:") + f":{case_id}",
    }
    assert deliver_execution_ended(runtime, ended) == {"case_id": case_id, "status": "failed"}
    # Then the case failed, and its task closed with it
    assert_closed_with_its_case(api, agent, table, case_id, task["task_id"])
    # ...once: the event delivered again (EventBridge delivers at least once) changes nothing
    assert deliver_execution_ended(runtime, ended) == {"case_id": case_id, "status": "failed"}
    # ...nor does the Catch of the wait, when the local execution's wait ends too (its MarkFailed finds it done)
    token = TaskRepository(table, retention=retention_days_of).get(task["task_id"]).task_token
    boto3.client("stepfunctions").send_task_failure(taskToken=token, error="WaitTimedOut", cause="ended")
    assert api.wait(case_id)["status"] == "FAILED"
    assert (
        len(
            [
                entry
                for entry in AuditTrail(table, retention=retention_days_of).entries(case_id)
                if entry.kind is AuditKind.TASK
            ]
        )
        == 1
    )
    assert_closed_with_its_case(api, agent, table, case_id, task["task_id"])


# ---------------------------------------------------------------------------------------------- throttled DynamoDB
def test_a_throttled_write_on_submission_is_retried_by_the_client_and_nothing_is_lost(
    runtime: LocalRuntime, api: Api, elise: str
) -> None:
    # Given DynamoDB throttling the API's first attempt at writing the new case (its one transaction)
    with throttled(runtime, "ApiFunction", Throttle("TransactWriteItems", times=1)) as throttle:
        # When a citizen submits
        case_id = submit(api, elise)
    # Then botocore sent the write again and it went through: the caller got a 201 and never saw the throttle
    assert (throttle.throttled, throttle.attempts) == (1, 2)
    # ...and the case is whole: stored, found by its reference, and carried to the end by its workflow
    assert api.wait(case_id)["status"] == "SUCCEEDED"
    case = api.case(case_id, elise)
    assert case["status"] == "completed"
    assert events_of(case) == EVENTS_OF_A_DOCUMENT
    assert api.request("GET", "/v1/cases", token=elise, query="limit=100").status == 200


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_a_write_throttled_past_the_client_retries_is_retried_by_the_state_machine(
    runtime: LocalRuntime, api: Api, elise: str, code: str
) -> None:
    # Given DynamoDB throttling every attempt botocore makes at the completion's write (its standard retry mode)
    attempts = aws.dynamodb().meta.config.retries["total_max_attempts"]
    throttle = Throttle("TransactWriteItems", times=attempts, code=code)
    with throttled(runtime, "CompleteCaseFunction", throttle):
        case_id = submit(api, elise)
        execution = api.wait(case_id)
    # Then the step raised TransientError, the state machine ran it again, and its write went through
    assert throttle.throttled == attempts
    assert throttle.attempts == attempts + 1
    assert execution["status"] == "SUCCEEDED"
    # ...completed once, counted once in the day's figures (the completion and its counters are one transaction)
    case = api.case(case_id, elise)
    assert case["status"] == "completed"
    assert events_of(case).count("completed") == 1


# ---------------------------------------------------------------------------------------------- nothing in flight
class Intermittent:
    """Every third invocation of a step fails transiently, and every fifth of the document step for good."""

    def __init__(self, permanent_every: int | None) -> None:
        self.permanent_every = permanent_every
        self.invocations = 0
        self.lock = threading.Lock()

    def wrap(self, handler: Handler) -> Handler:
        def flaky(event: Any, context: Any) -> Any:
            with self.lock:
                self.invocations += 1
                count = self.invocations
            if self.permanent_every and count % self.permanent_every == 0:
                raise KeyError("template")
            if count % 3 == 0:
                raise TransientError("DynamoDB get_item throttled or unavailable (ServiceUnavailable)")
            return handler(event, context)

        return flaky


def test_after_a_day_of_faults_no_case_is_left_in_flight(
    runtime: LocalRuntime, api: Api, elise: str, table: str
) -> None:
    # Given every step of the document workflow failing now and then (and the document step sometimes for good)
    faults = {
        function: Intermittent(5 if function == "RenderDocumentFunction" else None) for function in DOCUMENT_STEPS
    }
    with ExitStack() as stack:
        for function, fault in faults.items():
            stack.enter_context(runtime.bridge.handler_replaced(function, fault.wrap))
        # When citizens submit a batch of cases, one after the other (the same faults hit the same cases every run)
        case_ids = []
        for _ in range(8):
            case_ids.append(submit(api, elise))
            api.wait(case_ids[-1])
        # ...and every execution started in this module ends (this batch's, and the other tests')
        stepfunctions = boto3.client("stepfunctions")
        for machine in runtime.description.state_machines.values():
            for execution in stepfunctions.list_executions(stateMachineArn=machine.arn)["executions"]:
                wait_for_execution(execution["executionArn"], timeout=30)
    assert all(fault.invocations for fault in faults.values())
    # Then every case in the table (a Scan: fine in a test, never on a request path) ended, or waits for someone
    pages = (
        boto3.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=table,
            FilterExpression="#type = :case",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues={":case": {"S": "case"}},
        )
    )
    statuses = {item["case_id"]["S"]: item["status"]["S"] for page in pages for item in page["Items"]}
    assert set(case_ids) <= set(statuses)
    assert {case: status for case, status in statuses.items() if status in IN_FLIGHT} == {}
    # ...and this batch ended both ways: completed despite the retries, and failed where the step failed for good
    assert {statuses[case] for case in case_ids} == {"completed", "failed"}
