"""Hostile or broken input through the API: always a 4xx JSON error naming the field and the reason, never a 5xx,
nothing stored, nothing of the body in the logs."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import pytest

from omnicity.domain.nrn import make_nrn
from tests.conftest import Api, Reply

CITIZEN = make_nrn(date(1977, 4, 21), 313)  # a citizen of this module only: their case count is this module's
SUBMISSION = b'{"procedure_id": "residence-certificate", "language": "fr", "form": {"purpose": %s}}'


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return api.token(CITIZEN)


def error_of(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.body
    assert reply.headers.get("Content-Type", reply.headers.get("content-type", "")).startswith("application/json")
    return dict(reply.json["error"])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 5000, "nested too deeply"),
        (b"{" * 5000, "not valid JSON"),
        (SUBMISSION % (b"[" * 5000 + b"]" * 5000), "nested too deeply"),
        (SUBMISSION % (b"1" * 5000), "too many digits"),
        (SUBMISSION % (b"-" + b"9" * 4301), "too many digits"),
        (b'{"procedure_id": "residence-certificate",', "not valid JSON"),
    ],
    ids=["deep-array", "deep-object", "deep-in-form", "long-integer", "long-negative-integer", "truncated"],
)
def test_a_body_that_is_not_reasonable_json_is_400_naming_the_body(
    api: Api, token: str, body: bytes, reason: str
) -> None:
    # Given the citizen's current number of cases
    before = api.case_count(token)
    # When the body is JSON no parser should have to follow
    reply = api.request("POST", "/v1/cases", token=token, raw=body)
    # Then a 400 names the body and says why, and nothing was stored
    error = error_of(reply, 400)
    assert error["code"] == "malformed_request"
    [detail] = error["details"]
    assert detail["field"] == "body"
    assert reason in detail["reason"]
    assert api.case_count(token) == before


def test_a_body_that_is_not_utf8_is_400_and_is_not_logged(
    api: Api, token: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    before = api.case_count(token)
    body = '{"procedure_id": "residence-certificate", "language": "fr", "form": {"purpose": "Mérode-7731"}}'
    capfd.readouterr()
    # When the body is latin-1, not UTF-8
    reply = api.request("POST", "/v1/cases", token=token, raw=body.encode("latin-1"))
    # Then a 400 names the body, nothing was stored...
    error = error_of(reply, 400)
    assert error["code"] == "malformed_request"
    assert error["details"] == [{"field": "body", "reason": "not UTF-8 text"}]
    assert api.case_count(token) == before
    # ...and nothing of the body, nor the decoding failure, reached the logs
    out, err = capfd.readouterr()
    for logged in (out, err, caplog.text):
        assert "7731" not in logged
        assert "UnicodeDecodeError" not in logged
        assert "can't decode" not in logged


@pytest.mark.parametrize(
    "body",
    [b"[]", b"[" + SUBMISSION % b'"housing"' + b"]", b'"residence-certificate"', b"42", b"null"],
    ids=["empty-array", "array-of-a-valid-submission", "string", "number", "null"],
)
def test_a_body_that_is_not_an_object_is_422_naming_the_body(api: Api, token: str, body: bytes) -> None:
    # (Powertools alone takes an array's first item for the body: a valid submission in an array was stored)
    before = api.case_count(token)
    reply = api.request("POST", "/v1/cases", token=token, raw=body)
    error = error_of(reply, 422)
    assert error["code"] == "validation_failed"
    assert [detail["field"] for detail in error["details"]] == ["body"]
    assert error["details"][0]["reason"]
    assert api.case_count(token) == before


@pytest.mark.parametrize("limit", ["0", "abc", "101", "-1", "1e3"])
def test_a_bad_limit_is_422_naming_the_limit(api: Api, token: str, limit: str) -> None:
    reply = api.request("GET", "/v1/cases", token=token, query=f"limit={limit}")
    error = error_of(reply, 422)
    assert error["code"] == "validation_failed"
    assert [detail["field"] for detail in error["details"]] == ["limit"]
    assert error["details"][0]["reason"]


@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(b"[" * 1500).decode(),
        base64.urlsafe_b64encode(json.dumps({"gsi1pk": {"S": f"CITIZEN#{CITIZEN}"}}).encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(json.dumps({"gsi1pk": {"S": 7}, "pk": []}).encode()).decode().rstrip("="),
        "not a cursor",
    ],
    ids=["deeply-nested", "old-style-key", "wrong-types", "garbage"],
)
def test_a_bad_cursor_is_400_naming_the_cursor(api: Api, token: str, cursor: str) -> None:
    reply = api.request("GET", "/v1/cases", token=token, query=f"cursor={cursor}")
    error = error_of(reply, 400)
    assert error["code"] == "malformed_request"
    assert [detail["field"] for detail in error["details"]] == ["cursor"]


def test_a_good_submission_still_works_after_all_that(api: Api, token: str) -> None:
    before = api.case_count(token)
    reply = api.request("POST", "/v1/cases", token=token, raw=SUBMISSION % b'"employment"')
    assert reply.status == 201, reply.body
    assert api.case_count(token) == before + 1
