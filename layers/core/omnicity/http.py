"""What every HTTP reply of the platform carries, and how large a request body may be.

The one place for the functions behind API Gateway (the API, Open311): each passes its proxy reply through
:func:`secure` and checks a body with :func:`check_body_size` before anything parses it. The replies API Gateway
makes itself (401 from the authorizer, 4XX, 5XX) carry the same headers through template.yaml's ``GatewayResponses``
(a test keeps the two equal).

- ``Strict-Transport-Security``: browsers only ever call the API over HTTPS (a year, subdomains too).
- ``X-Content-Type-Options: nosniff``: a JSON reply is never sniffed into HTML or script.
- ``Cache-Control: no-store``: replies hold personal data and short-lived links; no browser or proxy keeps them.
- ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'``: a JSON reply loads nothing and is framed
  nowhere. The one HTML page (Swagger UI, its script and style inline) gets :data:`PAGE_CSP`, which lets exactly
  those run, and still nothing from elsewhere.
- ``X-Frame-Options: DENY`` (older browsers' frame-ancestors), ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from types import MappingProxyType
from typing import Any, Final

from omnicity.errors import PayloadTooLargeError, field_error

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


def _content_type(headers: Mapping[str, Any]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def _replace(headers: MutableMapping[str, Any], name: str, value: Any) -> None:
    for existing in [key for key in headers if key.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value
