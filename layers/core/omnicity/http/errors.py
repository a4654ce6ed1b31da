"""How an error becomes a reply, for each function behind API Gateway: one installer of a resolver's error handlers.

Every error the platform names (:class:`omnicity.domain.errors.OmnicityError`) carries its HTTP status; what differs
between the functions is only how the reply is written: the API's ``{"error": {"code", "message", "details"}}``
(:func:`json_error`), Open311's list of ``{code, description}`` (``omnicity.http.open311``). A function hands its
writer to :func:`install_error_handlers`, and every error then takes that one path, whether a route raised it or the
resolver met it before any route ran (a body that is not UTF-8, a route that does not exist, and on the API a body
that is not JSON or fails its model). Invariants, on every reply of this path:

- ``Retry-After`` (whole seconds) is set exactly when the error says when to try again (a 409 still in progress, 429);
- a failure of ours (5xx) is logged with its stack; the client's mistakes are not (their reply says it all);
- nothing of the request's body is logged.

A body over the limit: the API refuses it before its resolver runs (``omnicity.http.edge.refuse_too_large``, the
same JSON), for every route; Open311 checks the body in its one POST route, so its 413 takes this path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError

from omnicity.domain.errors import (
    MalformedRequestError,
    NotFoundError,
    OmnicityError,
    ValidationFailedError,
    field_error,
)
from omnicity.observability import logger

ErrorWriter = Callable[[OmnicityError], Response[Any]]
"""Writes an error as a reply of the function's format: its status and body (``Retry-After`` is added here)."""

Body = Literal["json", "form"]
"""What the resolver's requests carry. ``"json"``: Powertools reads the body and validates every input against the
route's models (``enable_validation=True``, the API); ``"form"``: the routes read their form-encoded bodies themselves
(Open311)."""

_LOCATIONS: Final = frozenset({"body", "query", "path", "header", "cookie"})


def json_error(error: OmnicityError) -> Response[Any]:
    """The API's error reply: the error's status, ``{"error": {"code", "message", "details"}}`` as JSON."""
    return Response(status_code=error.http_status, content_type=content_types.APPLICATION_JSON, body=error.to_body())


def install_error_handlers(app: APIGatewayRestResolver, write: ErrorWriter, *, no_route: str, body: Body) -> None:
    """Make every error of ``app``'s requests a reply written by ``write``.

    - an :class:`OmnicityError` a route raises: its own status;
    - a body that is not UTF-8 text (API Gateway hands such a body over in base64, Powertools decodes it before any
      route runs; no code of ours decodes bytes): a 400 ("not valid JSON", naming the body, for ``body="json"``;
      "not UTF-8 text" for ``body="form"``);
    - a path no route serves: a 404 saying ``no_route``;
    - for ``body="json"`` only (what Powertools' validation raises, before any route runs): a body of a type it does
      not parse as JSON (``text/plain``..., or ``multipart/form-data`` without a boundary, which it reports as a bare
      ValueError) is a 400 naming the Content-Type; an input its model refuses is a 422 naming each field as the
      client wrote it (``language``, ``form.purpose``, ``limit``; ``body`` for the body as a whole, e.g. an array
      instead of an object). Any other ValueError is a bug of ours: re-raised, never dressed up as the client's
      mistake.
    """

    def reply(error: OmnicityError) -> Response[Any]:
        response = write(error)
        if error.retry_after_seconds is not None:
            response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response

    @app.exception_handler(OmnicityError)  # type: ignore[untyped-decorator]
    def handle_error(error: OmnicityError) -> Response[Any]:
        if error.http_status >= 500:
            logger.exception("request failed", extra={"code": error.code})
        return reply(error)

    @app.exception_handler(UnicodeDecodeError)  # type: ignore[untyped-decorator]
    def handle_undecodable_body(_: UnicodeDecodeError) -> Response[Any]:
        if body == "json":
            return reply(MalformedRequestError("the body is not valid JSON", [field_error("body", "not UTF-8 text")]))
        return reply(MalformedRequestError("the body is not UTF-8 text"))

    @app.not_found
    def handle_not_found(_: Exception) -> Response[Any]:
        return reply(NotFoundError(no_route))

    if body != "json":
        return

    def not_json() -> Response[Any]:
        problem = field_error("Content-Type", "must be application/json")
        return reply(MalformedRequestError("the body must be JSON", [problem]))

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def handle_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
        return not_json()

    @app.exception_handler(ValueError)  # type: ignore[untyped-decorator]
    def handle_multipart_without_boundary(error: ValueError) -> Response[Any]:
        content_type = app.current_event.headers.get("content-type", "")
        if content_type.strip().lower().startswith("multipart/form-data") and "boundary=" not in content_type.lower():
            return not_json()
        raise error

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def handle_validation_error(error: RequestValidationError) -> Response[Any]:
        details = []
        for problem in error.errors():
            parts = [str(part) for part in problem.get("loc", ())]
            if parts and parts[0] in _LOCATIONS:
                parts = parts[1:]
            details.append(field_error(".".join(parts) or "body", str(problem.get("msg", "invalid"))))
        return reply(ValidationFailedError("the request has invalid fields", details))
