"""A case's audit trail (every status change, every read by an agent) and how long a closed case is kept.

The trail lives next to the case, in the case's own partition of the single table, one item per entry, appended and
never changed or deleted by the platform:

=================================  ==============================================  ===================================
pattern                            key                                             operation
=================================  ==============================================  ===================================
append an entry                    pk=CASE#<case_id>, sk=AUDIT#<at>#<audit_id>     PutItem (a read) or a Put in the
                                                                                   case's TransactWriteItems (a status
                                                                                   change), attribute_not_exists(pk)
a case's trail, oldest first       pk=CASE#<case_id>, begins_with(sk, "AUDIT#")    Query (page after page)
=================================  ==============================================  ===================================

- A **status change** is written by the case repository (``omnicity.adapters.cases``) in the same transaction as the
case: a
  change is in the trail if and only if it is stored. Its actor is the one the timeline names for it.
- A **read** by an agent (the agents' case view, ``GET /v1/cases/{id}``, a document link) is written before the case
  is handed over: no read without its entry. Its citizen sees these in "my file" (``GET /v1/cases/{id}/access-log``).
- A **publication** (an agent of the handling department makes one of the case's photos public on Open311) is
  written in the transaction that records it on the case: who, for which department, when, which photo.
- A **task closed** with its case (the case failed while its task waited) is written in the transaction that fails
  the case and closes the task: which task, of which department, closed how.
- A **revocation** (an agent of the handling department withdraws a document the case issued) is written in the
  transaction that records it on the case: who, for which department, when, which document, and the reason given.

**Retention.** When a case closes (reaches a terminal status), its items get ``expires_at`` (epoch seconds) = the
moment it closed + the procedure's ``retention_days``, and DynamoDB's TTL deletes them after that (the table's
``TimeToLiveSpecification``). The closing transaction writes the case and its last status entry with it; the
repository then adds ``expires_at`` to the case's earlier entries and to its pointers (reference, hand-off code,
documents): only that attribute, once (``attribute_not_exists(expires_at)``), the entries' content never changes.
Entries appended after closure (reads) carry it from the start. A case still open has no ``expires_at``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from omnicity.adapters.dynamo import TableRepository, call, from_attributes, pages, to_attributes
from omnicity.domain.errors import TransientError
from omnicity.domain.models import SYSTEM_ACTOR, AgentTask, Case, CaseStatus, Frozen, Procedure

AUDIT_PREFIX = "AUDIT#"
PHOTO_PUBLISHED = "photo_published"  # the event of a publication entry, and of its line on the case's timeline
DOCUMENT_REVOKED = "document_revoked"  # the event of a revocation entry, and of its line on the case's timeline
EXPIRES_AT = "expires_at"  # the table's TTL attribute (template.yaml: CasesTable.TimeToLiveSpecification)
DEFAULT_RETENTION_DAYS: int = Procedure.model_fields["retention_days"].default
Retention = Callable[[str], int]
"""How long a closed case of a procedure is kept, in days, by procedure id (``omnicity.catalogue.retention_days_of``:
the catalogue's ``retention_days``). The repositories are given it: the adapters do not read the catalogue."""
_ITEM_ATTRIBUTES = ("pk", "sk", "type", EXPIRES_AT)
_BATCH = 25  # BatchWriteItem's most items a call
_UNPROCESSED_PAUSES = (0.05, 0.2, 0.8)  # before sending DynamoDB's unprocessed items again


class AuditKind(StrEnum):
    STATUS = "status"  # the case moved from one status to another
    READ = "read"  # an agent read the case
    PUBLICATION = "publication"  # an agent made part of the case public (a photo: Open311's media_url)
    TASK = "task"  # a task of the case left the queues undecided, closed with its case
    REVOCATION = "revocation"  # an agent withdrew a document the case issued


class AuditEntry(Frozen):
    audit_id: str
    case_id: str
    at: datetime
    kind: AuditKind
    actor: str  # as the timeline names actors: "system", "citizen", "agent:<id>", ...
    department: str | None = None  # a read, a publication, a revocation: the agent's department; a task: its queue
    reason: str | None = None  # a read: why ("case view" when the agent gave no reason); a revocation: why
    event: str | None = None  # a status change: the timeline event that made it; the others: what happened
    target: str | None = None  # a publication: the photo's upload key; a task: its id; a revocation: the document's
    from_status: CaseStatus | None = None  # a status change: None for the submission
    to_status: CaseStatus | None = None

    @property
    def agent(self) -> str:
        """The agent's id (the actor without its ``agent:`` prefix)."""
        return self.actor.removeprefix("agent:")


def new_audit_id() -> str:
    return uuid.uuid4().hex


def status_change(previous: Case | None, case: Case) -> AuditEntry | None:
    """The entry for a write that takes a case from ``previous`` (None: a new case) to ``case``; None when the
    status stays the same. The actor and event are those of the timeline's last entry (the one that moved it)."""
    if previous is not None and previous.status is case.status:
        return None
    last = case.timeline[-1] if case.timeline else None
    return AuditEntry(
        audit_id=new_audit_id(),
        case_id=case.case_id,
        at=last.at if last is not None and last.status is case.status else case.updated_at,
        kind=AuditKind.STATUS,
        actor=last.actor if last is not None else SYSTEM_ACTOR,
        event=last.event if last is not None else None,
        from_status=previous.status if previous is not None else None,
        to_status=case.status,
    )


def photo_published(case: Case, *, actor: str, department: str, key: str, at: datetime) -> AuditEntry:
    """The entry for an agent publishing the case's photo ``key`` (an upload key of its form)."""
    return AuditEntry(
        audit_id=new_audit_id(),
        case_id=case.case_id,
        at=at,
        kind=AuditKind.PUBLICATION,
        actor=actor,
        department=department,
        event=PHOTO_PUBLISHED,
        target=key,
    )


def document_revoked(
    case: Case, *, actor: str, department: str, document_id: str, reason: str, at: datetime
) -> AuditEntry:
    """The entry for an agent revoking the case's document ``document_id`` because of ``reason``."""
    return AuditEntry(
        audit_id=new_audit_id(),
        case_id=case.case_id,
        at=at,
        kind=AuditKind.REVOCATION,
        actor=actor,
        department=department,
        reason=reason,
        event=DOCUMENT_REVOKED,
        target=document_id,
    )


def task_closed(task: AgentTask) -> AuditEntry:
    """The entry for ``task`` leaving the queues undecided with its case, as it is closed: its status says how,
    ``completed_at``/``completed_by`` when and by whom."""
    return AuditEntry(
        audit_id=new_audit_id(),
        case_id=task.case_id,
        at=task.completed_at or datetime.now(UTC),
        kind=AuditKind.TASK,
        actor=task.completed_by or SYSTEM_ACTOR,
        department=task.department,
        event=f"task_{task.status.value}:{task.kind}",
        target=task.task_id,
    )


def audit_key(case_id: str, at: datetime, audit_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": f"{AUDIT_PREFIX}{at.astimezone(UTC).isoformat()}#{audit_id}"}}


def entry_item(entry: AuditEntry, expires_at: int | None = None) -> dict[str, Any]:
    item = to_attributes(entry.model_dump(mode="json"))
    item.update({**audit_key(entry.case_id, entry.at, entry.audit_id), "type": {"S": "audit"}})
    if expires_at is not None:
        item[EXPIRES_AT] = {"N": str(expires_at)}
    return item


def append(table: str, entry: AuditEntry, expires_at: int | None = None) -> dict[str, Any]:
    """The TransactWriteItems element that appends ``entry`` (never over an existing item)."""
    return {
        "Put": {
            "TableName": table,
            "Item": entry_item(entry, expires_at),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


# ---------------------------------------------------------------------------------------------------- retention
def closed_at(case: Case) -> datetime | None:
    """When the case closed: its first timeline entry in a terminal status (None while it is open)."""
    if not case.status.is_terminal:
        return None
    return next((entry.at for entry in case.timeline if entry.status.is_terminal), case.updated_at)


def expires_at(case: Case, retention_days: int) -> int | None:
    """The TTL (epoch seconds) of a closed case's items: closure + retention; None while the case is open."""
    closed = closed_at(case)
    if closed is None:
        return None
    return int((closed + timedelta(days=retention_days)).timestamp())


# ---------------------------------------------------------------------------------------------------- the trail
class AuditTrail(TableRepository):
    def __init__(self, table_name: str, client: Any | None = None, *, retention: Retention) -> None:
        super().__init__(table_name, client)
        self._retention = retention

    def record_read(
        self,
        case: Case,
        *,
        actor: str,
        department: str | None,
        reason: str,
        at: datetime | None = None,
        retention_days: int | None = None,
    ) -> AuditEntry:
        """Append that ``actor`` read ``case`` (for ``department``, because of ``reason``). On a closed case the
        entry expires with the case (``retention_days``: default, the procedure's)."""
        entry = AuditEntry(
            audit_id=new_audit_id(),
            case_id=case.case_id,
            at=at or datetime.now(UTC),
            kind=AuditKind.READ,
            actor=actor,
            department=department,
            reason=reason,
        )
        ttl = None
        if case.status.is_terminal:
            ttl = expires_at(case, retention_days or self._retention(case.procedure_id))
        call(
            self.client,
            "put_item",
            TableName=self._table,
            Item=entry_item(entry, ttl),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return entry

    def entries(self, case_id: str) -> list[AuditEntry]:
        """The case's whole trail, oldest first (one Query on the case's partition, page after page)."""
        return [AuditEntry.model_validate(from_attributes(item, _ITEM_ATTRIBUTES)) for item in self._items(case_id)]

    def reads(self, case_id: str) -> list[AuditEntry]:
        """Who read the case, newest first."""
        return [entry for entry in reversed(self.entries(case_id)) if entry.kind is AuditKind.READ]

    def retain(self, case_id: str, expires_at: int, pointers: Iterable[dict[str, Any]] = ()) -> None:
        """Give the case's entries and ``pointers`` (its REF/HANDOFF/DOC items, whole) the TTL they lack.

        Each item is written back as it is with ``expires_at`` added (BatchWriteItem, 25 items a call: a write unit
        each, as an update would cost, in one round trip for a case's few items). Entries are append-only and
        pointers never change, so writing them back whole changes nothing else; an entry already stamped is left
        alone. Items DynamoDB leaves unprocessed are sent again; still unprocessed after that: TransientError.
        """
        items = [item for item in self._items(case_id) if EXPIRES_AT not in item]
        items += [dict(pointer) for pointer in pointers]
        stamped = [{**item, EXPIRES_AT: {"N": str(expires_at)}} for item in items]
        for start in range(0, len(stamped), _BATCH):
            requests = [{"PutRequest": {"Item": item}} for item in stamped[start : start + _BATCH]]
            for pause in (*_UNPROCESSED_PAUSES, None):
                response = call(self.client, "batch_write_item", RequestItems={self._table: requests})
                requests = response.get("UnprocessedItems", {}).get(self._table, [])
                if not requests:
                    break
                if pause is None:
                    raise TransientError(f"{len(requests)} items of case {case_id} kept no TTL (throttled)")
                time.sleep(pause)

    def _items(self, case_id: str) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :case AND begins_with(sk, :audit)",
            "ExpressionAttributeValues": {":case": {"S": f"CASE#{case_id}"}, ":audit": {"S": AUDIT_PREFIX}},
            "ConsistentRead": True,
        }
        for page in pages(self.client, query):
            yield from page.get("Items", [])
