"""IdempotentSubmissions against the template's IdempotencyTable on moto: several execution environments (one
instance each, as separate Lambda environments would have) racing for one key; what is stored, and for how long."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime
from omnicity.application.idempotency import (
    RECORD_TTL_SECONDS,
    IdempotencyKeyReusedError,
    IdempotentSubmissions,
    RequestInProgressError,
)
from omnicity.application.views import CaseCreated, SubmitCaseRequest
from omnicity.domain.errors import ForbiddenError
from omnicity.domain.identity import Principal
from omnicity.domain.models import CaseStatus, Channel, Role
from tests.conftest import ELISE, PIETER

ELISE_ON_PORTAL = Principal(role=Role.CITIZEN, subject=ELISE, channel=Channel.PORTAL, nrn=ELISE)
REQUEST = SubmitCaseRequest.model_validate(
    {"procedure_id": "residence-certificate", "language": "fr", "form": {"purpose": "employment"}}
)


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 15_000


class Submissions:
    """Counts the submissions that really ran; each returns a new case."""

    def __init__(self) -> None:
        self.made: list[CaseCreated] = []
        self._lock = threading.Lock()

    def __call__(self) -> CaseCreated:
        created = CaseCreated(
            case_id=f"case-{uuid.uuid4().hex}", reference="BXL-2026-000001", status=CaseStatus.SUBMITTED
        )
        with self._lock:
            self.made.append(created)
        return created


@pytest.fixture(scope="module")
def idempotency_table(runtime: LocalRuntime) -> str:
    return runtime.description.tables["IdempotencyTable"].name


def run(
    table: str,
    action: Callable[[], CaseCreated],
    key: str | None,
    *,
    principal: Principal = ELISE_ON_PORTAL,
    request: SubmitCaseRequest = REQUEST,
    **options: Any,
) -> CaseCreated:
    return IdempotentSubmissions(table, **options).submit(
        action, principal=principal, key=key, request=request, context=Context()
    )


def test_ten_environments_racing_for_one_key_run_the_submission_once(idempotency_table: str) -> None:
    # Given ten execution environments receiving the same keyed submission at the same moment; the one that runs it
    # finishes only once the nine others have found it in progress (and are waiting for its result)
    key = str(uuid.uuid4())
    made: list[CaseCreated] = []
    waiting: set[int] = set()
    all_waiting = threading.Event()
    lock = threading.Lock()
    start = threading.Barrier(10)

    def slow_submission() -> CaseCreated:
        created = CaseCreated(
            case_id=f"case-{uuid.uuid4().hex}", reference="BXL-2026-000002", status=CaseStatus.SUBMITTED
        )
        with lock:
            made.append(created)
        all_waiting.wait(timeout=20)
        return created

    def environment(index: int) -> CaseCreated:
        def pause(_: float) -> None:
            with lock:
                waiting.add(index)
                if len(waiting) == 9:
                    all_waiting.set()
            time.sleep(0.005)

        start.wait(timeout=10)
        return run(idempotency_table, slow_submission, key, waits=[0.005] * 4000, sleep=pause)

    results: list[CaseCreated | BaseException] = [RuntimeError("not run")] * 10

    def record(index: int) -> None:
        try:
            results[index] = environment(index)
        except BaseException as exc:  # the assertion below shows it
            results[index] = exc

    threads = [threading.Thread(target=record, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then the submission ran once, the nine others found it running, and all ten have its result
    assert all_waiting.is_set(), f"only {len(waiting)} environments found the submission in progress"
    assert len(made) == 1
    assert results == [made[0]] * 10


def test_a_repeat_that_waited_in_vain_is_told_to_come_back(idempotency_table: str) -> None:
    # Given a keyed submission running in another environment
    key = str(uuid.uuid4())
    running, finish = threading.Event(), threading.Event()

    def slow_submission() -> CaseCreated:
        running.set()
        finish.wait(timeout=20)
        return Submissions()()

    first = threading.Thread(target=run, args=(idempotency_table, slow_submission, key))
    first.start()
    assert running.wait(timeout=20)
    # When the repeat has waited all it may (here: three pauses) and the first is still running
    pauses: list[float] = []
    again = Submissions()
    with pytest.raises(RequestInProgressError) as raised:
        run(idempotency_table, again, key, waits=[0.01, 0.02, 0.03], sleep=pauses.append)
    finish.set()
    first.join(timeout=20)
    # Then it is a 409 naming the header, with when to retry, after exactly the pauses allowed; nothing ran twice
    assert pauses == [0.01, 0.02, 0.03]
    assert raised.value.http_status == 409
    assert raised.value.retry_after_seconds == 1
    assert raised.value.details[0]["field"] == "Idempotency-Key"
    assert again.made == []


def test_the_same_key_with_another_body_is_refused_without_running(idempotency_table: str) -> None:
    # Given a submission made with a key
    key = str(uuid.uuid4())
    submissions = Submissions()
    run(idempotency_table, submissions, key)
    # When the same caller sends the key with another body
    other = SubmitCaseRequest.model_validate({**REQUEST.model_dump(mode="json"), "language": "nl"})
    with pytest.raises(IdempotencyKeyReusedError) as raised:
        run(idempotency_table, submissions, key, request=other)
    # Then it is a 422 naming the header, and nothing ran again
    assert raised.value.http_status == 422
    assert raised.value.details[0]["field"] == "Idempotency-Key"
    assert len(submissions.made) == 1


def test_the_key_is_scoped_to_the_caller_and_the_channel(idempotency_table: str) -> None:
    # Given a submission Elise made on the portal with a key
    key = str(uuid.uuid4())
    submissions = Submissions()
    hers = run(idempotency_table, submissions, key)
    # When Pieter, Elise at a kiosk, and an agent at the counter send the same key and body
    pieter = Principal(role=Role.CITIZEN, subject=PIETER, channel=Channel.PORTAL, nrn=PIETER)
    at_kiosk = ELISE_ON_PORTAL.model_copy(update={"channel": Channel.KIOSK})
    agent = Principal(role=Role.AGENT, subject=ELISE, channel=Channel.COUNTER, departments=frozenset({"population"}))
    others = [run(idempotency_table, submissions, key, principal=caller) for caller in (pieter, at_kiosk, agent)]
    # Then each ran its own submission: none got Elise's portal reply
    assert len(submissions.made) == 4
    assert hers not in others
    # And Elise on the portal still gets hers
    assert run(idempotency_table, submissions, key) == hers


def test_a_failed_submission_leaves_the_key_free(idempotency_table: str) -> None:
    # Given a keyed submission that fails (a domain error)
    key = str(uuid.uuid4())

    def refused() -> CaseCreated:
        raise ForbiddenError("not on this channel")

    with pytest.raises(ForbiddenError):
        run(idempotency_table, refused, key)
    # When it is sent again with the same key
    submissions = Submissions()
    created = run(idempotency_table, submissions, key)
    # Then it runs: the failure was not stored as the key's answer
    assert submissions.made == [created]


def test_without_a_key_nothing_is_stored(idempotency_table: str) -> None:
    # Given the idempotency records so far
    dynamodb = boto3.client("dynamodb")
    before = dynamodb.scan(TableName=idempotency_table, Select="COUNT")["Count"]
    # When a submission is made twice without a key
    submissions = Submissions()
    run(idempotency_table, submissions, None)
    run(idempotency_table, submissions, None)
    # Then both ran, and no record was written
    assert len(submissions.made) == 2
    assert dynamodb.scan(TableName=idempotency_table, Select="COUNT")["Count"] == before


def test_a_record_expires_in_24_hours_and_holds_nothing_personal_in_clear(idempotency_table: str) -> None:
    # Given a keyed submission
    key = f"key-{uuid.uuid4().hex}"
    created = run(idempotency_table, Submissions(), key)
    # Then its record expires a day later (the table's TTL attribute), and neither the citizen's number nor the key
    # nor the form is readable in it: only digests and the reply
    dynamodb = boto3.client("dynamodb")
    items = [
        item
        for item in dynamodb.scan(TableName=idempotency_table)["Items"]
        if created.case_id in item.get("data", {}).get("S", "")
    ]
    assert len(items) == 1
    item = items[0]
    assert item["status"]["S"] == "COMPLETED"
    assert abs(int(item["expiration"]["N"]) - (time.time() + RECORD_TTL_SECONDS)) < 300
    text = repr(item)
    for secret in (ELISE, key, "employment"):
        assert secret not in text
