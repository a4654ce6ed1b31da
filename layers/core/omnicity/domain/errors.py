"""Named domain errors.

Every error carries a stable machine ``code`` and the HTTP status it maps to; ``omnicity.http.errors`` writes it as
a reply (the API's JSON; Open311's list, in the statuses the spec knows: ``omnicity.http.open311``). Workflow steps
raise the same classes; Step Functions matches their class names in Retry/Catch (``TransientError`` and
``CaseConflictError`` are retried, everything else marks the case failed).
"""

from __future__ import annotations

from typing import Any


class OmnicityError(Exception):
    code = "internal_error"
    http_status = 500
    retry_after_seconds: int | None = None  # when set, the reply's Retry-After header (seconds)

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class MalformedRequestError(OmnicityError):
    code = "malformed_request"
    http_status = 400


class UnauthorizedError(OmnicityError):
    code = "unauthorized"
    http_status = 401


class ForbiddenError(OmnicityError):
    code = "forbidden"
    http_status = 403


class NotFoundError(OmnicityError):
    code = "not_found"
    http_status = 404


class ConflictError(OmnicityError):
    code = "conflict"
    http_status = 409


class NotCancellableError(ConflictError):
    """The case cannot be cancelled (any more): its procedure offers no cancelling, it ended already, or it is too
    late (409, naming the field that decides when it does)."""

    code = "not_cancellable"


class CaseConflictError(ConflictError):
    """Another writer changed the case first (its version moved on). Safe to retry from a fresh read."""

    code = "case_conflict"


class CaseCancelledError(ConflictError):
    """The citizen cancelled the case: its waiting workflow ends (the state machine's Catch leads to its end)."""

    code = "case_cancelled"


class AlreadyRevokedError(ConflictError):
    """The document was revoked already, for another reason: the first revocation stands, as its citizen was told it
    (409). The same revocation again is no error: it changes nothing."""

    code = "already_revoked"


class PayloadTooLargeError(OmnicityError):
    """A request body over the limit (``omnicity.http.edge.MAX_BODY_BYTES``): refused before anything reads it."""

    code = "payload_too_large"
    http_status = 413


class ValidationFailedError(OmnicityError):
    """Input that is well-formed but wrong. ``details`` names each field: ``{"field": ..., "reason": ...}``."""

    code = "validation_failed"
    http_status = 422


class TooManyRequestsError(OmnicityError):
    """One caller's attempts are over a limit (``omnicity.adapters.throttle``): refused until the window ends, in
    ``retry_after_seconds`` (the reply's ``Retry-After``)."""

    code = "too_many_requests"
    http_status = 429

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None, *, retry_after_seconds: int) -> None:
        super().__init__(message, details)
        self.retry_after_seconds = retry_after_seconds


class TransientError(OmnicityError):
    """A dependency is throttling or briefly unavailable: retry later."""

    code = "unavailable"
    http_status = 503


class DeliveryFailedError(OmnicityError):
    """A message was refused for good (address rejected, sender not allowed): retrying will not help."""

    code = "undeliverable"


class ConfigurationError(OmnicityError):
    """The function is deployed without a setting it needs: fail loudly at cold start."""

    code = "misconfigured"


class StepInputError(OmnicityError):
    """A workflow step received input it cannot act on (never retried)."""

    code = "bad_step_input"


def field_error(field: str, reason: str) -> dict[str, str]:
    return {"field": field, "reason": reason}
