"""DynamoDB plumbing shared by the repositories: one call wrapper and the item <-> document conversions.

Repositories own their keys and access patterns; this module only knows the wire format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from omnicity import aws


class TableRepository:
    """A repository over the platform's single table: the table's name and a DynamoDB client, created on first use
    (cold starts pay only for what they use) or injected (tests)."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.dynamodb()
        return self._client


class ConditionFailedError(Exception):
    """A conditional write lost (the item exists / moved on): the repository names the domain error."""


def call(client: Any, operation: str, **kwargs: Any) -> Any:
    """One DynamoDB call: transient failures become TransientError, a failed condition ConditionFailedError."""
    from botocore.exceptions import ClientError

    try:
        with aws.translate_errors(f"DynamoDB {operation}"):
            return getattr(client, operation)(**kwargs)
    except ClientError as exc:
        if aws.error_code(exc) in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            raise ConditionFailedError(aws.error_code(exc)) from exc
        raise


def pages(client: Any, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Each page of a Query, following ``LastEvaluatedKey`` to the end (a caller with enough stops reading): never a
    result silently cut at DynamoDB's 1 MB page."""
    request = dict(query)
    while True:
        response = call(client, "query", **request)
        yield response
        last_key = response.get("LastEvaluatedKey")
        if not last_key:
            return
        request["ExclusiveStartKey"] = last_key


def to_attributes(document: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-like document as DynamoDB attributes (None values left out, floats kept exact as Decimals)."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(_decimals(value)) for key, value in document.items() if value is not None}


def from_attributes(item: Mapping[str, Any], exclude: Iterable[str] = ()) -> dict[str, Any]:
    """DynamoDB attributes back to a JSON-like document (Decimals to int or float), key attributes left out."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    skipped = set(exclude)
    return {key: _plain(deserializer.deserialize(value)) for key, value in item.items() if key not in skipped}


def _decimals(value: Any) -> Any:
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
