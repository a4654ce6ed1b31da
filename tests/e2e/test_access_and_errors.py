"""Bad input gets a clear 4xx JSON error, nothing is stored; nobody reads another citizen's case."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import ELISE, PIETER, Api, is_not_found


def error_of(reply: Any) -> dict[str, Any]:
    assert reply.headers.get("Content-Type", reply.headers.get("content-type", "")).startswith("application/json")
    return dict(reply.json["error"])


@pytest.fixture(scope="module")
def elise(api: Api) -> str:
    return api.token(ELISE)


@pytest.fixture(scope="module")
def elise_case(api: Api, elise: str) -> dict[str, Any]:
    created = api.submit(elise).json
    api.wait(created["case_id"])
    return api.case(created["case_id"], elise)


# ---------------------------------------------------------------------------------------------- public catalogue
def test_the_catalogue_is_public_and_trilingual(api: Api) -> None:
    # When anyone lists the procedures, without a token
    reply = api.request("GET", "/v1/procedures")
    # Then the residence certificate is there with its titles in fr, nl and en, free of charge
    assert reply.status == 200
    procedure = next(p for p in reply.json["items"] if p["id"] == "residence-certificate")
    assert procedure["title"] == {
        "fr": "Certificat de résidence",
        "nl": "Verblijfsattest",
        "en": "Certificate of residence",
    }
    assert procedure["fee_cents"] == 0
    detail = api.request("GET", "/v1/procedures/residence-certificate").json
    assert [field["name"] for field in detail["fields"]] == ["purpose"]
    assert set(detail["fields"][0]["label"]) == {"fr", "nl", "en"}


def test_an_unknown_procedure_is_404(api: Api) -> None:
    reply = api.request("GET", "/v1/procedures/moon-landing-permit")
    assert is_not_found(reply)
    assert error_of(reply)["code"] == "not_found"


def test_swagger_ui_is_served(api: Api) -> None:
    reply = api.request("GET", "/swagger")
    assert reply.status == 200
    assert b"swagger" in reply.body.lower()
    assert b"/v1/cases" in reply.body


# ---------------------------------------------------------------------------------------------- bad input
def test_malformed_json_is_400_and_stores_nothing(api: Api, elise: str) -> None:
    # Given Élise's current number of cases
    before = api.case_count(elise)
    # When she sends a body that is not JSON
    reply = api.request("POST", "/v1/cases", token=elise, raw=b'{"procedure_id": "residence-certificate",')
    # Then she gets a 400 JSON error and no case was created
    assert reply.status == 400
    assert error_of(reply)["code"] == "malformed_request"
    assert api.case_count(elise) == before


def test_invalid_fields_are_422_naming_each_field(api: Api, elise: str) -> None:
    before = api.case_count(elise)
    # When the language is not one of the city's and the procedure id is missing
    reply = api.request("POST", "/v1/cases", token=elise, body={"language": "de", "form": {}})
    # Then both fields are named in one 422
    assert reply.status == 422
    error = error_of(reply)
    assert error["code"] == "validation_failed"
    assert {detail["field"] for detail in error["details"]} == {"language", "procedure_id"}
    assert all(detail["reason"] for detail in error["details"])
    assert api.case_count(elise) == before


def test_invalid_form_fields_are_422_naming_each_form_field(api: Api, elise: str) -> None:
    before = api.case_count(elise)
    # When the form has a value outside the list and a field the procedure does not have
    reply = api.submit(elise, form={"purpose": "tourism", "shoe_size": 42})
    # Then each is named, with the reason
    assert reply.status == 422
    details = {detail["field"]: detail["reason"] for detail in error_of(reply)["details"]}
    assert set(details) == {"form.purpose", "form.shoe_size"}
    assert "employment" in details["form.purpose"]
    assert api.case_count(elise) == before


def test_an_unknown_procedure_in_a_submission_is_404(api: Api, elise: str) -> None:
    reply = api.request("POST", "/v1/cases", token=elise, body={"procedure_id": "nope", "language": "fr"})
    assert is_not_found(reply)
    assert error_of(reply)["code"] == "not_found"


# ---------------------------------------------------------------------------------------------- tokens
def test_no_token_is_401(api: Api) -> None:
    reply = api.request("GET", "/v1/cases")
    assert reply.status == 401
    assert error_of(reply)["code"] == "unauthorized"


def test_a_forged_token_is_401(api: Api) -> None:
    # Given a token with a citizen's claims, signed by someone else's key
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "sub": ELISE,
        "custom:nrn": ELISE,
        "aud": "portal",
        "iss": "http://127.0.0.1:3000/local",
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
    }
    forged = jwt.encode(claims, other_key, algorithm="RS256")
    # When it is used
    reply = api.request("GET", "/v1/cases", token=forged)
    # Then it is refused as API Gateway's authorizer would
    assert reply.status == 401
    assert error_of(reply)["code"] == "unauthorized"


def test_an_expired_token_is_401(api: Api, runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a token minted an hour and a half ago (its lifetime is one hour)
    token = api.token(ELISE)
    monkeypatch.setattr(runtime.issuer, "_clock", lambda: time.time() + 5400)
    # When it is used
    reply = api.request("GET", "/v1/cases", token=token)
    # Then it is refused
    assert reply.status == 401


def test_garbage_in_the_authorization_header_is_401(api: Api) -> None:
    assert api.request("GET", "/v1/cases", token="not-a-jwt").status == 401


# ---------------------------------------------------------------------------------------------- who reads what
def test_another_citizen_cannot_read_a_case_and_cannot_tell_it_exists(api: Api, elise_case: dict[str, Any]) -> None:
    # Given Élise's case, and Pieter signed in
    pieter = api.token(PIETER)
    # When Pieter asks for it, and for a case that does not exist
    theirs = api.request("GET", f"/v1/cases/{elise_case['case_id']}", token=pieter)
    missing_id = str(uuid.uuid4())
    missing = api.request("GET", f"/v1/cases/{missing_id}", token=pieter)
    # Then both are the same 404: nothing tells him her case exists
    assert is_not_found(theirs)
    assert is_not_found(missing)
    assert error_of(theirs)["code"] == error_of(missing)["code"] == "not_found"
    assert theirs.json["error"]["message"].replace(elise_case["case_id"], "X") == missing.json["error"][
        "message"
    ].replace(missing_id, "X")


def test_another_citizen_cannot_get_the_document(api: Api, elise_case: dict[str, Any]) -> None:
    pieter = api.token(PIETER)
    document_id = elise_case["documents"][0]["document_id"]
    reply = api.request("GET", f"/v1/cases/{elise_case['case_id']}/documents/{document_id}", token=pieter)
    assert is_not_found(reply)
    assert "url" not in reply.json


def test_an_unknown_document_of_ones_own_case_is_404(api: Api, elise: str, elise_case: dict[str, Any]) -> None:
    reply = api.request("GET", f"/v1/cases/{elise_case['case_id']}/documents/doc-nope", token=elise)
    assert is_not_found(reply)


def test_an_agent_of_the_procedures_department_reads_the_case(api: Api, elise_case: dict[str, Any]) -> None:
    # Given an agent of the population department (which handles residence certificates)
    agent = api.token("agent-042", role="agent", client="counter", departments=["events", "population"])
    # When they open Élise's case and its document
    reply = api.request("GET", f"/v1/cases/{elise_case['case_id']}", token=agent)
    document_id = elise_case["documents"][0]["document_id"]
    document = api.request("GET", f"/v1/cases/{elise_case['case_id']}/documents/{document_id}", token=agent)
    # Then they can
    assert reply.status == 200
    assert reply.json["reference"] == elise_case["reference"]
    assert document.status == 200


def test_an_agent_of_another_department_cannot_tell_the_case_exists(api: Api, elise_case: dict[str, Any]) -> None:
    # Given an agent of the parking department only
    agent = api.token("agent-099", role="agent", client="counter", departments=["parking"])
    # When they try the case and its document
    reply = api.request("GET", f"/v1/cases/{elise_case['case_id']}", token=agent)
    document_id = elise_case["documents"][0]["document_id"]
    document = api.request("GET", f"/v1/cases/{elise_case['case_id']}/documents/{document_id}", token=agent)
    # Then both are a plain 404
    assert is_not_found(reply)
    assert is_not_found(document)


def test_a_kiosk_device_has_no_cases_and_reads_none(api: Api, elise_case: dict[str, Any]) -> None:
    kiosk = api.token("kiosk-grand-place-1", role="kiosk", client="kiosk")
    assert api.request("GET", "/v1/cases", token=kiosk).status == 403
    assert is_not_found(api.request("GET", f"/v1/cases/{elise_case['case_id']}", token=kiosk))
    assert api.submit(kiosk).status == 403


def test_an_agent_at_the_counter_must_name_the_citizen(api: Api) -> None:
    agent = api.token("agent-042", role="agent", client="counter", departments=["population"])
    reply = api.submit(agent)
    assert reply.status == 422
    assert [detail["field"] for detail in error_of(reply)["details"]] == ["citizen_nrn"]


def test_a_case_id_that_is_not_an_id_is_a_plain_404(api: Api, elise: str) -> None:
    reply = api.request("GET", "/v1/cases/..%2F..%2Fetc", token=elise)
    assert is_not_found(reply)


def test_browsers_may_call_the_api_from_the_portal(api: Api, elise: str) -> None:
    # Given the portal's page in a browser: a preflight, then the call itself
    preflight = api.request(
        "OPTIONS",
        "/v1/cases",
        headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"},
    )
    call = api.request("GET", "/v1/cases", token=elise, headers={"Origin": "https://portal.example"})
    unauthorised = api.request("GET", "/v1/cases", headers={"Origin": "https://portal.example"})
    # Then the preflight allows the Authorization header, and the answers (errors too) carry the allowed origin
    assert preflight.status == 200
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert call.headers["Access-Control-Allow-Origin"] == "*"
    assert unauthorised.status == 401
    assert unauthorised.headers["Access-Control-Allow-Origin"] == "*"
    assert api.request("OPTIONS", "/v1/nowhere").status == 404
