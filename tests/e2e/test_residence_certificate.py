"""The residence certificate end to end: API -> state machine -> Lambda steps -> DynamoDB, S3 and the outbox."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader

from omnicity.adapters.registries.national import get_national_register
from omnicity.domain.nrn import format_nrn, make_nrn
from tests.conftest import ELISE, PIETER, Api, documents_bucket, is_not_found, stored_pdf
from tests.integration.test_repository import nrn_encodings

NOBODY = make_nrn(date(1990, 5, 5), 101)  # a valid number that the simulated register does not hold
GEORGETTE = "31101803648"  # deceased in the simulated register

TITLES = {"fr": "Certificat de résidence", "nl": "Verblijfsattest", "en": "Certificate of residence"}


def pdf_text(s3: Any, case_id: str, document_id: str) -> str:
    reader = PdfReader(io.BytesIO(stored_pdf(s3, case_id, document_id)))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_a_resident_gets_the_certificate_in_the_language_asked(api: Api, s3: Any, language: str) -> None:
    # Given Pieter, a resident of Laeken, signed in on the portal
    token = api.token(PIETER)
    person = get_national_register().find(PIETER)
    assert person is not None
    # When he asks for a residence certificate in `language`
    reply = api.submit(token, language=language, form={"purpose": "employment"})
    assert reply.status == 201, reply.body
    created = reply.json
    assert created["status"] == "submitted"
    assert created["reference"].startswith("BXL-")
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    # Then the case is completed, with one document in that language, and a timeline of every step
    case = api.case(created["case_id"], token)
    assert case["status"] == "completed"
    assert case["channel"] == "portal"
    assert [doc["language"] for doc in case["documents"]] == [language]
    events = [entry["event"] for entry in case["timeline"]]
    assert events == [
        "submitted",
        "validated",
        "eligibility_confirmed",
        "document_issued",
        "notified:document_ready",
        "completed",
    ]
    # And the PDF in S3 names him, carries the reference, the city in French and Dutch, in the language asked
    text = pdf_text(s3, case["case_id"], case["documents"][0]["document_id"])
    assert person.first_name in text
    assert person.last_name in text
    assert format_nrn(PIETER) in text
    assert created["reference"] in text
    assert "Ville de Bruxelles" in text
    assert "Stad Brussel" in text
    assert TITLES[language] in text
    for other in set(TITLES) - {language}:
        if TITLES[other] not in TITLES[language]:
            assert TITLES[other] not in text
    # And he was told by email, in his case's language
    mails = [m for m in api.outbox() if created["reference"] in m["subject"]]
    assert len(mails) == 1
    assert mails[0]["to"] == [person.email]
    assert TITLES[language] in mails[0]["subject"]


def test_the_download_link_is_a_short_lived_presigned_url_for_the_owner(api: Api) -> None:
    # Given a completed case
    token = api.token(ELISE)
    created = api.submit(token).json
    api.wait(created["case_id"])
    document_id = api.case(created["case_id"], token)["documents"][0]["document_id"]
    # When its owner asks for the document
    reply = api.request("GET", f"/v1/cases/{created['case_id']}/documents/{document_id}", token=token)
    # Then she gets a signed URL that expires
    assert reply.status == 200
    assert reply.json["expires_in"] == 300
    assert document_id in reply.json["url"]
    assert "Signature" in reply.json["url"] or "X-Amz-Signature" in reply.json["url"]


@pytest.mark.parametrize(
    ("nrn", "reason_word", "notified"),
    [
        (NOBODY, "registre de la population", "notified:rejected:no_contact"),
        (GEORGETTE, "décédée", "notified:rejected"),
    ],
)
def test_a_person_the_register_does_not_allow_gets_a_rejected_case_with_a_reason(
    api: Api, nrn: str, reason_word: str, notified: str
) -> None:
    # Given a citizen the national register does not hold (no contact address known), or holds as deceased
    token = api.token(nrn)
    # When they ask for a residence certificate
    created = api.submit(token, language="fr").json
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    # Then the case is rejected with the reason in three languages, and no document is issued
    case = api.case(created["case_id"], token)
    assert case["status"] == "rejected"
    assert reason_word in case["reason"]["fr"]
    assert case["reason"]["nl"]
    assert case["reason"]["en"]
    assert case["documents"] == []
    # And the citizen is told why when there is an address to tell them at (recorded either way)
    assert [e["event"] for e in case["timeline"]][-2:] == ["rejected", notified]
    mails = [m for m in api.outbox() if created["reference"] in m["subject"]]
    if notified == "notified:rejected":
        assert len(mails) == 1
        assert reason_word in mails[0]["body"]
    else:
        assert mails == []


def test_a_case_submitted_at_a_kiosk_has_the_kiosk_channel_whatever_the_body_says(api: Api) -> None:
    # Given Élise signed in at a kiosk
    token = api.token(ELISE, client="kiosk")
    # When the request body claims another channel
    reply = api.submit(token, channel="counter")
    # Then the channel is the token's client: kiosk
    assert reply.status == 201
    case = api.case(reply.json["case_id"], token)
    assert case["channel"] == "kiosk"


def test_my_cases_lists_the_citizens_own_cases_only(api: Api) -> None:
    # Given a case of Élise's and one of Pieter's
    elise, pieter = api.token(ELISE), api.token(PIETER)
    mine = api.submit(elise).json["case_id"]
    theirs = api.submit(pieter).json["case_id"]
    # When Élise lists her cases
    listed = api.request("GET", "/v1/cases", token=elise).json["items"]
    # Then hers is there, newest first, and Pieter's is not
    ids = [item["case_id"] for item in listed]
    assert mine in ids
    assert theirs not in ids
    created = [item["created_at"] for item in listed]
    assert created == sorted(created, reverse=True)


def test_my_cases_pages_with_a_cursor(api: Api) -> None:
    # Given Élise with at least three cases
    token = api.token(ELISE)
    for _ in range(3):
        assert api.submit(token).status == 201
    # When she reads her cases two at a time
    first = api.request("GET", "/v1/cases", token=token, query="limit=2").json
    second = api.request("GET", "/v1/cases", token=token, query=f"limit=2&cursor={first['next_cursor']}").json
    # Then the pages do not overlap and the second continues the first
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    first_ids = {item["case_id"] for item in first["items"]}
    assert not first_ids & {item["case_id"] for item in second["items"]}
    # And the cursor, which goes into URLs and logs, holds her national register number in no form
    for form in nrn_encodings(ELISE):
        assert form not in first["next_cursor"]
    # And Pieter, with Élise's cursor, only pages through his own cases: none of hers
    pieter = api.token(PIETER)
    assert api.submit(pieter).status == 201
    his = {item["case_id"] for item in api.request("GET", "/v1/cases", token=pieter, query="limit=100").json["items"]}
    stolen = api.request("GET", "/v1/cases", token=pieter, query=f"limit=100&cursor={first['next_cursor']}")
    assert stolen.status == 200
    assert {item["case_id"] for item in stolen.json["items"]} <= his
    everything_of_hers = api.request("GET", "/v1/cases", token=token, query="limit=100").json["items"]
    assert not {item["case_id"] for item in stolen.json["items"]} & {item["case_id"] for item in everything_of_hers}
    # And a cursor that is not one this listing handed out is a 400 naming the cursor
    forged = api.request("GET", "/v1/cases", token=token, query="cursor=" + "W" * 2000)
    assert forged.status == 400
    assert forged.json["error"]["details"][0]["field"] == "cursor"


def test_a_workflow_step_that_breaks_marks_the_case_failed_for_agents(
    api: Api, runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the document step broken by a bug (not a transient error)
    import sys

    handler = runtime.bridge.handler("RenderDocumentFunction")
    module = sys.modules[handler.__module__]

    def broken_renderer(*_: Any) -> bytes:
        raise KeyError("template variable")

    monkeypatch.setattr(module.documents, "_renderer", broken_renderer)
    token = api.token(ELISE)
    # When a citizen asks for a certificate
    created = api.submit(token, language="nl").json
    execution = api.wait(created["case_id"])
    # Then the execution ends failed, the case is failed with a localized reason for the citizen...
    assert execution["status"] == "FAILED"
    case = api.case(created["case_id"], token)
    assert case["status"] == "failed"
    assert case["reason"]["nl"]
    assert case["failure"] is None  # the technical cause is not shown to the citizen
    # ...and the technical cause for agents
    agent = api.token("agent-007", role="agent", client="counter", departments=["population"])
    seen_by_agent = api.case(created["case_id"], agent)
    assert seen_by_agent["failure"]["error"] == "KeyError"
    assert seen_by_agent["timeline"][-1]["event"] == "failed"


def test_anyone_holding_the_pdf_can_verify_it_by_its_code(api: Api, s3: Any) -> None:
    # Given a certificate issued to Élise
    token = api.token(ELISE)
    created = api.submit(token, language="en").json
    api.wait(created["case_id"])
    document_id = api.case(created["case_id"], token)["documents"][0]["document_id"]
    pdf = stored_pdf(s3, created["case_id"], document_id)
    # When an employer, without any account, checks the code printed on it
    reply = api.request("GET", f"/v1/documents/{document_id}")
    # Then the city vouches for it: the reference, the kind, and the digest the PDF must have
    assert reply.status == 200
    assert reply.json["valid"] is True
    assert reply.json["reference"] == created["reference"]
    assert reply.json["title"]["en"] == "Certificate of residence"
    assert reply.json["sha256"] == hashlib.sha256(pdf).hexdigest()
    # (the PDF carries its retention, which the bucket's lifecycle enforces)
    key = f"cases/{created['case_id']}/{document_id}.pdf"
    tags = s3.get_object_tagging(Bucket=documents_bucket(s3), Key=key)["TagSet"]
    assert tags == [{"Key": "retention-days", "Value": "3650"}]
    assert "person" not in reply.json
    assert document_id in pdf_text(s3, created["case_id"], document_id)
    # And a code the city never issued is unknown; one that is not a code is refused
    assert is_not_found(api.request("GET", "/v1/documents/doc-00000000000000000000"))
    assert api.request("GET", "/v1/documents/nonsense").status == 422
