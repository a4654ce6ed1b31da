"""Revoking an issued document end to end: a street artist permit approved by the events department, then withdrawn by
one of its agents through the API. Verifying the permit by its code then says revoked and since when (never why), the
citizen's case shows it with the reason, the audit trail holds it, the citizen is emailed once; another department's
agent learns nothing, the citizen has no back office, and a bad reason is a 422 naming the field."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from omnicity.adapters.audit import DOCUMENT_REVOKED, AuditKind, AuditTrail
from omnicity.catalogue import retention_days_of
from tests.conftest import PIETER, Api, Reply, is_not_found, stored_pdf
from tests.e2e.test_permits_and_greening import PERMIT, agent_of, decide, mails_about, open_task, permit_form, submit

REASON = "Vergunning ingetrokken: de Kunstberg is tot 30 juni gesloten wegens werken."
MISSING_DOCUMENT = "doc-00000000000000000000"


def revoke(api: Api, token: str, case_id: str, document_id: str, body: Any) -> Reply:
    return api.request("POST", f"/v1/agent/cases/{case_id}/documents/{document_id}/revoke", token=token, body=body)


def without(reply: Reply, *ids: str) -> str:
    """An answer with the ids it names replaced by a placeholder: what remains must not depend on which case."""
    text = reply.body.decode()
    for value in ids:
        text = text.replace(value, "<id>")
    return text


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def pieter(api: Api) -> str:
    return api.token(PIETER)


def issue_permit(api: Api, pieter: str) -> dict[str, Any]:
    """A street artist permit of Pieter's, approved by the events department: his case, as he reads it."""
    created = submit(api, pieter, PERMIT, permit_form(), "nl")
    assert created.status == 201, created.body
    api.wait_for_status(created.json["case_id"], pieter, "waiting")
    events = agent_of(api, PERMIT)
    task = open_task(api, events, "events", created.json["reference"])
    assert task is not None
    decide(api, events, task, "approve")
    assert api.wait(created.json["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created.json["case_id"], pieter)
    assert case["status"] == "completed"
    assert [document["kind"] for document in case["documents"]] == ["permit"]
    return case


@pytest.fixture(scope="module")
def permit(api: Api, pieter: str) -> dict[str, Any]:
    """The permit an agent withdraws."""
    return issue_permit(api, pieter)


@pytest.fixture(scope="module")
def held_permit(api: Api, pieter: str) -> dict[str, Any]:
    """A permit nobody withdraws: bad requests are tried on it."""
    return issue_permit(api, pieter)


def test_an_agent_withdraws_a_permit_and_verifying_it_then_says_revoked_with_the_date(
    api: Api, s3: Any, table: str, pieter: str, permit: dict[str, Any]
) -> None:
    case_id, reference = permit["case_id"], permit["reference"]
    document_id = permit["documents"][0]["document_id"]
    digest = hashlib.sha256(stored_pdf(s3, case_id, document_id)).hexdigest()
    events = agent_of(api, PERMIT)
    # Given the permit: verified by its code, it holds, and the digest is that of the bytes one downloads
    before = api.request("GET", f"/v1/documents/{document_id}")
    assert before.status == 200, before.body
    assert (before.json["valid"], before.json["status"], before.json["revoked_at"]) == (True, "valid", None)
    assert (before.json["reference"], before.json["kind"], before.json["sha256"]) == (reference, "permit", digest)
    # When an agent of the events department withdraws it, with a reason (twice: a double click)
    asked_at = datetime.now(UTC)
    revoked = revoke(api, events, case_id, document_id, {"reason": REASON})
    again = revoke(api, events, case_id, document_id, {"reason": REASON})
    # Then the permit is revoked, since now, with the reason; the second request changed nothing
    assert revoked.status == again.status == 200, revoked.body
    assert revoked.json == again.json
    document = revoked.json["document"]
    assert (revoked.json["case_id"], revoked.json["reference"], document["document_id"]) == (
        case_id,
        reference,
        document_id,
    )
    assert document["revocation_reason"] == REASON
    revoked_at = moment(document["revoked_at"])
    assert asked_at <= revoked_at <= datetime.now(UTC)
    # And whoever verifies it by its code is told it is revoked and since when, never why; the rest is as it was
    after = api.request("GET", f"/v1/documents/{document_id}")
    assert after.status == 200, after.body
    assert (after.json["valid"], after.json["status"]) == (False, "revoked")
    assert moment(after.json["revoked_at"]) == revoked_at
    unchanged = ("document_id", "reference", "procedure_id", "title", "kind", "language", "issued_at", "sha256")
    assert {key: after.json[key] for key in unchanged} == {key: before.json[key] for key in unchanged}
    assert after.json["sha256"] == hashlib.sha256(stored_pdf(s3, case_id, document_id)).hexdigest()
    assert REASON.encode() not in after.body
    assert PIETER.encode() not in after.body
    # And Pieter sees it on his case: the permit revoked with the reason, the timeline's line by the agent
    mine = api.case(case_id, pieter)
    assert mine["status"] == "completed"
    [shown] = mine["documents"]
    assert (moment(shown["revoked_at"]), shown["revocation_reason"]) == (revoked_at, REASON)
    last = mine["timeline"][-1]
    assert (last["event"], last["actor"], last["note"]["nl"]) == (DOCUMENT_REVOKED, "agent:agent-events", REASON)
    assert [entry["event"] for entry in mine["timeline"]].count(DOCUMENT_REVOKED) == 1
    # ...and his copy is still his to download (the verification says what it is worth)
    assert api.request("GET", f"/v1/cases/{case_id}/documents/{document_id}", token=pieter).status == 200
    # And the audit trail holds the revocation once: who, for which department, when, which document, why
    entries = AuditTrail(table, retention=retention_days_of).entries(case_id)
    [entry] = [entry for entry in entries if entry.kind is AuditKind.REVOCATION]
    assert (entry.actor, entry.department, entry.target, entry.reason, entry.at) == (
        "agent:agent-events",
        "events",
        document_id,
        REASON,
        revoked_at,
    )
    # And Pieter was emailed once, in Dutch, with the reason
    [mail] = [mail for mail in mails_about(api, reference) if "ingetrokken" in mail["subject"]]
    assert REASON in mail["body"]
    # When an agent revokes it again for another reason
    other = revoke(api, events, case_id, document_id, {"reason": "Een andere reden."})
    # Then it is a 409 naming why; the first revocation stands
    assert other.status == 409, other.body
    assert other.json["error"]["code"] == "already_revoked"
    assert moment(api.request("GET", f"/v1/documents/{document_id}").json["revoked_at"]) == revoked_at
    assert len([mail for mail in mails_about(api, reference) if "ingetrokken" in mail["subject"]]) == 1


def test_nobody_but_the_handling_department_revokes_and_another_department_learns_nothing(
    api: Api, pieter: str, permit: dict[str, Any]
) -> None:
    case_id = permit["case_id"]
    document_id = permit["documents"][0]["document_id"]
    missing_case = "00000000-0000-0000-0000-000000000000"
    # When an agent of the green spaces department tries, on the permit and on a case that does not exist
    green = agent_of(api, "greening-request")
    refused = revoke(api, green, case_id, document_id, {"reason": REASON})
    unknown = revoke(api, green, missing_case, document_id, {"reason": REASON})
    # Then both answers are the same 404, word for word but the id
    assert is_not_found(refused)
    assert without(refused, case_id) == without(unknown, missing_case)
    # And Pieter himself has no back office
    mine = revoke(api, pieter, case_id, document_id, {"reason": REASON})
    assert (mine.status, mine.json["error"]["code"]) == (403, "forbidden")
    # And a document the case did not issue is a 404 that says so, to the department that handles it
    events = agent_of(api, PERMIT)
    no_document = revoke(api, events, case_id, MISSING_DOCUMENT, {"reason": REASON})
    assert (no_document.status, no_document.json["error"]["code"]) == (404, "not_found")
    assert no_document.json["error"]["message"] == f"no document {MISSING_DOCUMENT!r} on this case"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "Ingetrokken.\nZie de bijlage."}, "reason"),
        ({"reason": "Ingetrokken.\u2029Zie de bijlage."}, "reason"),
        ({"reason": "Ingetrokken \u202egalijb"}, "reason"),
        ({"reason": 42}, "reason"),
        ({}, "reason"),
        ({"reason": REASON, "revoked_at": "2020-01-01T00:00:00Z"}, "revoked_at"),
    ],
    ids=["empty", "blank", "too-long", "line-feed", "paragraph-separator", "bidi-override", "number", "none", "extra"],
)
def test_a_bad_reason_is_a_422_naming_the_field_and_nothing_is_revoked(
    api: Api, pieter: str, held_permit: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    # Given a permit of Pieter's not revoked
    case_id = held_permit["case_id"]
    [document] = held_permit["documents"]
    # When an agent of the events department sends a bad reason
    reply = revoke(api, agent_of(api, PERMIT), case_id, document["document_id"], body)
    # Then it is a 422 naming the field, and the permit still holds
    assert reply.status == 422, reply.body
    assert reply.json["error"]["code"] == "validation_failed"
    assert [detail["field"] for detail in reply.json["error"]["details"]] == [field]
    assert api.request("GET", f"/v1/documents/{document['document_id']}").json["valid"] is True
    assert api.case(case_id, pieter)["documents"] == [document]
