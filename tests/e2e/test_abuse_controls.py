"""Abuse controls end to end, on a platform of its own with the template's own limits: anonymous reports limited per
source address (the portal's route and Open311's), hand-off codes refused to a citizen who has guessed too many, and
photos that are not the image they say refused where a form or an answer references them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from PIL import Image

from infra.local.runtime import LocalRuntime
from omnicity.domain.handoff import check_character
from tests.conftest import ELISE, HUGO, PIETER, Api, Reply, agent, documents_bucket, fresh_runtime, is_not_found
from tests.e2e.test_ask_citizen import asked

REPORT_LIMIT = 10  # template.yaml: AnonymousReportLimit's Default
REPORT_WINDOW = 600  # AnonymousReportWindowSeconds
HANDOFF_FAILURES = 5  # the API function's HANDOFF_FAILURE_LIMIT
HANDOFF_WINDOW = 900  # HANDOFF_FAILURE_WINDOW_SECONDS
GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}
ALERT: dict[str, Any] = {
    "category": "litter",
    "description": "Sacs poubelles éventrés sur le trottoir.",
    "location": GRAND_PLACE,
}
REPORT: dict[str, Any] = {"procedure_id": "public-space-alert", "language": "fr", "form": ALERT}
OPEN311_FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """The platform with the template's own parameters (the shared platforms raise the report limit)."""
    with fresh_runtime("inprocess", parameters={}) as local:
        yield local


def retry_after(reply: Reply, window: int) -> int:
    """The reply's Retry-After: whole seconds, within the window."""
    value = next(value for name, value in reply.headers.items() if name.lower() == "retry-after")
    assert value.isdigit(), value
    assert 1 <= int(value) <= window
    return int(value)


def report(api: Api, source_ip: str, **changes: Any) -> Reply:
    return api.request("POST", "/v1/reports", body={**REPORT, **changes}, source_ip=source_ip)


def open311_post(api: Api, source_ip: str) -> Reply:
    body = urlencode(
        {
            "api_key": "omnicity-open311-demo-key",
            "service_code": "litter",
            "description": "Sacs poubelles éventrés.",
            "lat": "50.8467",
            "long": "4.3525",
        }
    ).encode()
    return api.request(
        "POST", "/open311/v2/requests.json", raw=body, headers={"Content-Type": OPEN311_FORM}, source_ip=source_ip
    )


def wrong_code(tag: str, attempt: int) -> str:
    """A well-formed hand-off code (its check character matches) that no case has: ``tag`` (letters of the alphabet)
    and the attempt's number, padded to 14 characters."""
    payload = f"{tag}{attempt + 2}".ljust(14, "A")
    raw = payload + check_character(payload)
    return f"{raw[:5]}-{raw[5:10]}-{raw[10:]}"


def image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (20, 120, 200)).save(buffer, format=kind)
    return buffer.getvalue()


def uploaded(api: Api, token: str, content: bytes, content_type: str = "image/jpeg") -> str:
    """Ask for an upload slot and put ``content`` where it says, declared as ``content_type`` (S3 checks only that)."""
    slot = api.request("POST", "/v1/uploads", token=token, body={"content_type": content_type})
    assert slot.status == 201, slot.body
    bucket = documents_bucket(boto3.client("s3"))
    boto3.client("s3").put_object(Bucket=bucket, Key=slot.json["key"], Body=content, ContentType=content_type)
    return str(slot.json["key"])


# ---------------------------------------------------------------------------------------------- anonymous reports
def test_the_report_after_the_limit_from_one_address_is_a_429_and_another_address_still_reports(api: Api) -> None:
    # Given reports from one address that are invalid: they cost nothing and are not counted
    for _ in range(3):
        assert report(api, "203.0.113.10", language="xx").status == 422
    # When it files as many reports as the limit allows, then one more
    for _ in range(REPORT_LIMIT):
        created = report(api, "203.0.113.10")
        assert created.status == 201, created.body
    refused = report(api, "203.0.113.10")
    # Then that one is a 429 in the API's error shape, saying when to try again
    assert refused.status == 429, refused.body
    assert refused.json["error"]["code"] == "too_many_requests"
    assert set(refused.json["error"]) == {"code", "message", "details"}
    retry_after(refused, REPORT_WINDOW)
    # And another address still reports
    assert report(api, "203.0.113.11").status == 201


def test_open311_clients_are_limited_per_address_in_the_specs_error_format(api: Api) -> None:
    # Given an Open311 app's requests from one address, as many as the limit allows
    for _ in range(REPORT_LIMIT):
        created = open311_post(api, "198.51.100.20")
        assert created.status == 200, created.body
    # When it posts one more
    refused = open311_post(api, "198.51.100.20")
    # Then it is a 429, in the spec's list of errors, with Retry-After
    assert refused.status == 429, refused.body
    [error] = refused.json
    assert error["code"] == 429
    assert "too many" in error["description"]
    retry_after(refused, REPORT_WINDOW)
    # And the same app from another address still reports
    assert open311_post(api, "198.51.100.21").status == 200


# ---------------------------------------------------------------------------------------------- hand-off codes
def test_a_citizen_who_tried_too_many_wrong_codes_is_refused_any_code_and_another_citizen_is_not(api: Api) -> None:
    # Given Élise's case started at a kiosk, with its code, and Pieter's anonymous alert, with its own
    elise, pieter = api.token(ELISE), api.token(PIETER)
    own = api.submit(api.token(ELISE, client="kiosk")).json["handoff_code"]
    alert = report(api, "192.0.2.30").json["handoff_code"]
    # And codes she mistypes: told as such (422), and not counted
    for _ in range(3):
        mistyped = api.request("POST", f"/v1/handoff/{own[:-1]}{'B' if own[-1] != 'B' else 'C'}", token=elise)
        assert mistyped.status == 422, mistyped.body
    # When she tries wrong codes, as many as the limit
    for attempt in range(HANDOFF_FAILURES):
        wrong = api.request("POST", f"/v1/handoff/{wrong_code('WRNGE', attempt)}", token=elise)
        assert is_not_found(wrong)
    # Then the next wrong code is a 429 with Retry-After, and so is her own right code until the window ends
    sixth = api.request("POST", f"/v1/handoff/{wrong_code('WRNGE', HANDOFF_FAILURES)}", token=elise)
    assert sixth.status == 429, sixth.body
    assert sixth.json["error"]["code"] == "too_many_requests"
    retry_after(sixth, HANDOFF_WINDOW)
    right = api.request("POST", f"/v1/handoff/{own}", token=elise)
    assert right.status == 429, right.body
    # And Pieter, who guessed nothing, takes his alert by its code
    attached = api.request("POST", f"/v1/handoff/{alert}", token=pieter)
    assert attached.status == 200, attached.body


def test_a_right_code_does_not_wipe_out_earlier_wrong_ones(api: Api) -> None:
    # Given Hugo's own case, and wrong codes he tried one short of the limit
    hugo = api.token(HUGO)
    own = api.submit(api.token(HUGO, client="kiosk")).json["handoff_code"]
    for attempt in range(HANDOFF_FAILURES - 1):
        assert is_not_found(api.request("POST", f"/v1/handoff/{wrong_code('WRNGH', attempt)}", token=hugo))
    # When he gives his right code, then another wrong one
    assert api.request("POST", f"/v1/handoff/{own}", token=hugo).status == 200
    assert is_not_found(api.request("POST", f"/v1/handoff/{wrong_code('WRNGH', HANDOFF_FAILURES)}", token=hugo))
    # Then the limit is reached all the same: the next code is refused
    assert api.request("POST", f"/v1/handoff/{own}", token=hugo).status == 429


# ---------------------------------------------------------------------------------------------- uploads
def test_an_alert_whose_photo_is_not_an_image_is_refused_naming_the_photo(api: Api) -> None:
    # Given Pieter's real JPEG photo, and a text file he uploaded declared as a JPEG
    pieter = api.token(PIETER)
    photo, text = uploaded(api, pieter, image("JPEG")), uploaded(api, pieter, b"not a photo at all")
    # When he reports with both
    body = {"procedure_id": "public-space-alert", "language": "fr", "form": {**ALERT, "photos": [photo, text]}}
    refused = api.request("POST", "/v1/cases", token=pieter, body=body)
    # Then the text file is named, and nothing is filed
    assert refused.status == 422, refused.body
    assert refused.json["error"]["details"] == [{"field": "form.photos[1]", "reason": "not a JPEG image"}]
    # And with a real PNG instead, the alert is filed
    png = uploaded(api, pieter, image("PNG"), "image/png")
    body["form"] = {**ALERT, "photos": [photo, png]}
    assert api.request("POST", "/v1/cases", token=pieter, body=body).status == 201


def test_an_answer_whose_attachment_is_not_an_image_is_refused_naming_it(api: Api) -> None:
    # Given Hugo's case, awaiting his answer, and a PNG that is really a JPEG
    hugo, clerk = api.token(HUGO), agent(api, "agent-abuse")
    created, _ = asked(api, hugo, clerk)
    mislabelled = uploaded(api, hugo, image("JPEG"), "image/png")
    # When he answers with it
    path = f"/v1/cases/{created['case_id']}/reply"
    refused = api.request("POST", path, token=hugo, body={"answer": "ci-joint", "attachments": [mislabelled]})
    # Then it is named, and the case still awaits his answer
    assert refused.status == 422, refused.body
    assert refused.json["error"]["details"] == [{"field": "attachments[0]", "reason": "not a PNG image"}]
    assert api.case(created["case_id"], hugo)["status"] == "awaiting_citizen"
    # And a real photo is taken
    photo = uploaded(api, hugo, image("JPEG"))
    answered = api.request("POST", path, token=hugo, body={"answer": "ci-joint", "attachments": [photo]})
    assert answered.status == 200, answered.body
