"""Idempotent case submission: a client that sends an ``Idempotency-Key`` gets one case however often it retries.

Powertools' idempotency utility does the bookkeeping, in its own DynamoDB table (``IdempotencyTable`` in
template.yaml, named by ``IDEMPOTENCY_TABLE_NAME``). The idempotent unit is the domain call, not the Lambda handler:
the record holds the :class:`~omnicity.application.views.CaseCreated` the first call returned, and a repeat returns
that same model, so the API answers it with the same 201 and the same body.

- The record's key is a digest of who calls (role and subject), on which channel, and the header's value: one
  citizen's key never answers another citizen's request, nor the same person's on another channel. Nothing
  personal is stored in clear (keys and body are SHA-256 digests; the stored reply is the CaseCreated).
- The request body (as validated: whitespace, key order and ignored fields make no difference) is checked against
  the first request's: the same key with another body is :class:`IdempotencyKeyReusedError` (422).
- A repeat that arrives while the first request is still running waits a moment for its result (a double click's
  second request then gets the 201 too); if the first is still running after that, :class:`RequestInProgressError`
  (409, with a ``Retry-After``).
- A request that fails leaves no record (Powertools deletes it): the client may retry with the same key.
- Records expire after :data:`RECORD_TTL_SECONDS` (the table's TTL attribute ``expiration``).

Powertools (and the boto3 it imports) is imported on the first keyed request only: a cold start does not pay for it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

from pydantic import BaseModel

from omnicity import aws
from omnicity.application.views import CaseCreated
from omnicity.domain.errors import ConflictError, MalformedRequestError, OmnicityError, TransientError, field_error

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

    from omnicity.domain.identity import Principal

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
KEY_MIN_LENGTH: Final = 8
KEY_MAX_LENGTH: Final = 128
KEY_CHARACTERS: Final = "A-Za-z0-9._:+/=-"
_BARE_KEY: Final = f"[{KEY_CHARACTERS}]{{{KEY_MIN_LENGTH},{KEY_MAX_LENGTH}}}"
# The header's whole value: the key, or the key in double quotes (the IETF draft's structured-field string).
KEY_PATTERN: Final = f'^(?:{_BARE_KEY}|"{_BARE_KEY}")$'
KEY_RULE: Final = (
    f"{KEY_MIN_LENGTH} to {KEY_MAX_LENGTH} characters among letters, digits and - _ . : + / = "
    "(a UUID is a good key), optionally in double quotes"
)
RECORD_TTL_SECONDS: Final = 24 * 60 * 60
RETRY_AFTER_SECONDS: Final = 1
# How long a repeat waits for the first request's result before answering 409: about 0.75 s in all.
IN_PROGRESS_WAITS: Final = (0.05, 0.1, 0.2, 0.4)
# The records' key prefix: stable across deployments and function renames (Powertools would use the function's name).
_KEY_PREFIX: Final = "cases.submit"
_KEY = re.compile(KEY_PATTERN)


class IdempotencyKeyReusedError(OmnicityError):
    """The key was used before with another request body (the IETF idempotency-key draft's 422)."""

    code = "idempotency_key_reused"
    http_status = 422


class RequestInProgressError(ConflictError):
    """A request with this key is still running: retry after :attr:`retry_after_seconds` (the API sets
    ``Retry-After``)."""

    code = "request_in_progress"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, details)
        self.retry_after_seconds = RETRY_AFTER_SECONDS


class RemainingTime(Protocol):
    """The part of the Lambda context Powertools reads: a request that dies mid-way (a timeout) holds its key no
    longer than the invocation could have run."""

    def get_remaining_time_in_millis(self) -> int: ...


def parse_key(header: str) -> str:
    """The key a client sent, or :class:`MalformedRequestError` (400) naming the header. The IETF draft writes the
    value as a structured-field string (``"8e03978e-..."``): one pair of double quotes around it is accepted."""
    value = header.strip()
    if not _KEY.fullmatch(value):
        raise MalformedRequestError(
            f"the {IDEMPOTENCY_HEADER} header is malformed", [field_error(IDEMPOTENCY_HEADER, KEY_RULE)]
        )
    return value.strip('"')


def submission_scope(principal: Principal, key: str, request: BaseModel) -> dict[str, Any]:
    """The data Powertools keys and validates a submission by: ``caller``, ``channel`` and ``key`` make the record's
    key; ``request`` (the validated body) is what a repeat must match."""
    return {
        "caller": f"{principal.role.value}:{principal.subject}",
        "channel": principal.channel.value,
        "key": key,
        "request": request.model_dump(mode="json"),
    }


class IdempotentSubmissions:
    """Runs a submission once per (caller, channel, key) for :data:`RECORD_TTL_SECONDS`.

    ``client`` is a DynamoDB client (``omnicity.aws``'s by default); ``waits`` are the pauses a repeat makes while
    the first request runs, and ``sleep`` how it pauses (tests count the pauses instead of sleeping).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        waits: Sequence[float] = IN_PROGRESS_WAITS,
        sleep: Callable[[float], None] = time.sleep,
        ttl_seconds: int = RECORD_TTL_SECONDS,
    ) -> None:
        self._table_name = table_name
        self._client = client
        self._waits = tuple(waits)
        self._sleep = sleep
        self._ttl_seconds = ttl_seconds
        self._store: DynamoDBPersistenceLayer | None = None
        self._lock = threading.Lock()

    def submit(
        self,
        action: Callable[[], CaseCreated],
        *,
        principal: Principal,
        key: str | None,
        request: BaseModel,
        context: RemainingTime | None,
    ) -> CaseCreated:
        """``action()`` once for this caller, channel and key: its result, or the first call's result again.

        No key: ``action()``, as if this class did not exist. A malformed key is a 400 before anything runs.
        """
        if key is None:
            return action()
        scope = submission_scope(principal, parse_key(key), request)
        once = self._once(action, context)
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyInconsistentStateError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        for wait in (*self._waits, None):
            try:
                result: CaseCreated = once(submission=scope)
            except IdempotencyAlreadyInProgressError:
                if wait is None:
                    raise RequestInProgressError(
                        "a request with this key is still being processed: retry later",
                        [field_error(IDEMPOTENCY_HEADER, f"in progress; retry after {RETRY_AFTER_SECONDS} s")],
                    ) from None
                self._sleep(wait)
            except IdempotencyValidationError:
                raise IdempotencyKeyReusedError(
                    f"the {IDEMPOTENCY_HEADER} was already used with another request body",
                    [
                        field_error(
                            IDEMPOTENCY_HEADER, "already used with another body: use a new key for a new request"
                        )
                    ],
                ) from None
            except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as exc:
                raise TransientError("the idempotency store is unavailable: retry with the same key") from exc
            else:
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _once(self, action: Callable[[], CaseCreated], context: RemainingTime | None) -> Callable[..., Any]:
        """``action`` wrapped by Powertools. The config is per call: it carries this request's context (the
        in-progress expiry), and the local runtime runs requests in threads."""
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

        def run(submission: dict[str, Any]) -> CaseCreated:  # Powertools passes the data it keyed the call by
            return action()

        return idempotent_function(  # type: ignore[no-any-return]
            run,
            data_keyword_argument="submission",
            persistence_store=self._persistence(),
            config=self._config(context),
            output_serializer=PydanticSerializer(model=CaseCreated),
            key_prefix=_KEY_PREFIX,
        )

    def _config(self, context: RemainingTime | None) -> IdempotencyConfig:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

        return IdempotencyConfig(
            event_key_jmespath="[caller, channel, key]",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self._ttl_seconds,
            hash_function="sha256",
            lambda_context=context,  # type: ignore[arg-type]  # Powertools reads get_remaining_time_in_millis only
        )

    def _persistence(self) -> DynamoDBPersistenceLayer:
        """The persistence layer, created and configured once. Powertools configures a layer on its first use and
        marks it configured before it has read the whole config: configuring it here, under a lock, keeps
        concurrent first requests (threads of the local runtime) from seeing it half-configured."""
        with self._lock:
            if self._store is None:
                from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

                store = DynamoDBPersistenceLayer(
                    table_name=self._table_name, boto3_client=self._client or aws.dynamodb()
                )
                store.configure(self._config(None), key_prefix=_KEY_PREFIX)
                self._store = store
            return self._store
