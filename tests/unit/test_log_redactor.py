"""The Logger's redaction: personal data and credentials never reach a log line, whatever the code hands it."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from infra.local.template import load_template
from omnicity.observability import REDACTED, logger, redact, redact_text
from tests.conftest import ROOT

NRN = "87031413235"
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImxvY2FsIn0.eyJzdWIiOiI4NzAzMTQxMzIzNSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
PRESIGNED = (
    "https://omnicity-dev-documents.s3.eu-west-1.amazonaws.com/cases/c1/d1.pdf"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261129%2Feu-west-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20261129T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host"
    "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400"
)


@contextmanager
def written() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines the platform's Logger writes inside the block, as they would reach CloudWatch."""
    stream = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        handler.setStream(previous)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


@pytest.mark.parametrize("written", [NRN, "87.03.14-132.35", "870314-132.35", "87.03.14 132.35"])
def test_a_national_register_number_in_a_message_is_redacted_in_any_usual_writing(written: str) -> None:
    assert redact_text(f"no person for {written}.") == f"no person for {REDACTED}."


def test_the_platforms_logger_scrubs_messages_extra_fields_and_nested_values() -> None:
    case_id = str(uuid.uuid4())
    with written() as lines:
        # When code logs a message and fields holding a person, their contact, a form and credentials
        logger.info(
            f"case of {NRN} for elise.exemplaire@example.be",
            extra={
                "case_id": case_id,
                "first_name": "Élise",
                "applicant": {"nrn": NRN, "email": "elise.exemplaire@example.be"},
                "custom:nrn": NRN,
                "reporter_email": "jo@example.org",
                "headers": {"Authorization": f"Bearer {JWT}", "Accept": "application/json"},
                "items": [{"last_name": "Exemplaire", "street": "Rue du Marché aux Herbes"}, {"task_token": "AQB8="}],
                "form": {"address": {"street": "Rue Haute", "number": "120"}},
                "inquiry": {"task_id": "task-1", "question": "Quel usage ?", "answer": "Pour un emploi"},
                "national_number": int(NRN),
                "bytes": 12345,
            },
        )
    [line] = lines
    # Then none of it is written, and what is not personal is kept as it was
    text = json.dumps(line, ensure_ascii=False)
    for secret in (NRN, "elise.exemplaire@example.be", "Élise", "Exemplaire", "Rue", "jo@example.org", JWT, "AQB8"):
        assert secret not in text
    assert line["message"] == f"case of {REDACTED} for {REDACTED}"
    assert line["case_id"] == case_id
    assert line["first_name"] == REDACTED
    assert line["applicant"] == REDACTED
    assert line["custom:nrn"] == REDACTED
    assert line["reporter_email"] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert line["items"] == [{"last_name": REDACTED, "street": REDACTED}, {"task_token": REDACTED}]
    assert line["form"] == REDACTED
    assert line["inquiry"] == {"task_id": "task-1", "question": REDACTED, "answer": REDACTED}
    assert line["national_number"] == REDACTED
    assert line["bytes"] == 12345
    assert (line["level"], line["service"]) == ("INFO", "omnicity")


def test_tokens_in_free_text_are_redacted() -> None:
    assert redact_text(f"token {JWT} refused") == f"token {REDACTED} refused"
    assert redact_text("Authorization: Bearer 0paque-t0ken.value") == f"Authorization: Bearer {REDACTED}"
    assert redact_text("Authorization: Basic dXNlcjpwYXNz") == f"Authorization: Basic {REDACTED}"


def test_a_presigned_url_keeps_its_object_and_loses_its_signature_and_credentials() -> None:
    scrubbed = redact_text(f"link: {PRESIGNED}")
    assert "cases/c1/d1.pdf" in scrubbed
    assert "X-Amz-Expires=300" in scrubbed
    for secret in ("AKIAEXAMPLE", "IQoJb3JpZ2luX2VjEXAMPLE", "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400"):
        assert secret not in scrubbed
    assert f"X-Amz-Signature={REDACTED}" in scrubbed
    # SigV2 (older presigned URLs) too
    assert "abc123" not in redact_text("https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIA&Signature=abc123&Expires=1")


def test_an_exception_logged_is_scrubbed_in_its_message_traceback_and_stack_trace() -> None:
    # Given a failure whose message names a person's number and email
    with written() as lines:
        try:
            raise LookupError(f"no register entry for {NRN} (elise.exemplaire@example.be)")
        except LookupError:
            # When it is logged with its traceback
            logger.exception("register lookup failed", extra={"case_id": "c-1"})
    # Then the exception is there, by name, place and message, without the personal data
    [line] = lines
    assert line["exception_name"] == "LookupError"
    assert f"LookupError: no register entry for {REDACTED} ({REDACTED})" in line["exception"]
    assert line["stack_trace"]["value"] == f"no register entry for {REDACTED} ({REDACTED})"
    assert line["stack_trace"]["frames"][0]["function"] == (
        "test_an_exception_logged_is_scrubbed_in_its_message_traceback_and_stack_trace"
    )
    assert NRN not in json.dumps(line)
    assert "elise.exemplaire" not in json.dumps(line)


def test_pydantic_echoes_of_rejected_input_are_redacted() -> None:
    class Address(BaseModel):
        street: str
        number: str = Field(pattern=r"^\d+[A-Z]?$")

    with pytest.raises(ValidationError) as raised:
        Address.model_validate({"street": "Rue Haute", "number": "cent vingt, Élise Exemplaire"})
    scrubbed = redact_text(str(raised.value))
    assert "Élise" not in scrubbed
    assert f"input_value={REDACTED}" in scrubbed
    assert "number" in scrubbed  # the field that failed is still named


@pytest.mark.parametrize(
    "kept",
    [
        "2026-11-29 12:04:18,934+0000",
        "2026-11-29T12:04:18.934+01:00",
        "BXL-2026-000123",
        "1-5759e988-bd862e3fe1be46a994272793",
        "3f2b8c1e-0a4d-4e7b-9c61-123456789012",
        "1795953858935",
        "arn:aws:states:eu-west-1:123456789012:execution:document-request:3f2b8c1e",
        "uploads/5f0c/0123456789abcdef.jpg",
        "rate(15 minutes)",
    ],
)
def test_ids_timestamps_references_and_arns_are_kept(kept: str) -> None:
    assert redact_text(kept) == kept


def test_redact_keeps_the_shape_of_what_it_is_given() -> None:
    assert redact({"count": 3, "ok": True, "ratio": 0.5, "none": None, "ids": ("a", "b")}) == {
        "count": 3,
        "ok": True,
        "ratio": 0.5,
        "none": None,
        "ids": ["a", "b"],
    }
    assert redact(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"


def test_the_deployed_functions_trace_no_response_or_error_and_log_no_event() -> None:
    # Traces and events carry what the logs must not: the template keeps them out for every function
    template = load_template(ROOT / "template.yaml")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    assert "POWERTOOLS_LOGGER_LOG_EVENT" not in variables
    handlers = sorted((ROOT / "functions").glob("*/app.py"))
    assert handlers
    for handler in handlers:
        decorators = re.findall(r"@logger\.inject_lambda_context\((.*)\)", handler.read_text())
        assert decorators, f"{handler}: no Logger context"
        assert all("log_event=False" in arguments for arguments in decorators), handler
