"""Alerts end to end: routed by category to a department, closed by a field agent with an outcome, the reporter told;
photos uploaded first and referenced by key; anonymous reports followed by their reference."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from tests.conftest import ELISE, PIETER, Api, documents_bucket, is_not_found

GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


def alert(category: str = "litter", **form: Any) -> dict[str, Any]:
    return {"category": category, "description": "Sacs poubelles éventrés sur le trottoir.", **form}


def submit(api: Api, token: str, form: dict[str, Any], language: str = "fr") -> Any:
    body = {"procedure_id": "public-space-alert", "language": language, "form": form}
    return api.request("POST", "/v1/cases", token=token, body=body)


def upload(api: Api, token: str) -> str:
    """Ask for an upload slot and put a photo where it says (the browser would POST the form to the URL)."""
    slot = api.request("POST", "/v1/uploads", token=token, body={"content_type": "image/jpeg"})
    assert slot.status == 201, slot.body
    assert slot.json["fields"]["Content-Type"] == "image/jpeg"
    bucket = documents_bucket(boto3.client("s3"))
    boto3.client("s3").put_object(Bucket=bucket, Key=slot.json["key"], Body=JPEG, ContentType="image/jpeg")
    return str(slot.json["key"])


def field_agent(api: Api, department: str) -> str:
    return api.token(f"field-{department}", role="agent", client="counter", departments=[department])


def task_for(api: Api, agent: str, department: str, reference: str) -> dict[str, Any]:
    queue = api.request("GET", "/v1/agent/tasks", token=agent, query=f"department={department}")
    assert queue.status == 200, queue.body
    return next(task for task in queue.json["items"] if task["reference"] == reference)


@pytest.mark.parametrize(
    ("category", "department"), [("litter", "cleanliness"), ("street_lighting", "public_lighting")]
)
def test_an_alert_with_a_photo_goes_to_its_department_and_the_reporter_is_told(
    api: Api, category: str, department: str
) -> None:
    # Given Pieter with a photo of the problem
    token = api.token(PIETER)
    key = upload(api, token)
    # When he reports it on the map, in Dutch
    reply = submit(api, token, alert(category, location=GRAND_PLACE, photos=[key]), language="nl")
    assert reply.status == 201, reply.body
    created = reply.json
    api.wait_for_status(created["case_id"], token, "waiting")
    # Then the department in charge of the category has a field task for it
    agent = field_agent(api, department)
    task = task_for(api, agent, department, created["reference"])
    assert task["kind"] == "field"
    assert task["outcomes"] == ["fixed", "not_found", "forwarded"]
    # When the field agent closes it without a comment, then with one
    path = f"/v1/agent/tasks/{task['task_id']}/complete"
    assert api.request("POST", path, token=agent, body={"outcome": "fixed"}).status == 422
    closed = api.request("POST", path, token=agent, body={"outcome": "fixed", "comment": "Opgeruimd om 10u."})
    assert closed.status == 200, closed.body
    # Then the case is completed with the outcome, and Pieter is told in Dutch with the comment
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created["case_id"], token)
    assert case["status"] == "completed"
    assert case["outcome"] == "fixed"
    assert case["form"]["photos"] == [key]
    mail = next(m for m in api.outbox() if created["reference"] in m["subject"])
    assert "afgesloten" in mail["subject"]
    assert "het probleem is opgelost" in mail["body"]
    assert "Opgeruimd om 10u." in mail["body"]


def test_a_form_cannot_reference_someone_elses_photo_or_one_never_uploaded(api: Api) -> None:
    # Given Élise's uploaded photo, and Pieter
    elise, pieter = api.token(ELISE), api.token(PIETER)
    hers = upload(api, elise)
    mine_but_never_uploaded = upload(api, pieter).rsplit("/", 1)[0] + "/0123456789abcdef0123456789abcdef.jpg"
    # When Pieter references hers, then one of his own that does not exist
    stolen = submit(api, pieter, alert(location=GRAND_PLACE, photos=[hers]))
    phantom = submit(api, pieter, alert(location=GRAND_PLACE, photos=[mine_but_never_uploaded]))
    # Then both are refused, naming the photo
    assert stolen.status == 422
    assert stolen.json["error"]["details"][0]["field"].startswith("form.photos")
    assert "not one of your uploads" in stolen.json["error"]["details"][0]["reason"]
    assert phantom.status == 422
    assert phantom.json["error"]["details"] == [
        {"field": "form.photos[0]", "reason": "no such upload (upload the photo first)"}
    ]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (alert(), "form.location"),  # neither a place nor an address
        (alert(location={"lat": 51.2194, "lon": 4.4025}), "form.location"),  # Antwerp is not Brussels
        (alert("bonfire", location=GRAND_PLACE), "form.category"),
        ({"category": "litter", "description": "short", "location": GRAND_PLACE}, "form.description"),
    ],
)
def test_a_bad_alert_is_422_naming_the_field(api: Api, form: dict[str, Any], field: str) -> None:
    reply = submit(api, api.token(ELISE), form)
    assert reply.status == 422
    assert any(d["field"].startswith(field) for d in reply.json["error"]["details"]), reply.json


def test_an_anonymous_report_is_followed_by_its_reference(api: Api) -> None:
    # Given someone without an account, with an address and an email for the answer
    body = {
        "procedure_id": "public-space-alert",
        "language": "en",
        "email": "passer.by@example.org",
        "form": alert("graffiti", address={"street": "Rue Haute", "number": "120", "postal_code": "1000"}),
    }
    # When they report
    reply = api.request("POST", "/v1/reports", body=body)
    assert reply.status == 201, reply.body
    reference = reply.json["reference"]
    # Then anyone with the reference sees where it stands, without the form or any name
    tracked = api.request("GET", f"/v1/reports/{reference}")
    assert tracked.status == 200
    assert tracked.json["reference"] == reference
    assert "form" not in tracked.json
    assert tracked.json["timeline"][0]["event"] == "submitted"
    assert set(tracked.json["timeline"][0]) == {"at", "status", "event"}
    # And the cleanliness department got it
    agent = field_agent(api, "cleanliness")
    deadline = time.monotonic() + 20
    while api.request("GET", f"/v1/reports/{reference}").json["status"] != "waiting" and time.monotonic() < deadline:
        time.sleep(0.05)
    task = task_for(api, agent, "cleanliness", reference)
    done = api.request(
        "POST",
        f"/v1/agent/tasks/{task['task_id']}/complete",
        token=agent,
        body={"outcome": "forwarded", "comment": "Private wall: owner contacted."},
    )
    assert done.status == 200
    api.wait(reply.json["case_id"])
    assert api.request("GET", f"/v1/reports/{reference}").json["outcome"] == "forwarded"
    mail = next(m for m in api.outbox() if reference in m["subject"])
    assert mail["to"] == ["passer.by@example.org"]


def test_only_anonymous_procedures_are_reported_or_tracked_without_signing_in(api: Api) -> None:
    # A certificate cannot be asked anonymously, and its reference tells a stranger nothing
    certificate = api.request(
        "POST", "/v1/reports", body={"procedure_id": "residence-certificate", "language": "fr", "form": {}}
    )
    assert certificate.status == 403
    elise = api.token(ELISE)
    created = api.submit(elise).json
    assert is_not_found(api.request("GET", f"/v1/reports/{created['reference']}"))
    assert api.request("GET", "/v1/reports/not-a-reference").status == 422
    # Nor can an anonymous report carry photos
    photo = api.request(
        "POST",
        "/v1/reports",
        body={
            "procedure_id": "public-space-alert",
            "language": "fr",
            "form": alert(location=GRAND_PLACE, photos=["uploads/x/0123456789abcdef.jpg"]),
        },
    )
    assert photo.status == 422


def _submissions_counted(printed: str) -> list[float]:
    """The ``CasesSubmitted`` values of the EMF documents the functions printed (Powertools writes one per flush)."""
    counted: list[float] = []
    for line in printed.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document and "CasesSubmitted" in document:
            value = document["CasesSubmitted"]
            counted.extend(value if isinstance(value, list) else [value])
    return counted


def test_every_stored_submission_is_counted_once_an_anonymous_report_too(
    api: Api, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a citizen's alert and an anonymous report, both stored, and a report refused
    elise = api.token(ELISE)
    capfd.readouterr()
    assert (
        submit(api, elise, alert(address={"street": "Rue Haute", "number": "120", "postal_code": "1000"})).status == 201
    )
    report = {"procedure_id": "public-space-alert", "language": "nl", "form": alert(location=GRAND_PLACE)}
    assert api.request("POST", "/v1/reports", body=report).status == 201
    refused = {**report, "form": alert(location={"lat": 1.0, "lon": 1.0})}
    assert api.request("POST", "/v1/reports", body=refused).status == 422
    # Then the API counted the two it stored, once each (ops' CasesSubmitted), and not the refused one
    assert _submissions_counted(capfd.readouterr().out) == [1.0, 1.0]
