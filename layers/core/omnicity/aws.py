"""The one place AWS clients are created: lazily, once per process, so a cold start pays only for what it uses.

Clients honour ``AWS_ENDPOINT_URL`` (the local runtime points it at moto), so no code here knows where it runs.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.client import BaseClient


@cache
def client(service: str) -> BaseClient:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)
    created: BaseClient = boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]
    return created


def dynamodb() -> Any:
    return client("dynamodb")


def s3() -> Any:
    return client("s3")


def stepfunctions() -> Any:
    return client("stepfunctions")


def ses() -> Any:
    return client("ses")


def reset_clients() -> None:
    """Forget cached clients (tests switch AWS backends between cases)."""
    client.cache_clear()


TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "SlowDown",
        "TooManyRequestsException",
    }
)


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
