"""What every HTTP reply of the platform carries, how large a request body may be, and how a JSON body is read.

The one place for the functions behind API Gateway (the API, Open311): each passes its proxy reply through
:func:`secure` and checks a body with :func:`check_body_size` before anything parses it (the API for every route, by
:func:`refuse_too_large` before its resolver runs). The replies API Gateway makes itself (401 from the authorizer,
4XX, 5XX) carry the same headers through template.yaml's ``GatewayResponses`` (a test keeps the two equal).

- ``Strict-Transport-Security``: browsers only ever call the API over HTTPS (a year, subdomains too).
- ``X-Content-Type-Options: nosniff``: a JSON reply is never sniffed into HTML or script.
- ``Cache-Control: no-store``: replies hold personal data and short-lived links; no browser or proxy keeps them.
- ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'``: a JSON reply loads nothing and is framed
  nowhere. The one HTML page (Swagger UI, its script and style inline) gets :data:`PAGE_CSP`, which lets exactly
  those run, and still nothing from elsewhere.
- ``X-Frame-Options: DENY`` (older browsers' frame-ancestors), ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, NoReturn

from omnicity.domain.errors import MalformedRequestError, PayloadTooLargeError, ValidationFailedError, field_error
from omnicity.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import CORSConfig

MAX_BODY_BYTES: Final = 64 * 1024
"""The largest request body a function reads (every body is a small JSON object or form; photos go straight to S3)."""

SECURITY_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }
)

PAGE_CSP: Final = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
    "frame-ancestors 'none'"
)
"""The policy of the one HTML page (Swagger UI: inline script and style, data: images, calls to the API itself)."""

_CONTENT_SECURITY_POLICY: Final = "Content-Security-Policy"


def security_headers(content_type: str | None) -> dict[str, str]:
    """The headers a reply of ``content_type`` carries (an HTML page gets :data:`PAGE_CSP`)."""
    headers = dict(SECURITY_HEADERS)
    if content_type is not None and content_type.strip().lower().startswith("text/html"):
        headers[_CONTENT_SECURITY_POLICY] = PAGE_CSP
    return headers


def secure(reply: dict[str, Any]) -> dict[str, Any]:
    """``reply`` (a Lambda proxy reply) with the security headers, replacing any value of the same name.

    Powertools' REST resolver answers in ``multiValueHeaders``, which API Gateway prefers to ``headers`` for a name
    set in both: the headers go where the reply keeps its own.
    """
    multi = reply.get("multiValueHeaders")
    if isinstance(multi, MutableMapping):
        for name, value in security_headers(_content_type(multi)).items():
            _replace(multi, name, [value])
        return reply
    single = reply.get("headers")
    if not isinstance(single, MutableMapping):
        single = reply["headers"] = {}
    for name, value in security_headers(_content_type(single)).items():
        _replace(single, name, value)
    return reply


def body_size(body: str | None, *, base64_encoded: bool) -> int:
    """The size in bytes of a proxy event's body (API Gateway hands binary bodies over in base64)."""
    if not body:
        return 0
    if base64_encoded:
        return len(body.rstrip("=")) * 3 // 4
    return len(body.encode("utf-8", errors="surrogatepass"))


def check_body_size(body: str | None, *, base64_encoded: bool, limit: int = MAX_BODY_BYTES) -> None:
    """Raise PayloadTooLargeError (413, naming the body) for a body over ``limit`` bytes; it is never read."""
    size = body_size(body, base64_encoded=base64_encoded)
    if size > limit:
        reason = f"{size} bytes: at most {limit} bytes ({limit // 1024} KiB)"
        raise PayloadTooLargeError("the body is too large", [field_error("body", reason)])


def refuse_too_large(event: Mapping[str, Any], cors: CORSConfig) -> dict[str, Any] | None:
    """The 413 proxy reply to ``event`` when its body is over MAX_BODY_BYTES, made before anything reads the body;
    None for any other event (the resolver answers it).

    The reply carries the CORS headers the resolver would have added (``cors``: the resolver's own configuration), so
    that the portal's page can read the error. (This cannot be a middleware: Powertools parses a body, JSON, form or
    multipart, before any middleware runs.)
    """
    try:
        check_body_size(event.get("body"), base64_encoded=bool(event.get("isBase64Encoded")))
    except PayloadTooLargeError as error:
        logger.info("request refused", extra={"code": error.code, "limit": MAX_BODY_BYTES})
        return _early_reply(error, event.get("headers") or {}, cors)
    return None


def _early_reply(error: PayloadTooLargeError, request_headers: Mapping[str, str], cors: CORSConfig) -> dict[str, Any]:
    """A proxy reply made before the resolver runs: the error as the API writes it, with the CORS headers."""
    origin = next((value for name, value in request_headers.items() if name.lower() == "origin"), None)
    allowed = cors.allowed_origin(origin) if origin else None
    headers = {"Content-Type": "application/json", **(cors.to_dict(allowed) if allowed else {})}
    return {
        "statusCode": error.http_status,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "body": json.dumps(error.to_body(), separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _content_type(headers: Mapping[str, Any]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def _replace(headers: MutableMapping[str, Any], name: str, value: Any) -> None:
    for existing in [key for key in headers if key.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value


MAX_JSON_DEPTH: Final = 16
"""How deeply a JSON body may nest arrays and objects: the deepest body of the API is 4 levels (a form's items: body,
form, list, line); past this, a body is no request of ours, and a deeper one would reach code that recurses (pydantic
gives up serialising past a few hundred levels: an Idempotency-Key request once answered such a body with a 502)."""


def parse_json_object(text: str) -> dict[str, Any]:
    """A request body as the API reads it: one JSON object, reasonable, or the client's mistake, never a 500.

    Text that is not JSON, nests past :data:`MAX_JSON_DEPTH`, spells numbers that JSON has not (``NaN``, ``Infinity``:
    Python's parser would take them) or has an integer longer than Python converts is a 400 naming the body, without
    the body's text (in the error or the logs). Every body of this API is an object; anything else is a 422, because
    Powertools would validate the first item of an array as if it were the whole body. (Numbers JSON has but no float
    holds, ``1e400`` or ``1`` and 400 zeros, are the fields' to refuse: ``omnicity.forms.validation``.)
    """
    try:
        document = json.loads(text, parse_constant=_not_a_json_number)
    except json.JSONDecodeError as exc:
        raise _malformed_body(f"not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise _malformed_body(f"nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits())
        raise _malformed_body("a number has too many digits") from None
    if _depth(document) > MAX_JSON_DEPTH:
        raise _malformed_body(f"nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    if not isinstance(document, dict):
        raise ValidationFailedError("the request has invalid fields", [field_error("body", "must be a JSON object")])
    return document


def _not_a_json_number(constant: str) -> NoReturn:
    raise json.JSONDecodeError(f"{constant} is not a JSON number", constant, 0)


def _depth(document: Any) -> int:
    """How deeply ``document`` nests lists and dicts (a scalar: 0), counted without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            pending.extend((item, depth + 1) for item in value)
    return deepest


def _malformed_body(reason: str) -> MalformedRequestError:
    return MalformedRequestError("the body is not valid JSON", [field_error("body", reason)])
