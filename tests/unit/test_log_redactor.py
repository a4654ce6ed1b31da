"""The Logger's redaction: personal data and credentials never reach a log line, whatever the code hands it."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from infra.local.template import load_template
from omnicity.domain.nrn import make_nrn, normalize_nrn
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


@pytest.mark.parametrize(
    "written",
    [
        NRN,
        "87.03.14-132.35",
        "870314-132.35",
        "87.03.14 132.35",
        "87 03 14 132 35",
        "87-03-14-132-35",
        "8703 1413 235",
        "87\u00a003\u00a014\u00a0132\u00a035",  # no-break spaces, as a word processor puts them
        "87.03.14-132.36",  # mistyped (the check fails), but written as on the card: still somebody's number
        "87031413236",
    ],
)
def test_a_national_register_number_in_a_message_is_redacted_in_any_usual_writing(written: str) -> None:
    assert redact_text(f"no person for {written}.") == f"no person for {REDACTED}."


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("nrn87031413235", f"nrn{REDACTED}"),
        ("NRN:87031413235;", f"NRN:{REDACTED};"),
        ("rrn_87.03.14-132.35_ok", f"rrn_{REDACTED}_ok"),
        ("87031413235abc", f"{REDACTED}abc"),
        ("case 12 87031413235 opened", f"case 12 {REDACTED} opened"),  # a count just before it
        ("8 7 0 3 1 4 1 3 2 3 5", REDACTED),
        ("8.7-0 3..1-4 1 3.2-3 5", REDACTED),
        ("01020312345 and 87031413235", f"{REDACTED} and {REDACTED}"),  # born 2001: the check on "2" + nine digits
        ("87 03 14 132 35 72 03 03 241 38", f"{REDACTED} {REDACTED}"),  # two in one run of digits
    ],
)
def test_a_national_register_number_is_redacted_glued_to_letters_or_written_with_any_separators(
    text: str, scrubbed: str
) -> None:
    assert redact_text(text) == scrubbed


# Every way normalize_nrn accepts: separators (whitespace of any kind, dots, dashes), as many as one likes, anywhere.
SEPARATOR = re.compile(r"[\s.\-]")
separators = st.text(
    st.sampled_from([chr(code) for code in range(sys.maxunicode + 1) if SEPARATOR.fullmatch(chr(code))]), max_size=3
)


@st.composite
def spelled_nrns(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """A valid NRN (any birth date the register can hold, any sequence) and a way of typing it: the separators
    before its first digit, the digits with the separators between them, the separators after its last digit."""
    nrn = make_nrn(draw(st.dates(date(1900, 1, 1), date(2099, 12, 31))), draw(st.integers(1, 998)))
    typed = nrn[0] + "".join(draw(separators) + digit for digit in nrn[1:])
    lead, trail = draw(separators), draw(separators)
    assert normalize_nrn(lead + typed + trail) == nrn  # a spelling the platform accepts
    return nrn, lead, typed, trail


@given(spelled=spelled_nrns(), before=st.text(max_size=20), after=st.text(max_size=20))
@settings(max_examples=300, deadline=None)
def test_any_spelling_of_any_nrn_in_any_text_is_redacted(
    spelled: tuple[str, str, str, str], before: str, after: str
) -> None:
    # Given a text that holds a national register number as somebody typed it (no digit against its first or last
    # digit: that would make it another, longer number)
    nrn, lead, typed, trail = spelled
    assume(not re.search(r"[0-9]\Z", before + lead) and not re.match(r"[0-9]", trail + after))
    assume(nrn not in digits_of(before) and nrn not in digits_of(after))
    # When it is redacted
    scrubbed = redact_text(before + lead + typed + trail + after)
    # Then its digits are gone, however one reads what is left
    assert nrn not in digits_of(scrubbed)
    assert REDACTED in scrubbed


def digits_of(text: str) -> str:
    """``text`` without the separators normalize_nrn removes."""
    return SEPARATOR.sub("", text)


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
    # (Powertools' own location is where the code logged: kept)
    assert line["location"].startswith("test_the_platforms_logger_scrubs_messages_extra_fields_and_nested_values:")


def test_what_people_wrote_where_they_were_and_what_they_showed_is_redacted_by_field() -> None:
    # When code logs a report's and a decision's fields by name
    fields: dict[str, Any] = {
        "description": "Tag sur la façade du 63",
        "reason": "visite au guichet de Mme Exemplaire",
        "location": {"lat": 50.8466, "lon": 4.3528},
        "lat": 50.8466,
        "lon": 4.3528,
        "long": 4.3528,
        "latitude": 50.8466,
        "longitude": 4.3528,
        "postal_code": "1000",
        "postalCode": "1000",
        "number": "63",
        "attachments": ["uploads/5f0c/0123456789abcdef.jpg"],
        "photos": ["uploads/5f0c/0123456789abcdef.jpg"],
        "media_url": "https://omnicity-dev-documents.s3.amazonaws.com/uploads/x.jpg",
        "purpose": "Animation de rue",
        "access_notes": "Code de la porte: 1234",
        "comment": "Refusé: condamnation incompatible.",
    }
    with written() as lines:
        logger.info("report read", extra={"case_id": "c-1", "report": fields})
    # Then each value is gone, the field names and the ids are kept
    [line] = lines
    assert line["report"] == dict.fromkeys(fields, REDACTED)
    assert line["case_id"] == "c-1"


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


class Report(BaseModel):
    count: int
    address: dict[str, str]
    tags: list[str]


@pytest.mark.parametrize(
    ("field", "value", "secrets"),
    [
        # a dict where a number is expected: its repr has commas, colons and quotes
        ("count", {"street": "Rue Haute", "number": "120", "box": "b"}, ["Rue Haute", "120", "box"]),
        # a list of strings holding both kinds of quotes
        ("count", ["Élise's flat", 'the "blue" door', "2nd floor"], ["Élise", "blue", "2nd floor"]),
        # nested containers (pydantic cuts a long repr in its middle: both ends are echoed)
        ("count", {"who": [{"name": "Jo, Vandersmissen"}], "at": ("Place", "Flagey")}, ["Jo, Va", "Flagey"]),
        # a value that writes pydantic's own marker: what comes after it is the citizen's too
        ("count", "12, input_type=str] Élise Exemplaire, Rue Haute", ["Élise", "Rue Haute"]),
        # a string where a dict is expected, with a line break and a backslash in it
        ("address", "Rue Haute 120\nÉlise \\ Exemplaire", ["Rue Haute", "Élise", "Exemplaire"]),
    ],
    ids=["dict", "list", "nested", "marker-in-value", "newline-in-string"],
)
def test_the_whole_rejected_value_pydantic_echoes_is_redacted(field: str, value: Any, secrets: list[str]) -> None:
    # Given pydantic refusing a value whatever its shape
    document: dict[str, Any] = {"count": 1, "address": {}, "tags": ["ok"], field: value}
    with pytest.raises(ValidationError) as raised:
        Report.model_validate(document)
    message = str(raised.value)
    assert all(secret in message for secret in secrets)  # pydantic does echo it
    # When its message is redacted
    scrubbed = redact_text(message)
    # Then nothing of the value is left, and the field, the reason and pydantic's type of input still are
    assert [secret for secret in secrets if secret in scrubbed] == []
    assert f"input_value={REDACTED}, input_type=" in scrubbed
    assert field in scrubbed
    assert "For further information visit https://errors.pydantic.dev" in scrubbed


def test_each_error_of_a_pydantic_message_keeps_its_own_line() -> None:
    # Given two fields refused at once
    with pytest.raises(ValidationError) as raised:
        Report.model_validate({"count": {"a": "Élise, 12"}, "address": "Rue Haute, 120", "tags": ["ok"]})
    # When the message is redacted / Then each echo goes, and the second field is still named after the first
    scrubbed = redact_text(str(raised.value))
    assert scrubbed.count(f"input_value={REDACTED}, input_type=") == 2
    assert "Élise" not in scrubbed
    assert "Rue Haute" not in scrubbed
    assert "\naddress\n" in scrubbed


def test_an_echo_without_pydantics_marker_goes_to_the_end_of_its_line() -> None:
    assert redact_text("input_value={'a': 'Élise, b'} cut here\nnext line") == f"input_value={REDACTED}\nnext line"


@pytest.mark.parametrize(
    "kept",
    [
        "2026-11-29 12:04:18,934+0000",
        "2026-11-29T12:04:18.934+01:00",
        "2026-12-04",
        "due on 2026-12-04, 3 tasks",
        "from 2026-12-04 to 2026-12-18",
        "BXL-2026-000123",
        "BXL-2026-000123 and BXL-2026-000124",
        "1-5759e988-bd862e3fe1be46a994272793",
        "3f2b8c1e-0a4d-4e7b-9c61-123456789012",
        "12345678-9012-3456-7890-123456789012",
        "task-0123456789a1234567",
        "doc-81234567890123456789",
        "1795953858935",
        "1795953858",
        "Duration: 1234.56 ms Billed Duration: 1235 ms Memory Size: 512 MB Max Memory Used: 98 MB",
        "arn:aws:states:eu-west-1:123456789012:execution:document-request:3f2b8c1e",
        "uploads/5f0c/0123456789abcdef.jpg",
        "rate(15 minutes)",
        "10.0.12.345",
        "12345678901234",  # 14 digits: no national register number is that long
        "nrn87031413236",  # glued to letters and failing the check: an id, not a number somebody typed
    ],
)
def test_ids_timestamps_references_and_arns_are_kept(kept: str) -> None:
    assert redact_text(kept) == kept


@given(moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.timezones()))
@settings(deadline=None)
def test_dates_and_timestamps_are_kept_whatever_the_moment(moment: datetime) -> None:
    for written in (moment.isoformat(), str(moment), moment.date().isoformat(), f"{moment:%Y-%m-%d %H:%M:%S,%f%z}"):
        assert redact_text(f"at {written} done") == f"at {written} done"


@given(year=st.integers(2000, 2099), sequence=st.integers(0, 999_999), count=st.integers(0, 10**6))
def test_case_references_are_kept_whatever_follows_them(year: int, sequence: int, count: int) -> None:
    text = f"BXL-{year}-{sequence:06d}, {count} items, BXL-{year}-{sequence:06d}."
    assert redact_text(text) == text


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
