"""The case repository: one DynamoDB table, deliberate access patterns, optimistic locking, no Scan.

Access patterns (the table's keys are generic: ``pk``/``sk`` and four indexes: ``gsi1``, ``gsi3`` and ``gsi4`` are
used here, ``gsi2`` by the agents' queues in ``omnicity.adapters.tasks``):

=================================  ==========================================  ===========================
pattern                            key                                         operation
=================================  ==========================================  ===========================
a case by id                       pk=CASE#<case_id>, sk=CASE                  GetItem (consistent)
the cases of a citizen, newest 1st gsi1pk=CITIZEN#<nrn>, gsi1sk=<created>#<id>  Query gsi1, descending
next reference number of a year    pk=COUNTER#reference, sk=YEAR#<yyyy>        UpdateItem ADD (atomic)
products delivered on a day        pk=STATS#<yyyy>, sk=<yyyy-mm-dd>            ADD, in the transaction that
                                   (omnicity.adapters.stats)                   completes a case
a case by its reference            pk=REF#<reference>, sk=REF -> case_id       GetItem, then the case
a case by its hand-off code        pk=HANDOFF#<code>, sk=HANDOFF -> case_id    GetItem, then the case
a case by a document it issued     pk=DOC#<document_id>, sk=DOC -> case_id     GetItem, then the case
public cases of a procedure        gsi3pk=PUBLIC#<procedure>#<yyyy-mm>,        Query gsi3 per month (UTC)
(Open311), newest first            gsi3sk=<created>#<id>                       of a bounded window
a case's audit trail               pk=CASE#<case_id>, sk=AUDIT#<at>#<id>       see omnicity.adapters.audit
cases in flight (submitted or in   gsi4pk=INFLIGHT, gsi4sk=<updated>#<id>      Query gsi4 (keys only), oldest
progress) not moved since a time   (sparse: only while in flight)              first, gsi4sk < the time; GetItem
=================================  ==========================================  ===========================

Every write of a case is conditional on the version it was read at; the loser of a race gets
:class:`~omnicity.domain.errors.CaseConflictError` and retries from a fresh read. A write that changes the case's status
appends its audit entry in the same transaction, and a closed case's items carry their TTL
(``omnicity.adapters.audit``).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from omnicity.adapters import audit
from omnicity.adapters.dynamo import ConditionFailedError, TableRepository, call, from_attributes, pages, to_attributes
from omnicity.adapters.stats import delivery_counters
from omnicity.domain.errors import (
    CaseConflictError,
    ConflictError,
    MalformedRequestError,
    NotFoundError,
    TransientError,
    field_error,
)
from omnicity.domain.models import Case
from omnicity.observability import logger

CASE_SK = "CASE"
CITIZEN_INDEX = "gsi1"
IN_FLIGHT_INDEX = "gsi4"
IN_FLIGHT_PARTITION = "INFLIGHT"
PUBLIC_INDEX = "gsi3"
MAX_PUBLIC_MONTHS = 13  # a public listing's window spans at most this many calendar months (one Query each)
MAX_PAGE = 100
MAX_CURSOR_LENGTH = 160  # a position is at most 32 + 1 + 64 characters: 130 in base64


Along = Callable[[Case, Case], Sequence[dict[str, Any]]]
"""More writes for the transaction that takes a case from the first case (as read) to the second (as changed)."""


class CaseReader(Protocol):
    def get(self, case_id: str) -> Case: ...


def find_case(cases: CaseReader, case_id: str) -> Case:
    """The case ``case_id`` names, for a caller who may not know it exists: NotFoundError (404) for a missing case
    and for text that is not a case id (never sent to DynamoDB), the same error either way."""
    try:
        uuid.UUID(case_id)
        return cases.get(case_id)
    except (ValueError, NotFoundError):
        raise NotFoundError(f"no case {case_id!r}") from None


def case_key(case_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": CASE_SK}}


class CaseRepository(TableRepository):
    def __init__(self, table_name: str, client: Any | None = None, *, retention: audit.Retention) -> None:
        super().__init__(table_name, client)
        self._retention_days = retention  # procedure id -> days kept after closure

    # ------------------------------------------------------------------------------------------ writes
    def next_reference(self, year: int, prefix: str = "BXL") -> str:
        """A human-readable reference unique in the city, e.g. BXL-2026-000123 (atomic counter per year)."""
        response = self._call(
            "update_item",
            TableName=self._table,
            Key={"pk": {"S": "COUNTER#reference"}, "sk": {"S": f"YEAR#{year}"}},
            UpdateExpression="ADD #seq :one",
            ExpressionAttributeNames={"#seq": "seq"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        sequence = int(response["Attributes"]["seq"]["N"])
        return f"{prefix}-{year}-{sequence:06d}"

    def create(self, case: Case) -> Case:
        """Store a new case with its reference and hand-off code, together (one transaction); never overwrites."""
        stored = case.model_copy(update={"version": 1})
        pointers = [("REF", case.reference)] + ([("HANDOFF", case.handoff_code)] if case.handoff_code else [])
        try:
            self._call(
                "transact_write_items",
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._item(stored),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    *self._audit(None, stored),
                    *(
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": _pointer(kind, value, case.case_id),
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        }
                        for kind, value in pointers
                    ),
                ],
            )
        except ConditionFailedError:
            raise ConflictError(f"case {case.case_id}, its reference or its hand-off code already exists") from None
        self._retain(stored)
        return stored

    def bulk_items(self, case: Case) -> list[dict[str, Any]]:
        """A case as the table holds it (its item, its reference and hand-off pointers), for bulk loads that write
        with BatchWriteItem what :meth:`create` checks one by one (the demo data). No audit entries."""
        pointers = [("REF", case.reference)] + ([("HANDOFF", case.handoff_code)] if case.handoff_code else [])
        return [self._item(case), *(_pointer(kind, value, case.case_id) for kind, value in pointers)]

    def register_document(self, document_id: str, case_id: str) -> None:
        """Remember which case issued a document, so anyone holding it can verify it by its code."""
        self._call("put_item", TableName=self._table, Item=_pointer("DOC", document_id, case_id))

    def get_by_document(self, document_id: str) -> Case:
        return self._follow("DOC", document_id)

    def get_by_reference(self, reference: str) -> Case:
        """The case a human-readable reference names (BXL-2026-000123)."""
        return self._follow("REF", reference)

    def get_by_handoff(self, code: str) -> Case:
        """The case a hand-off code names (shown on the case, at the kiosk or on paper, to continue elsewhere)."""
        return self._follow("HANDOFF", code)

    def _follow(self, kind: str, value: str) -> Case:
        response = self._call("get_item", TableName=self._table, Key=_pointer_key(kind, value))
        item = response.get("Item")
        if item is None:
            raise NotFoundError(f"no case for {kind.lower()} {value!r}")
        return self.get(item["case_id"]["S"])

    def save(self, case: Case, along: Sequence[dict[str, Any]] = (), previous: Case | None = None) -> Case:
        """Replace the case if nobody changed it since it was read (``case.version``); returns the new version.

        ``along``: TransactWriteItems entries written in the same transaction, all or nothing (the day counters of a
        case that completes, see :func:`omnicity.adapters.stats.delivery_counters`). ``previous``: the case as read
        (default: read again); a change of status appends its audit entry in the same transaction, and a case that
        closes gets its TTL on every item of it (``omnicity.adapters.audit``).
        """
        if previous is None:
            previous = self.get(case.case_id)
            if previous.version != case.version:
                raise CaseConflictError(f"case {case.case_id} changed since version {case.version}")
        stored = case.model_copy(update={"version": case.version + 1})
        along = [*along, *self._audit(previous, stored)]
        put = {
            "TableName": self._table,
            "Item": self._item(stored),
            "ConditionExpression": "#version = :read_version",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":read_version": {"N": str(case.version)}},
        }
        try:
            if along:
                self._call("transact_write_items", TransactItems=[{"Put": put}, *along])
            else:
                self._call("put_item", **put)
        except ConditionFailedError:
            raise CaseConflictError(f"case {case.case_id} changed since version {case.version}") from None
        if not previous.status.is_terminal:
            self._retain(stored)
        return stored

    def update(
        self,
        case_id: str,
        change: Callable[[Case], Case | None],
        attempts: int = 3,
        along: Along | None = None,
    ) -> Case:
        """Read-modify-write with optimistic locking. ``change`` returns the new case, or None to leave it as is.

        ``change`` must be a pure function of the case it is given: it runs again after a conflict. A change that
        completes the case adds it to its day's counters in the same transaction (counted once, however retried).
        ``along(current, changed)``: more writes of the same transaction, all or nothing with the case (the task
        closed with a case that fails, with its audit entry). It runs again after a conflict, like ``change``; a
        failed condition of any of its writes is a conflict too (the whole change is tried again from fresh reads).
        """
        for attempt in range(attempts):
            current = self.get(case_id)
            changed = change(current)
            if changed is None:
                return current
            writes = [*delivery_counters(self._table, current, changed), *(along(current, changed) if along else ())]
            try:
                return self.save(changed, along=writes, previous=current)
            except CaseConflictError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def audit_items(self, case: Case, entries: Iterable[audit.AuditEntry]) -> list[dict[str, Any]]:
        """TransactWriteItems entries appending ``entries`` to the trail of ``case`` (as it is being stored: a
        closed case's entries carry its TTL), for a transaction that writes them with what they record."""
        expires_at = self._expires_at(case)
        return [audit.append(self._table, entry, expires_at) for entry in entries]

    # ------------------------------------------------------------------------------------------ reads
    def get(self, case_id: str) -> Case:
        response = self._call("get_item", TableName=self._table, Key=case_key(case_id), ConsistentRead=True)
        item = response.get("Item")
        if item is None:
            raise NotFoundError(f"no case {case_id!r}")
        return _case_from_item(item)

    def list_for_citizen(self, nrn: str, limit: int = 50, cursor: str | None = None) -> tuple[list[Case], str | None]:
        """The citizen's cases, newest first, one page at a time (``cursor`` is the opaque next-page token).

        The cursor holds only the position of the last case read (its creation time and id), never the NRN; the
        start key is rebuilt from it and the caller's own NRN, so any cursor only ever continues the caller's own
        listing.
        """
        owner = f"CITIZEN#{nrn}"
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CITIZEN_INDEX,
            "KeyConditionExpression": "gsi1pk = :owner",
            "ExpressionAttributeValues": {":owner": {"S": owner}},
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if cursor:
            position, case_id = _decode_cursor(cursor)
            query["ExclusiveStartKey"] = {**case_key(case_id), "gsi1pk": {"S": owner}, "gsi1sk": {"S": position}}
        response = self._call("query", **query)
        cases = [_case_from_item(item) for item in response.get("Items", [])]
        last_key = response.get("LastEvaluatedKey")
        return cases, _encode_cursor(last_key["gsi1sk"]["S"]) if last_key else None

    def in_flight_before(self, moment: datetime, limit: int = MAX_PAGE) -> list[Case]:
        """Cases still submitted or in progress whose last change is older than ``moment``, oldest first, at most
        ``limit``: one Query of the sparse in-flight entries (only such cases are in it, whatever the table holds;
        keys only), then each case read (a stalled case is rare: the index stays a write unit per save)."""
        response = self._call(
            "query",
            TableName=self._table,
            IndexName=IN_FLIGHT_INDEX,
            KeyConditionExpression="gsi4pk = :partition AND gsi4sk < :moment",
            ExpressionAttributeValues={
                ":partition": {"S": IN_FLIGHT_PARTITION},
                ":moment": {"S": _utc_position(moment)},
            },
            ScanIndexForward=True,
            Limit=max(1, min(limit, MAX_PAGE)),
        )
        cases = []
        for item in response.get("Items", []):
            try:
                cases.append(self.get(item["pk"]["S"].removeprefix("CASE#")))
            except NotFoundError:  # expired or removed since the index was read
                continue
        return cases

    def iter_public(self, procedure_id: str, start: datetime, end: datetime) -> Iterator[Case]:
        """The public cases of a procedure created from ``start`` to ``end`` (both included), newest first.

        One Query per calendar month (UTC) of the window, newest month first, page by page: the caller stops
        reading when it has enough. The window spans at most ``MAX_PUBLIC_MONTHS`` months (a ValueError otherwise:
        callers bound it).
        """
        if start > end:
            return
        first, last = start.astimezone(UTC), end.astimezone(UTC)
        span = (last.year - first.year) * 12 + last.month - first.month + 1
        if span > MAX_PUBLIC_MONTHS:
            raise ValueError(f"a public listing spans at most {MAX_PUBLIC_MONTHS} months, not {span}")
        months = _months_between(first, last)
        low, high = _utc_position(start), f"{_utc_position(end)}#~"  # "~" sorts after every case id
        for month in reversed(months):
            query: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": PUBLIC_INDEX,
                "KeyConditionExpression": "gsi3pk = :month AND gsi3sk BETWEEN :low AND :high",
                "ExpressionAttributeValues": {
                    ":month": {"S": f"PUBLIC#{procedure_id}#{month}"},
                    ":low": {"S": low},
                    ":high": {"S": high},
                },
                "ScanIndexForward": False,
            }
            for page in pages(self.client, query):
                yield from (_case_from_item(item) for item in page.get("Items", []))

    # ------------------------------------------------------------------------------------------ plumbing
    def _item(self, case: Case) -> dict[str, Any]:
        document = case.model_dump(mode="json")
        item = to_attributes(document)
        item.update({"pk": {"S": f"CASE#{case.case_id}"}, "sk": {"S": CASE_SK}, "type": {"S": "case"}})
        if case.applicant.nrn is not None:  # an anonymous report is in no citizen's list
            item["gsi1pk"] = {"S": f"CITIZEN#{case.applicant.nrn}"}
            item["gsi1sk"] = {"S": f"{case.created_at.isoformat()}#{case.case_id}"}
        if case.status.is_in_flight:  # a step should move it soon: if none does, the stalled-case sweep finds it
            item["gsi4pk"] = {"S": IN_FLIGHT_PARTITION}
            item["gsi4sk"] = {"S": f"{_utc_position(case.updated_at)}#{case.case_id}"}
        if case.public:  # listed by month of creation: a window of dates reads only its months' partitions
            item["gsi3pk"] = {"S": public_partition(case.procedure_id, case.created_at)}
            item["gsi3sk"] = {"S": f"{_utc_position(case.created_at)}#{case.case_id}"}
        expires_at = self._expires_at(case)
        if expires_at is not None:  # closed: DynamoDB's TTL deletes it after the procedure's retention
            item[audit.EXPIRES_AT] = {"N": str(expires_at)}
        return item

    def _expires_at(self, case: Case) -> int | None:
        return audit.expires_at(case, self._retention_days(case.procedure_id)) if case.status.is_terminal else None

    def _audit(self, previous: Case | None, case: Case) -> list[dict[str, Any]]:
        """The transaction entry appending the audit entry of a change of status (none when it stays the same)."""
        entry = audit.status_change(previous, case)
        return [] if entry is None else [audit.append(self._table, entry, self._expires_at(case))]

    def _retain(self, case: Case) -> None:
        """A case just closed: its earlier audit entries and its pointers get the TTL the case item has."""
        expires_at = self._expires_at(case)
        if expires_at is None:
            return
        pointers = [("REF", case.reference)] + ([("HANDOFF", case.handoff_code)] if case.handoff_code else [])
        pointers += [("DOC", document.document_id) for document in case.documents]
        try:
            audit.AuditTrail(self._table, self.client, retention=self._retention_days).retain(
                case.case_id, expires_at, [_pointer(kind, value, case.case_id) for kind, value in pointers]
            )
        except TransientError:  # the case is stored (closed, with its TTL): say what kept its other items' TTL back
            logger.exception("retention not applied to every item of a closed case", extra={"case_id": case.case_id})

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call (see omnicity.adapters.dynamo). A ValidationException stays a 500, a bug of ours: no value
        a client sends reaches a request unchecked (keys are built here, the cursor is validated by
        :func:`_decode_cursor`, the form by ``omnicity.forms.validation``)."""
        return call(self.client, operation, **kwargs)


def _pointer_key(kind: str, value: str) -> dict[str, Any]:
    return {"pk": {"S": f"{kind}#{value}"}, "sk": {"S": kind}}


def _pointer(kind: str, value: str, case_id: str) -> dict[str, Any]:
    return {**_pointer_key(kind, value), "type": {"S": kind.lower()}, "case_id": {"S": case_id}}


_KEY_ATTRIBUTES = ("pk", "sk", "type", "gsi1pk", "gsi1sk", "gsi3pk", "gsi3sk", "gsi4pk", "gsi4sk", audit.EXPIRES_AT)


def _case_from_item(item: dict[str, Any]) -> Case:
    return Case.model_validate(from_attributes(item, _KEY_ATTRIBUTES))


def public_partition(procedure_id: str, created_at: datetime) -> str:
    """The public listing partition of a case: its procedure and the month (UTC) it was created in."""
    return f"PUBLIC#{procedure_id}#{created_at.astimezone(UTC):%Y-%m}"


def _utc_position(moment: datetime) -> str:
    """A moment as the listing sorts it: ISO 8601 in UTC (``+00:00``), so strings compare as times do."""
    return moment.astimezone(UTC).isoformat()


def _months_between(start: datetime, end: datetime) -> list[str]:
    """The calendar months (UTC, ``yyyy-mm``) from ``start``'s to ``end``'s, oldest first."""
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    year, month = first.year, first.month
    months = []
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# A cursor is the position of the last case of a page, ``gsi1sk`` = ``<created_at iso>#<case_id>``, in unpadded
# URL-safe base64: nothing personal, nothing a client can use to address another key.
_CURSOR = re.compile(r"[A-Za-z0-9_-]+")
_POSITION = re.compile(
    r"(?P<created>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?)#(?P<case_id>[A-Za-z0-9_-]{1,64})"
)


def _encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).rstrip(b"=").decode("ascii")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    """``(gsi1sk, case_id)`` of a cursor made by :func:`_encode_cursor`; anything else is a malformed request."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise MalformedRequestError("invalid cursor", [field_error("cursor", "too long to be a cursor")])
    try:
        if not _CURSOR.fullmatch(cursor):
            raise ValueError("not URL-safe base64")
        position = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        match = _POSITION.fullmatch(position)
        if match is None or _encode_cursor(position) != cursor:
            raise ValueError("not a position of this listing")
        datetime.fromisoformat(match["created"])
    except ValueError:  # binascii.Error and UnicodeDecodeError included
        raise MalformedRequestError(
            "invalid cursor", [field_error("cursor", "not a cursor returned by this listing")]
        ) from None
    return position, match["case_id"]
