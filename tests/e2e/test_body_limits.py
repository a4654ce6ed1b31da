"""How much a request may carry: 64 KiB of body on every route of the functions (refused with 413 before anything
reads it), photos straight to S3 through a presigned POST (JPEG or PNG, 5 MB at most). API Gateway's own limit,
10 MB, stands before both."""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Final
from urllib.parse import urlencode

import pytest

from omnicity.http.edge import MAX_BODY_BYTES
from tests.conftest import ELISE, PIETER, ROOT, Api, Reply

FORM: Final = "application/x-www-form-urlencoded"
SUBMISSION: Final = {"procedure_id": "residence-certificate", "language": "fr", "form": {"purpose": "employment"}}


@pytest.fixture(scope="module")
def elise(api: Api) -> str:
    return api.token(ELISE)


def padded(document: Any, size: int) -> bytes:
    """``document`` as JSON, padded with spaces (valid JSON whitespace) to exactly ``size`` bytes."""
    text = json.dumps(document).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


def too_large(reply: Reply) -> dict[str, Any]:
    assert reply.status == 413, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    error = dict(reply.json["error"])
    assert error["code"] == "payload_too_large"
    [detail] = error["details"]
    assert detail["field"] == "body"
    assert f"at most {MAX_BODY_BYTES} bytes" in detail["reason"]
    return error


def test_the_documented_limit_is_the_one_enforced() -> None:
    # Given the limit docs/api.md promises clients (the 413 row of its error table)
    [row] = [line for line in (ROOT / "docs" / "api.md").read_text(encoding="utf-8").splitlines() if "| 413 |" in line]
    match = re.search(r"over (\d+) KiB", row)
    assert match is not None, row
    # Then it is the one the functions enforce (the tests below: exactly the limit is read, one byte more is a 413)
    assert int(match.group(1)) * 1024 == MAX_BODY_BYTES


def test_a_body_of_exactly_the_limit_is_read(api: Api, elise: str) -> None:
    # When Élise's submission is exactly 64 KiB (spaces after the JSON)
    reply = api.request("POST", "/v1/cases", token=elise, raw=padded(SUBMISSION, MAX_BODY_BYTES))
    # Then it is an ordinary submission
    assert reply.status == 201, reply.body
    api.wait(reply.json["case_id"])


def test_one_byte_more_is_413_naming_the_body_and_stores_nothing(api: Api, elise: str) -> None:
    before = api.case_count(elise)
    # When the same submission is one byte over the limit
    reply = api.request("POST", "/v1/cases", token=elise, raw=padded(SUBMISSION, MAX_BODY_BYTES + 1))
    # Then it is refused, naming the body and the limit, and no case was made
    error = too_large(reply)
    assert error["details"][0]["reason"].startswith(f"{MAX_BODY_BYTES + 1} bytes")
    assert api.case_count(elise) == before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff" * (MAX_BODY_BYTES + 1), "application/json"),  # not UTF-8: API Gateway hands it over in base64
        (urlencode({"procedure_id": "x" * MAX_BODY_BYTES}).encode(), FORM),  # Powertools parses forms itself
        (b"--x\r\n" + b"a" * MAX_BODY_BYTES, "multipart/form-data; boundary=x"),  # and multipart
        ("é".encode() * (MAX_BODY_BYTES // 2 + 1), "text/plain"),  # counted in bytes, not characters
    ],
    ids=["binary", "form", "multipart", "two-byte-characters"],
)
def test_the_limit_holds_whatever_the_body_is(api: Api, elise: str, body: bytes, content_type: str) -> None:
    reply = api.request("POST", "/v1/cases", token=elise, raw=body, headers={"Content-Type": content_type})
    too_large(reply)


def test_a_route_without_a_body_refuses_a_large_one_too(api: Api, elise: str) -> None:
    reply = api.request(
        "POST", "/v1/cases/00000000-0000-0000-0000-000000000000/cancel", token=elise, raw=b"{}" + b" " * MAX_BODY_BYTES
    )
    too_large(reply)


def test_a_public_route_refuses_it_and_the_portal_can_read_why(api: Api) -> None:
    # When a browser page posts a large anonymous report
    reply = api.request(
        "POST", "/v1/reports", raw=b" " * (MAX_BODY_BYTES + 1), headers={"Origin": "https://portal.example"}
    )
    # Then the 413 carries the CORS header the page needs to read it
    too_large(reply)
    assert reply.headers["Access-Control-Allow-Origin"]


def test_without_a_token_the_authorizer_answers_first(api: Api) -> None:
    # (API Gateway's authorizer runs before any function: a stranger's large body never reaches one)
    reply = api.request("POST", "/v1/cases", raw=b" " * (MAX_BODY_BYTES + 1))
    assert reply.status == 401


def test_open311_refuses_a_large_post_in_the_specs_format(api: Api) -> None:
    body = urlencode({"api_key": "omnicity-open311-demo-key", "description": "x" * MAX_BODY_BYTES}).encode()
    reply = api.request("POST", "/open311/v2/requests.json", raw=body, headers={"Content-Type": FORM})
    assert reply.status == 413, reply.body
    [error] = reply.json
    assert error["code"] == 413
    assert error["description"].startswith("body: ")


# ------------------------------------------------------------------------------------------------ photos
def upload_slot(api: Api, token: str, content_type: str) -> Reply:
    return api.request("POST", "/v1/uploads", token=token, body={"content_type": content_type})


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png"])
def test_a_photo_goes_to_s3_under_a_policy_of_its_type_and_5_mb(api: Api, elise: str, content_type: str) -> None:
    # When Élise asks where to upload a photo
    reply = upload_slot(api, elise, content_type)
    assert reply.status == 201, reply.body
    slot = reply.json
    # Then the presigned POST's policy (S3 enforces it) allows that type only, 1 byte to 5 MB, under her folder only
    policy = json.loads(base64.b64decode(slot["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 5 * 1024 * 1024] in conditions
    assert {"Content-Type": content_type} in conditions
    assert {"key": slot["key"]} in conditions
    assert slot["key"].startswith("uploads/")
    # her folder: the same for each of her photos, another for anyone else's, and not her NRN
    folder = slot["key"].split("/")[1]
    again = upload_slot(api, elise, content_type).json["key"]
    someone_else = upload_slot(api, api.token(PIETER), content_type).json["key"]
    assert again.split("/")[1] == folder != someone_else.split("/")[1]
    assert again != slot["key"]
    assert ELISE not in folder
    assert slot["key"].endswith(".jpg" if content_type == "image/jpeg" else ".png")
    assert slot["max_bytes"] == 5 * 1024 * 1024
    assert slot["fields"]["Content-Type"] == content_type


@pytest.mark.parametrize("content_type", ["image/svg+xml", "text/html", "application/pdf", "image/gif"])
def test_only_jpeg_and_png_are_accepted(api: Api, elise: str, content_type: str) -> None:
    reply = upload_slot(api, elise, content_type)
    assert reply.status == 422, reply.body
    assert [detail["field"] for detail in reply.json["error"]["details"]] == ["content_type"]
