"""The case repository: one DynamoDB table, deliberate access patterns, optimistic locking, no Scan.

Access patterns (the table's keys are generic: ``pk``/``sk`` and one index ``gsi1``):

=================================  ==========================================  ===========================
pattern                            key                                         operation
=================================  ==========================================  ===========================
a case by id                       pk=CASE#<case_id>, sk=CASE                  GetItem (consistent)
the cases of a citizen, newest 1st gsi1pk=CITIZEN#<nrn>, gsi1sk=<created>#<id>  Query gsi1, descending
next reference number of a year    pk=COUNTER#reference, sk=YEAR#<yyyy>        UpdateItem ADD (atomic)
=================================  ==========================================  ===========================

Every write of a case is conditional on the version it was read at; the loser of a race gets
:class:`~omnicity.errors.CaseConflictError` and retries from a fresh read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from omnicity import aws
from omnicity.errors import CaseConflictError, ConflictError, MalformedRequestError, NotFoundError, TransientError
from omnicity.models import Case

CASE_SK = "CASE"
CITIZEN_INDEX = "gsi1"
MAX_PAGE = 100


def case_key(case_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": CASE_SK}}


class CaseRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.dynamodb()
        return self._client

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
        """Store a new case; never overwrites an existing one."""
        stored = case.model_copy(update={"version": 1})
        try:
            self._call(
                "put_item",
                TableName=self._table,
                Item=self._item(stored),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except _ConditionFailedError:
            raise ConflictError(f"case {case.case_id} already exists") from None
        return stored

    def save(self, case: Case) -> Case:
        """Replace the case if nobody changed it since it was read (``case.version``); returns the new version."""
        stored = case.model_copy(update={"version": case.version + 1})
        try:
            self._call(
                "put_item",
                TableName=self._table,
                Item=self._item(stored),
                ConditionExpression="#version = :read_version",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":read_version": {"N": str(case.version)}},
            )
        except _ConditionFailedError:
            raise CaseConflictError(f"case {case.case_id} changed since version {case.version}") from None
        return stored

    def update(self, case_id: str, change: Callable[[Case], Case | None], attempts: int = 3) -> Case:
        """Read-modify-write with optimistic locking. ``change`` returns the new case, or None to leave it as is.

        ``change`` must be a pure function of the case it is given: it runs again after a conflict.
        """
        for attempt in range(attempts):
            current = self.get(case_id)
            changed = change(current)
            if changed is None:
                return current
            try:
                return self.save(changed)
            except CaseConflictError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------------------------------ reads
    def get(self, case_id: str) -> Case:
        response = self._call("get_item", TableName=self._table, Key=case_key(case_id), ConsistentRead=True)
        item = response.get("Item")
        if item is None:
            raise NotFoundError(f"no case {case_id!r}")
        return _case_from_item(item)

    def list_for_citizen(self, nrn: str, limit: int = 50, cursor: str | None = None) -> tuple[list[Case], str | None]:
        """The citizen's cases, newest first, one page at a time (``cursor`` is the opaque next-page token)."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CITIZEN_INDEX,
            "KeyConditionExpression": "gsi1pk = :owner",
            "ExpressionAttributeValues": {":owner": {"S": f"CITIZEN#{nrn}"}},
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if cursor:
            query["ExclusiveStartKey"] = _decode_cursor(cursor, nrn)
        response = self._call("query", **query)
        cases = [_case_from_item(item) for item in response.get("Items", [])]
        last_key = response.get("LastEvaluatedKey")
        return cases, _encode_cursor(last_key) if last_key else None

    # ------------------------------------------------------------------------------------------ plumbing
    def _item(self, case: Case) -> dict[str, Any]:
        document = case.model_dump(mode="json")
        item = {key: _serialize(value) for key, value in document.items() if value is not None}
        item.update(
            {
                "pk": {"S": f"CASE#{case.case_id}"},
                "sk": {"S": CASE_SK},
                "type": {"S": "case"},
                "gsi1pk": {"S": f"CITIZEN#{case.applicant.nrn}"},
                "gsi1sk": {"S": f"{case.created_at.isoformat()}#{case.case_id}"},
            }
        )
        return item

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call. Transient failures become TransientError; a failed condition becomes
        _ConditionFailedError for the caller to name. Anything else (a ValidationException included) is a bug of
        ours and stays a 500: no value a client sends reaches a request unchecked (keys are built here, the cursor
        is validated by :func:`_decode_cursor`, the form by ``omnicity.forms``)."""
        try:
            with aws.translate_errors(f"DynamoDB {operation}"):
                return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                raise _ConditionFailedError from exc
            raise


class _ConditionFailedError(Exception):
    pass


_KEY_ATTRIBUTES = {"pk", "sk", "type", "gsi1pk", "gsi1sk"}


def _case_from_item(item: dict[str, Any]) -> Case:
    data = {key: _deserialize(value) for key, value in item.items() if key not in _KEY_ATTRIBUTES}
    return Case.model_validate(data)


def _serialize(value: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer().serialize(_decimals(value))  # type: ignore[no-any-return]


def _deserialize(value: dict[str, Any]) -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return _plain(TypeDeserializer().deserialize(value))


def _decimals(value: Any) -> Any:
    """DynamoDB numbers are Decimals; JSON floats become Decimals through their text, exactly."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decimals(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [_plain(item) for item in value]
    return value


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str, nrn: str) -> dict[str, Any]:
    """A cursor only ever continues the same citizen's listing: anything else is a malformed request."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if key["gsi1pk"]["S"] != f"CITIZEN#{nrn}":
            raise ValueError("cursor of another listing")
    except (ValueError, KeyError, TypeError):
        raise MalformedRequestError(
            "invalid cursor", [{"field": "cursor", "reason": "not a cursor of this listing"}]
        ) from None
    return dict(key)
