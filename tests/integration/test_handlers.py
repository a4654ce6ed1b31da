"""Each Lambda handler with the real-shaped sample events of events/ (what `sam local invoke -e` sends), against
moto resources built from template.yaml."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.local.runtime import LocalRuntime
from omnicity.adapters.cases import CaseRepository
from omnicity.domain.errors import StepInputError
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from tests.conftest import ELISE, NO_ROUTE, ROOT, Api

EVENTS = ROOT / "events"
SAMPLE_CASE_ID = json.loads((EVENTS / "validate_request.json").read_text())["case_id"]


def event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text(encoding="utf-8")))


def invoke(runtime: LocalRuntime, function: str, payload: dict[str, Any]) -> Any:
    return runtime.bridge.invoke_function(function, payload)


def seed(
    repository: CaseRepository, case_id: str, language: Language = Language.NL, reference: str | None = None
) -> Case:
    now = datetime.now(UTC)
    return repository.create(
        Case(
            case_id=case_id,
            reference=reference or f"BXL-2099-{case_id[:6]}",
            procedure_id="residence-certificate",
            applicant=Applicant(nrn=ELISE, email="elise.exemplaire@example.be"),
            channel=Channel.PORTAL,
            language=language,
            form={"purpose": "employment"},
            status=CaseStatus.SUBMITTED,
            timeline=[TimelineEntry(at=now, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
            submitted_by="citizen",
            created_at=now,
            updated_at=now,
        )
    )


def test_every_function_has_a_sample_event(runtime: LocalRuntime) -> None:
    # Given the template's functions and their code folders
    for spec in runtime.description.functions.values():
        folder = Path(spec.code_dir).name
        # Then events/ has at least one event for each (api_*.json for the API, <folder>.json for a step)
        assert list(EVENTS.glob(f"{folder}*.json")), f"no sample event for {spec.logical_id} in events/"


def test_the_steps_run_one_after_the_other_from_the_sample_events(
    runtime: LocalRuntime, repository: CaseRepository, api: Api
) -> None:
    # Given the sample events' case, submitted (no workflow started: each step is invoked by hand, as with sam local)
    seed(repository, SAMPLE_CASE_ID, reference="BXL-2026-000042")
    # When each step function is invoked with its sample event
    assert invoke(runtime, "ValidateRequestFunction", event("validate_request.json"))["status"] == "in_progress"
    assert invoke(runtime, "CheckEligibilityFunction", event("check_eligibility.json"))["outcome"] == "eligible"
    rendered = invoke(runtime, "RenderDocumentFunction", event("render_document.json"))
    assert len(rendered["documents"]) == 1
    invoke(runtime, "NotifyFunction", event("notify.json"))
    assert invoke(runtime, "CompleteCaseFunction", event("complete_case.json"))["status"] == "completed"
    # Then the API's sample "get case" event sees the completed case with its Dutch document
    reply = invoke(runtime, "ApiFunction", event("api_get_case.json"))
    assert reply["statusCode"] == 200
    body = json.loads(reply["body"])
    assert body["status"] == "completed"
    assert [doc["language"] for doc in body["documents"]] == ["nl"]
    assert [e["event"] for e in body["timeline"]][-1] == "completed"
    assert any("BXL-2026-000042" in mail["subject"] for mail in api.outbox())


def test_mark_failed_sample_event_fails_a_case_with_its_cause(
    runtime: LocalRuntime, repository: CaseRepository
) -> None:
    # Given an in-progress case
    case_id = "1f0a3a52-0d7c-4d39-a1a5-6f7a2f0b9c01"
    seed(repository, case_id)
    invoke(runtime, "ValidateRequestFunction", {"case_id": case_id})
    # When the Catch target gets the sample error for it
    result = invoke(runtime, "MarkFailedFunction", {**event("mark_failed.json"), "case_id": case_id})
    # Then the case is failed, with the error kept for agents
    assert result["status"] == "failed"
    failed = repository.get(case_id)
    assert failed.failure is not None
    assert failed.failure.error == "TransientError"
    assert failed.reason is not None


def test_an_execution_that_ended_without_a_catch_fails_its_case(
    runtime: LocalRuntime, repository: CaseRepository
) -> None:
    # Given an in-progress case whose execution then timed out (EventBridge's execution-ended rule, transformed)
    case_id = "2a9e64b1-7a3c-4f0e-8d55-0c3b7e6f1a22"
    seed(repository, case_id)
    invoke(runtime, "ValidateRequestFunction", {"case_id": case_id})
    ended = {**event("mark_failed_execution_ended.json"), "case_id": case_id}
    # When MarkFailed receives it
    result = invoke(runtime, "MarkFailedFunction", ended)
    # Then the case is failed instead of staying in progress forever
    assert result["status"] == "failed"
    failure = repository.get(case_id).failure
    assert failure is not None
    assert failure.error == "TIMED_OUT"


@pytest.mark.parametrize("function", ["ValidateRequestFunction", "NotifyFunction", "MarkFailedFunction"])
def test_a_step_given_malformed_input_raises_a_named_error(runtime: LocalRuntime, function: str) -> None:
    # A state machine that hands a step the wrong shape gets StepInputError (never retried, caught into MarkFailed)
    with pytest.raises(StepInputError):
        invoke(runtime, function, {"not_a_case_id": True})


def test_the_api_sample_events_answer(runtime: LocalRuntime) -> None:
    # Given the API's sample events
    listed = invoke(runtime, "ApiFunction", event("api_list_procedures.json"))
    detail = invoke(runtime, "ApiFunction", event("api_get_procedure.json"))
    submitted = invoke(runtime, "ApiFunction", event("api_submit_case.json"))
    mine = invoke(runtime, "ApiFunction", event("api_list_cases.json"))
    # Then each answers as the API does, with JSON
    assert listed["statusCode"] == 200
    assert detail["statusCode"] == 200
    assert json.loads(detail["body"])["id"] == "residence-certificate"
    assert submitted["statusCode"] == 201
    case_id = json.loads(submitted["body"])["case_id"]
    assert mine["statusCode"] == 200
    assert case_id in [item["case_id"] for item in json.loads(mine["body"])["items"]]


API_EVENTS = sorted(EVENTS.glob("api_*.json"), key=lambda path: path.name)
OPERATIONS = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))["paths"]


@pytest.mark.parametrize("path", API_EVENTS, ids=lambda path: path.name)
def test_every_api_sample_event_is_a_documented_operation_and_gets_a_documented_answer(
    runtime: LocalRuntime, path: Path
) -> None:
    # Given a sample event of the API, as `sam local invoke ApiFunction -e` sends it
    sample = event(path.name)
    resource, method = sample["resource"], sample["httpMethod"].lower()
    # Then it names an operation of the committed OpenAPI document, its path filled in from its path parameters
    assert method in OPERATIONS.get(resource, {}), f"{path.name}: {method.upper()} {resource} is not an operation"
    filled = resource
    for name, value in (sample["pathParameters"] or {}).items():
        filled = filled.replace("{" + name + "}", value)
    assert filled == sample["path"] == sample["requestContext"]["path"].removeprefix("/dev")
    assert sample["requestContext"]["resourcePath"] == resource
    # And the API answers it with JSON and a status that operation documents (the sample ids may exist or not)
    reply = invoke(runtime, "ApiFunction", sample)
    documented = set(OPERATIONS[resource][method]["responses"])
    assert str(reply["statusCode"]) in documented, (reply["statusCode"], reply["body"])
    answer = json.loads(reply["body"])
    assert isinstance(answer, dict)
    # a 404 of the route itself would be documented too: it must come from the operation, about its own ids
    assert not str(answer.get("error", {}).get("message", "")).startswith(NO_ROUTE)
