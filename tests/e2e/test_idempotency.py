"""POST /v1/cases with an Idempotency-Key, through the local API gateway: one case per caller, channel and key.

The local runtime runs one invocation of a function at a time (as one Lambda execution environment does: see
``infra.local.bridge.LambdaBridge.invoke_function``), so ten requests sent at once through the gateway reach the API
function one after the other. The race between execution environments running at the same moment is played here by
a second :class:`IdempotentSubmissions` (another environment) on the same table, and in the layer's integration
tests (tests/integration/test_idempotent_submissions.py).
"""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.local.runtime import LocalRuntime
from omnicity.application.idempotency import IdempotentSubmissions
from omnicity.application.views import CaseCreated, SubmitCaseRequest
from omnicity.domain.identity import Principal
from omnicity.domain.models import CaseStatus, Channel, Role
from tests.conftest import ELISE, PIETER, Api, Reply

pytestmark = pytest.mark.e2e

FORM = {"purpose": "employment"}


def key() -> str:
    return str(uuid.uuid4())


def submit(api: Api, token: str, idempotency_key: str | None, **body: Any) -> Reply:
    sent = {"procedure_id": "residence-certificate", "language": "fr", "form": FORM, **body}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
    return api.request("POST", "/v1/cases", token=token, body=sent, headers=headers)


def case_ids(api: Api, token: str) -> set[str]:
    reply = api.request("GET", "/v1/cases", token=token, query="limit=100")
    assert reply.status == 200, reply.body
    assert reply.json.get("next_cursor") is None, "more cases than one page: the count would be wrong"
    return {item["case_id"] for item in reply.json["items"]}


@pytest.fixture(scope="module")
def elise(api: Api) -> str:
    return api.token(ELISE)


def test_ten_concurrent_identical_submissions_make_one_case_and_the_same_reply(api: Api, elise: str) -> None:
    # Given Elise's cases so far, and one key her portal made up for one submission
    before = case_ids(api, elise)
    same_key = key()
    start = threading.Barrier(10)

    def send(_: int) -> Reply:
        start.wait(timeout=10)
        return submit(api, elise, same_key)

    # When the portal sends that submission ten times at once (a flaky network, an impatient citizen)
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(send, range(10)))
    # Then every reply is the same 201 with the same body (the API function runs them one at a time here, so no
    # request finds another still running: that case is the next test's)
    assert [reply.status for reply in replies] == [201] * 10, [reply.body for reply in replies]
    bodies = [reply.json for reply in replies]
    assert all(body == bodies[0] for body in bodies)
    # And exactly one case was made, the one every reply names
    assert case_ids(api, elise) - before == {bodies[0]["case_id"]}


def test_a_repeat_while_the_first_is_still_running_is_a_409_with_retry_after_then_the_first_reply(
    api: Api, runtime: LocalRuntime, elise: str
) -> None:
    # Given another execution environment running Elise's keyed submission right now (it holds the key, in progress)
    table = runtime.description.tables["IdempotencyTable"].name
    same_key = key()
    request = SubmitCaseRequest.model_validate(
        {"procedure_id": "residence-certificate", "language": "fr", "form": FORM}
    )
    caller = Principal(role=Role.CITIZEN, subject=ELISE, channel=Channel.PORTAL, nrn=ELISE)
    running, finish = threading.Event(), threading.Event()
    first = CaseCreated(case_id=f"case-{uuid.uuid4().hex}", reference="BXL-2026-999999", status=CaseStatus.SUBMITTED)

    def slow_submission() -> CaseCreated:
        running.set()
        assert finish.wait(timeout=30)
        return first

    with ThreadPoolExecutor(max_workers=1) as other_environment:
        pending = other_environment.submit(
            IdempotentSubmissions(table).submit,
            slow_submission,
            principal=caller,
            key=same_key,
            request=request,
            context=RemainingTime(),
        )
        assert running.wait(timeout=30)
        before = case_ids(api, elise)
        # When the portal sends the same submission again (the API waits a moment for the first, then gives up)
        reply = submit(api, elise, same_key)
        # Then it is told to retry later, naming the header, with no second case made
        assert reply.status == 409, reply.body
        assert reply.headers["Retry-After"] == "1"
        assert reply.json["error"]["code"] == "request_in_progress"
        assert reply.json["error"]["details"][0]["field"] == "Idempotency-Key"
        assert case_ids(api, elise) == before
        finish.set()
        assert pending.result(timeout=30) == first
    # And once the first is done, the retry gets the first request's 201 and body
    retried = submit(api, elise, same_key)
    assert retried.status == 201, retried.body
    assert retried.json == first.model_dump(mode="json")
    assert case_ids(api, elise) == before


class RemainingTime:
    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def test_the_same_key_with_another_body_is_a_422_naming_the_header_and_makes_no_case(api: Api, elise: str) -> None:
    # Given a case Elise submitted with a key
    same_key = key()
    created = submit(api, elise, same_key)
    assert created.status == 201, created.body
    before = case_ids(api, elise)
    # When she sends the same key with another body (another language)
    reply = submit(api, elise, same_key, language="nl")
    # Then it is refused, saying the key was used with another body, and no case is made
    assert reply.status == 422, reply.body
    error = reply.json["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["details"] == [{"field": "Idempotency-Key", "reason": error["details"][0]["reason"]}]
    assert "another body" in error["details"][0]["reason"]
    assert case_ids(api, elise) == before
    # And the first body with the key still answers the first case
    assert submit(api, elise, same_key).json == created.json


def test_a_body_that_differs_only_in_layout_and_ignored_fields_is_the_same_request(api: Api, elise: str) -> None:
    # Given a keyed submission
    same_key = key()
    created = submit(api, elise, same_key)
    assert created.status == 201, created.body
    # When it is sent again with its fields in another order and a field the API ignores
    text = (
        '{"form": {"purpose": "employment"}, "language": "fr", '
        '"procedure_id": "residence-certificate", "channel": "counter"}'
    )
    reply = api.request("POST", "/v1/cases", token=elise, raw=text.encode(), headers={"Idempotency-Key": same_key})
    # Then it is the same request: the first reply again
    assert reply.status == 201, reply.body
    assert reply.json == created.json


def test_a_key_belongs_to_its_caller_and_channel(api: Api, elise: str) -> None:
    # Given a case Elise submitted on the portal with a key
    same_key = key()
    hers = submit(api, elise, same_key)
    assert hers.status == 201, hers.body
    # When Pieter sends the same key and body, and Elise the same at a kiosk
    pieter = api.token(PIETER)
    his = submit(api, pieter, same_key)
    at_kiosk = submit(api, api.token(ELISE, client="kiosk"), same_key)
    # Then each gets a case of their own: never Elise's portal case
    assert his.status == 201, his.body
    assert at_kiosk.status == 201, at_kiosk.body
    assert len({hers.json["case_id"], his.json["case_id"], at_kiosk.json["case_id"]}) == 3
    assert hers.json["case_id"] not in case_ids(api, pieter)
    assert his.json["case_id"] in case_ids(api, pieter)


def test_without_a_key_each_submission_is_a_new_case(api: Api, elise: str) -> None:
    # Given Elise's cases so far
    before = case_ids(api, elise)
    # When she submits the same body twice without a key
    first, second = submit(api, elise, None), submit(api, elise, None)
    # Then there are two new cases, as before idempotency existed
    assert first.status == second.status == 201
    assert case_ids(api, elise) - before == {first.json["case_id"], second.json["case_id"]}
    assert first.json["case_id"] != second.json["case_id"]


def test_a_failed_submission_does_not_hold_its_key(api: Api, elise: str) -> None:
    # Given a keyed submission the API refused (a form value the procedure does not offer)
    same_key = key()
    refused = submit(api, elise, same_key, form={"purpose": "no-such-purpose"})
    assert refused.status == 422, refused.body
    assert refused.json["error"]["code"] == "validation_failed"
    # When the citizen corrects the form and sends it with the same key
    corrected = submit(api, elise, same_key)
    # Then it is a new case: a refusal is not remembered as the key's answer
    assert corrected.status == 201, corrected.body


@pytest.mark.parametrize(
    "malformed",
    ["short", "x" * 129, "has spaces in it", "semi;colon;key", "é-accented-key", '"unbalanced-quote', '""'],
)
def test_a_malformed_key_is_a_400_naming_the_header_and_makes_no_case(api: Api, elise: str, malformed: str) -> None:
    # Given Elise's cases so far
    before = case_ids(api, elise)
    # When she submits with a key that breaks the rules (length, characters)
    reply = submit(api, elise, malformed)
    # Then it is a 400 naming the header, and no case is made
    assert reply.status == 400, reply.body
    assert reply.json["error"]["code"] == "malformed_request"
    assert [detail["field"] for detail in reply.json["error"]["details"]] == ["Idempotency-Key"]
    assert case_ids(api, elise) == before


def test_a_quoted_key_is_the_same_key(api: Api, elise: str) -> None:
    # Given a keyed submission, then the same key written as a structured-field string (the IETF draft's form)
    same_key = key()
    plain = submit(api, elise, same_key)
    quoted = submit(api, elise, f'"{same_key}"')
    # Then both are the same request
    assert plain.status == quoted.status == 201
    assert quoted.json == plain.json


def test_two_keys_in_one_request_are_refused_naming_the_header(api: Api, elise: str) -> None:
    # Given Elise's cases so far
    before = case_ids(api, elise)
    # When a request carries the header twice, with two keys
    body = json.dumps({"procedure_id": "residence-certificate", "language": "fr", "form": FORM}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Authorization", f"Bearer {elise}"),
        ("Idempotency-Key", key()),
        ("Idempotency-Key", key()),
    ]
    status, _, reply = api.runtime.gateway.dispatch("POST", "/v1/cases", "", headers, body)
    # Then it is refused as invalid input naming the header (the API takes one key), and no case is made
    assert status == 422, reply
    assert [detail["field"] for detail in json.loads(reply)["error"]["details"]] == ["idempotency-key"]
    assert case_ids(api, elise) == before
