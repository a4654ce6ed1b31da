"""The one place AWS clients are created: lazily, once per process, so a cold start pays only for what it uses.

Clients honour ``AWS_ENDPOINT_URL`` (the local runtime points it at moto), so no code here knows where it runs; a
client is kept per endpoint, so one made for another endpoint is never reused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from omnicity.domain.errors import TransientError

if TYPE_CHECKING:
    from botocore.client import BaseClient


def client(service: str) -> BaseClient:
    """The process's client of ``service`` for the endpoint and region the environment names now.

    One client per (service, endpoint, region): on Lambda that is one per service for the life of the process. A
    process whose environment changes (the local runtime starting and stopping, a test patching os.environ) never
    reuses a client made for another endpoint: a client created while ``AWS_ENDPOINT_URL`` was briefly unset would
    otherwise keep sending every later call to AWS itself."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or None  # boto3 reads the first
    return _client(service, endpoint, region)


@cache
def _client(service: str, endpoint: str | None, region: str | None) -> BaseClient:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)
    if service == "s3":
        config = config.merge(Config(signature_version="s3v4"))  # presigned URLs and POSTs signed with SigV4
    session = boto3.session.Session(region_name=region)
    created: BaseClient = session.client(service, endpoint_url=endpoint, config=config)  # type: ignore[call-overload]
    return created


def dynamodb() -> Any:
    return client("dynamodb")


def s3() -> Any:
    return client("s3")


def stepfunctions() -> Any:
    return client("stepfunctions")


def ses() -> Any:
    return client("ses")


def kms() -> Any:
    return client("kms")


def ssm() -> Any:
    return client("ssm")


def reset_clients() -> None:
    """Forget cached clients (tests switch AWS backends between cases)."""
    _client.cache_clear()


# The error codes AWS answers when a request may succeed if sent again later: throttling, or the service briefly
# failing on its side (S3 spells these InternalError, RequestTimeout, ServiceUnavailable, SlowDown).
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "InternalServerError",
        "InternalError",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "SlowDown",
    }
)


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Turn a transient AWS failure inside the block into :class:`~omnicity.domain.errors.TransientError` (which the
    state machines retry), ``from`` the original; leave every other exception alone.

    Transient: a ClientError whose code is in :data:`TRANSIENT_ERROR_CODES` (botocore has already retried it), and
    botocore's connection errors (the endpoint unreachable, a connect or read timeout, a connection closed mid-way).
    ``what`` names the call in the message, e.g. ``"DynamoDB put_item"``.
    """
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as AwsConnectionError

    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in TRANSIENT_ERROR_CODES:
            raise TransientError(f"{what} throttled or unavailable ({code})") from exc
        raise
    except (AwsConnectionError, HTTPClientError) as exc:
        raise TransientError(f"{what} could not reach the service ({type(exc).__name__})") from exc
