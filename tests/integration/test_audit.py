"""The audit trail and retention against a moto table built from template.yaml: status changes appended with the case
(all or nothing), reads appended, nothing ever overwritten; a closed case's items carry their TTL, an open one's do
not."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime
from omnicity.adapters import audit
from omnicity.adapters.audit import AuditKind, AuditTrail
from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.dynamo import ConditionFailedError
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.domain.errors import CaseConflictError
from omnicity.domain.models import Applicant, Case, CaseDocument, CaseStatus, Channel, Language, TimelineEntry
from tests.conftest import ELISE, ROOT, Reply, is_not_found


@pytest.fixture(scope="module")
def trail(table: str) -> AuditTrail:
    return AuditTrail(table, retention=retention_days_of)


def new_case(procedure_id: str = "residence-certificate", at: datetime | None = None) -> Case:
    at = at or datetime.now(UTC)
    return Case(
        case_id=str(uuid.uuid4()),
        reference=f"BXL-2098-{uuid.uuid4().int % 10**6:06d}",
        procedure_id=procedure_id,
        applicant=Applicant(nrn=ELISE, email="elise.exemplaire@example.be"),
        channel=Channel.PORTAL,
        language=Language.FR,
        form={"purpose": "employment"},
        status=CaseStatus.SUBMITTED,
        timeline=[TimelineEntry(at=at, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
        submitted_by="citizen",
        created_at=at,
        updated_at=at,
    )


def raw(table: str, pk: str, sk: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
    assert item is not None, (pk, sk)
    return dict(item)


def audit_items(table: str, case_id: str) -> list[dict[str, Any]]:
    return list(
        boto3.client("dynamodb").query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
            ExpressionAttributeValues={":pk": {"S": f"CASE#{case_id}"}, ":audit": {"S": "AUDIT#"}},
        )["Items"]
    )


def step(
    repository: CaseRepository, case_id: str, event: str, status: CaseStatus | None, actor: str = "system"
) -> Case:
    return repository.update(
        case_id, lambda case: case.with_entry(event, actor=actor, at=datetime.now(UTC), status=status)
    )


def test_the_table_expires_items_by_their_expires_at(table: str) -> None:
    # The local provisioner applies the template's TimeToLiveSpecification, as CloudFormation does
    description = boto3.client("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert description == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_every_status_change_is_appended_with_the_case_and_nothing_else(
    repository: CaseRepository, trail: AuditTrail
) -> None:
    # Given a new case
    case = repository.create(new_case())
    # When it moves on, gets a timeline entry that keeps its status, then moves on again (one by an agent)
    step(repository, case.case_id, "validated", CaseStatus.IN_PROGRESS)
    step(repository, case.case_id, "notified:document_ready", None)
    step(repository, case.case_id, "task_opened:review", CaseStatus.WAITING)
    step(repository, case.case_id, "decided:approve", CaseStatus.IN_PROGRESS, actor="agent:agent-101")
    # Then the trail holds one entry per change of status, oldest first, with who made it and through which event
    entries = trail.entries(case.case_id)
    assert [(e.kind, e.from_status, e.to_status, e.event, e.actor) for e in entries] == [
        (AuditKind.STATUS, None, CaseStatus.SUBMITTED, "submitted", "citizen"),
        (AuditKind.STATUS, CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS, "validated", "system"),
        (AuditKind.STATUS, CaseStatus.IN_PROGRESS, CaseStatus.WAITING, "task_opened:review", "system"),
        (AuditKind.STATUS, CaseStatus.WAITING, CaseStatus.IN_PROGRESS, "decided:approve", "agent:agent-101"),
    ]
    # And the case item itself is not part of the trail
    assert repository.get(case.case_id).version == 5


def test_a_write_that_loses_its_race_appends_no_entry(repository: CaseRepository, trail: AuditTrail) -> None:
    # Given two writers who read the same version
    stored = repository.create(new_case())
    first = stored.with_entry("validated", actor="system", at=datetime.now(UTC), status=CaseStatus.IN_PROGRESS)
    second = stored.with_entry("cancelled", actor="citizen", at=datetime.now(UTC), status=CaseStatus.CANCELLED)
    repository.save(first, previous=stored)
    # When the second writes on the version it read
    with pytest.raises(CaseConflictError):
        repository.save(second, previous=stored)
    # Then only the winner's change is in the trail
    assert [e.to_status for e in trail.entries(stored.case_id)] == [CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS]


def test_a_direct_save_without_the_case_it_read_is_audited_too(repository: CaseRepository, trail: AuditTrail) -> None:
    stored = repository.create(new_case())
    repository.save(stored.with_entry("failed", actor="system", at=datetime.now(UTC), status=CaseStatus.FAILED))
    assert [e.to_status for e in trail.entries(stored.case_id)] == [CaseStatus.SUBMITTED, CaseStatus.FAILED]


def test_reads_are_appended_and_an_entry_is_never_overwritten(
    repository: CaseRepository, trail: AuditTrail, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    # Given a case two agents read
    case = repository.create(new_case())
    at = datetime.now(UTC)
    trail.record_read(case, actor="agent:agent-101", department="population", reason="case view", at=at)
    trail.record_read(case, actor="agent:agent-102", department="population", reason="phone call", at=at)
    # Then both reads are there (same moment, distinct entries), newest first in the reads
    reads = trail.reads(case.case_id)
    assert sorted((e.agent, e.reason) for e in reads) == [("agent-101", "case view"), ("agent-102", "phone call")]
    assert all(e.kind is AuditKind.READ and e.department == "population" for e in reads)
    # When an entry is written again with the key of an existing one
    monkeypatch.setattr(audit, "new_audit_id", lambda: reads[0].audit_id)
    with pytest.raises(ConditionFailedError):
        trail.record_read(case, actor="agent:intruder", department="population", reason="overwrite", at=reads[0].at)
    # Then it is refused and the original entry is intact
    assert {e.actor for e in trail.reads(case.case_id)} == {"agent:agent-101", "agent:agent-102"}
    assert len(audit_items(table, case.case_id)) == 3  # the submission and the two reads


def test_an_open_case_has_no_expiry_and_a_closed_one_expires_with_all_its_items(
    repository: CaseRepository, trail: AuditTrail, table: str
) -> None:
    # Given an open case with a read and a document
    case = repository.create(new_case())
    trail.record_read(case, actor="agent:agent-101", department="population", reason="case view")
    step(repository, case.case_id, "validated", CaseStatus.IN_PROGRESS)
    document = CaseDocument(
        document_id=f"doc-{uuid.uuid4().hex[:20]}",
        kind="residence_certificate",
        language=Language.FR,
        key=f"cases/{case.case_id}/doc.pdf",
        created_at=datetime.now(UTC),
    )
    repository.register_document(document.document_id, case.case_id)
    repository.update(
        case.case_id,
        lambda c: c.with_entry("document_issued", actor="system", at=datetime.now(UTC), documents=[document]),
    )
    # Then nothing of it expires while it is open
    assert "expires_at" not in raw(table, f"CASE#{case.case_id}", "CASE")
    assert all("expires_at" not in item for item in audit_items(table, case.case_id))
    assert "expires_at" not in raw(table, f"REF#{case.reference}", "REF")
    # When it completes
    closed = step(repository, case.case_id, "completed", CaseStatus.COMPLETED)
    completed_at = closed.timeline[-1].at
    # Then the case, its whole trail (earlier entries too), its reference and its document's pointer expire at
    # closure + the procedure's retention (ten years for a certificate)
    retention = get_catalogue().get("residence-certificate").retention_days
    assert retention == 3650
    expected = str(int((completed_at + timedelta(days=retention)).timestamp()))
    assert raw(table, f"CASE#{case.case_id}", "CASE")["expires_at"] == {"N": expected}
    items = audit_items(table, case.case_id)
    assert len(items) == 4  # submitted, the read, in_progress, completed
    assert all(item["expires_at"] == {"N": expected} for item in items)
    assert raw(table, f"REF#{case.reference}", "REF")["expires_at"] == {"N": expected}
    assert raw(table, f"DOC#{document.document_id}", "DOC")["expires_at"] == {"N": expected}
    # And the content of the entries did not change (only the TTL was added), nor does the case read differently
    assert [e.to_status for e in trail.entries(case.case_id) if e.kind is AuditKind.STATUS][-1] is CaseStatus.COMPLETED
    assert repository.get(case.case_id) == closed
    # And a later write (an error recorded on the closed case) and a later read keep the same expiry
    step(repository, case.case_id, "workflow_error", None)
    trail.record_read(closed, actor="agent:agent-103", department="population", reason="audit")
    assert raw(table, f"CASE#{case.case_id}", "CASE")["expires_at"] == {"N": expected}
    assert all(item["expires_at"] == {"N": expected} for item in audit_items(table, case.case_id))


def test_the_retention_is_the_procedures(repository: CaseRepository, table: str) -> None:
    # Given an alert (kept a year) rejected when it was submitted
    case = repository.create(new_case("public-space-alert"))
    rejected = step(repository, case.case_id, "rejected", CaseStatus.REJECTED)
    # Then it expires a year after its rejection
    expected = int((rejected.timeline[-1].at + timedelta(days=365)).timestamp())
    assert raw(table, f"CASE#{case.case_id}", "CASE")["expires_at"] == {"N": str(expected)}


def test_the_back_office_sample_events_answer(runtime: LocalRuntime, repository: CaseRepository) -> None:
    # Given the sample events' case (Élise's), in the population department's hands
    events = ROOT / "events"

    def sample(name: str) -> dict[str, Any]:
        return dict(json.loads((events / name).read_text(encoding="utf-8")))

    case_id = sample("api_get_agent_case.json")["pathParameters"]["case_id"]
    repository.create(new_case().model_copy(update={"case_id": case_id}))
    # When the API function gets the agent's view of the case, then Élise's access log
    viewed = runtime.bridge.invoke_function("ApiFunction", sample("api_get_agent_case.json"))
    logged = runtime.bridge.invoke_function("ApiFunction", sample("api_get_access_log.json"))
    # Then the agent saw the file, and Élise sees the agent's read with the reason given
    assert viewed["statusCode"] == 200, viewed["body"]
    assert json.loads(viewed["body"])["applicant"]["nrn"] == ELISE
    assert logged["statusCode"] == 200, logged["body"]
    [read] = json.loads(logged["body"])["items"]
    assert (read["agent"], read["department"], read["reason"]) == (
        "agent-042",
        "population",
        "phone call from the citizen",
    )
    # And the task events reach their routes (the sample task does not exist: 404, the reassign body is valid)
    for name in ("api_claim_agent_task.json", "api_release_agent_task.json", "api_reassign_agent_task.json"):
        answer = runtime.bridge.invoke_function("ApiFunction", sample(name))
        assert is_not_found(Reply(answer["statusCode"], {}, answer["body"].encode())), name


def test_a_procedure_the_catalogue_does_not_hold_keeps_the_longest_retention() -> None:
    assert retention_days_of("no-such-procedure") == audit.DEFAULT_RETENTION_DAYS == 3650
