"""An API Gateway (REST, Lambda proxy integration) for the local runtime.

``LocalGateway.dispatch`` matches the template's routes (``/v1/cases/{case_id}`` style; static segments win over
parameters), checks the bearer token on protected routes the way the Cognito authorizer does (401 with the template's
``UNAUTHORIZED`` gateway response body otherwise), builds a REST v1 proxy event with the verified claims under
``requestContext.authorizer.claims`` (strings, as API Gateway passes them), calls the route's function in-process and
translates its proxy response.

Deliberate differences from API Gateway, for a friendlier local loop:

- an unknown path answers 404 ``{"error": {"code": "not_found", ...}}``, as API Gateway does through the template's
  ``MISSING_AUTHENTICATION_TOKEN`` gateway response; a known path with an unrouted method answers 405
  ``method_not_allowed`` (API Gateway answers that 404 too); both carry the headers of the template's ``DEFAULT_4XX``
  gateway response (the security headers among them);
- a CORS preflight and the local-only routes carry the same headers but the CORS ones (on AWS, SAM's preflight mock
  integration answers with the CORS headers only: a preflight has no body);
- the local-only routes ``POST /local/token``, ``GET /local/people`` and ``GET /local/outbox`` exist here and never in
  template.yaml; a token minted for an agent (or a kiosk device) also signs them in to their client's user pool
  (``infra.local.users``), where the agents' directory finds them. When the template's functions seal documents,
  ``GET /local/seal/ca.pem`` (the local seal's only trust root) and ``POST /local/tsa`` (the local RFC 3161 timestamp
  authority, ``infra.local.seal``) too.

What the HTTP front (``infra.local.runtime``) checks before it reads a body (:meth:`LocalGateway.admit`), each refusal
a JSON error of the API's shape, at once, and the connection closed:

- the ``Host`` must be ``127.0.0.1:<port>`` or ``localhost:<port>``, the address it serves (421 otherwise, 400 when
  there is none or several): a page of another site that a browser's DNS was made to point at 127.0.0.1 (DNS
  rebinding) gets nothing;
- the ``Content-Length`` must be a number of bytes (400 otherwise: ``-1``, ``12abc``, two different lengths), at most
  API Gateway's 10 MB quota (413); a body sent in chunks (``Transfer-Encoding``) is refused (411).

Its request log prints :meth:`LocalGateway.loggable`: the route's template, never the path as sent (a hand-off code
is a path parameter), and the query's names without their values (an agent's ``reason=`` is free text).
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import functools
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from infra.local.bridge import LambdaBridge
from infra.local.seal import CA_PATH, TIMESTAMP_PATH, LocalSeal
from infra.local.template import ACCOUNT_ID, REGION, ApiRoute, GatewayResponse, TemplateDescription
from infra.local.tokens import ROLES, InvalidToken, LocalIssuer, authorizer_claims
from infra.local.users import LocalUserPools

logger = logging.getLogger(__name__)

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
Response = tuple[int, dict[str, str], bytes]

API_ID: Final = "local"
LOCAL_HOSTS: Final = ("127.0.0.1", "localhost")
MAX_PAYLOAD_BYTES: Final = 10 * 1024 * 1024  # API Gateway's quota on a request's payload (10 MB)
REDACTED: Final = "[redacted]"  # as omnicity.observability writes it
_JSON: Final = "application/json"
_DIGITS: Final = re.compile(r"[0-9]+")
_QUERY_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")
_DEFAULT_GATEWAY_MESSAGES: Final = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "Forbidden"),
    "DEFAULT_5XX": (502, "Internal server error"),
}
_ERROR_TYPES: Final = {"UNAUTHORIZED": "UnauthorizedException", "ACCESS_DENIED": "AccessDeniedException"}


@dataclass(frozen=True)
class _CompiledRoute:
    route: ApiRoute
    segments: tuple[str, ...]

    @classmethod
    def of(cls, route: ApiRoute) -> _CompiledRoute:
        return cls(route, _split_path(route.path))

    @property
    def rank(self) -> tuple[int, ...]:
        """Smaller is more specific: per segment 0 static, 1 ``{param}``, 2 ``{greedy+}``."""
        return tuple(2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.segments)

    def match(self, parts: Sequence[str]) -> dict[str, str] | None:
        parameters: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                if index != len(self.segments) - 1 or index >= len(parts):
                    return None
                parameters[segment[1:-2]] = unquote("/".join(parts[index:]))
                return parameters
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                parameters[segment[1:-1]] = unquote(parts[index])
            elif segment != parts[index]:
                return None
        return parameters if len(parts) == len(self.segments) else None


@dataclass(frozen=True)
class _RouteMatch:
    route: ApiRoute
    parameters: dict[str, str]


class LocalGateway:
    """Dispatches HTTP requests to the template's API function as API Gateway's REST proxy integration does."""

    def __init__(
        self,
        description: TemplateDescription,
        bridge: LambdaBridge,
        issuer: LocalIssuer,
        *,
        users: LocalUserPools | None = None,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
        domain_name: str = "127.0.0.1:3000",
        clock: Callable[[], float] = time.time,
        seal: LocalSeal | None = None,
    ) -> None:
        if description.api is None:
            raise ValueError(f"{description.template_path} has no API to serve")
        self._api = description.api
        self._routes = [_CompiledRoute.of(route) for route in description.routes]
        self._bridge = bridge
        self._issuer = issuer
        self._users = users
        self._region = region
        self._account_id = account_id
        self._domain_name = domain_name
        self._clock = clock
        default_4xx = self._api.gateway_responses.get("DEFAULT_4XX")
        # The headers of the replies this emulation makes itself: the template's, for its 4XX replies.
        self._4xx_headers: dict[str, str] = dict(default_4xx.headers) if default_4xx is not None else {}
        self._own_headers = {
            name: value for name, value in self._4xx_headers.items() if not name.lower().startswith("access-control-")
        }
        self._local_routes: dict[tuple[str, str], Callable[[bytes | None], Response]] = {
            ("POST", "/local/token"): self._token,
            ("GET", "/local/people"): self._people,
            ("GET", "/local/outbox"): self._outbox,
        }
        if seal is not None:
            self._local_routes[("POST", TIMESTAMP_PATH)] = functools.partial(_timestamp, seal)
            self._local_routes[("GET", CA_PATH)] = functools.partial(_seal_authority, seal)
        self._static_segments = {
            segment
            for path in [
                *(compiled.segments for compiled in self._routes),
                *(_split_path(p) for _, p in self._local_routes),
            ]
            for segment in path
            if not segment.startswith("{")
        }

    @property
    def stage(self) -> str:
        """The API stage the events carry (the template's ``StageName``)."""
        return self._api.stage_name

    def admit(self, headers: Headers, port: int) -> int | Response:
        """How many bytes of body to read for a request served on ``127.0.0.1:port`` with ``headers``, or the refusal
        to send without reading any: a foreign or missing ``Host`` (421/400), a ``Content-Length`` that is no number
        of bytes (400) or over API Gateway's quota (413), a chunked body (411). See the module's doc."""
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        refusal = self._misdirected(_values(pairs, "Host"), port)
        return refusal if refusal is not None else self._body_length(pairs)

    def _misdirected(self, hosts: list[str], port: int) -> Response | None:
        local = [f"{host}:{port}" for host in LOCAL_HOSTS]
        if len(hosts) != 1:
            return self._refused(400, "malformed_request", "a request names its host once", "Host", f"one of {local}")
        if hosts[0].lower() not in local:
            reason = f"must be one of {local}"
            return self._refused(
                421, "misdirected_request", "this server answers for the local runtime only", "Host", reason
            )
        return None

    def _body_length(self, headers: list[tuple[str, str]]) -> int | Response:
        if _values(headers, "Transfer-Encoding"):
            reason = "send the body with its Content-Length"
            return self._refused(
                411, "length_required", "a body in chunks is not accepted", "Transfer-Encoding", reason
            )
        lengths = set(_values(headers, "Content-Length"))
        if not lengths:
            return 0
        length = lengths.pop()
        if lengths or _DIGITS.fullmatch(length) is None:
            reason = "must be the number of bytes of the body, once"
            return self._refused(
                400, "malformed_request", "the Content-Length is not a length", "Content-Length", reason
            )
        significant = length.lstrip("0") or "0"  # (int() refuses more than 4,300 digits)
        if len(significant) > len(str(MAX_PAYLOAD_BYTES)) or int(significant) > MAX_PAYLOAD_BYTES:
            reason = f"at most {MAX_PAYLOAD_BYTES} bytes (API Gateway's quota)"
            return self._refused(413, "payload_too_large", "the body is too large", "body", reason)
        return int(significant)

    def _refused(self, status: int, code: str, message: str, field: str, reason: str) -> Response:
        error = _json_error(status, code, message, details=[{"field": field, "reason": reason}])
        return _with_headers(error, self._4xx_headers)

    def loggable(self, method: str, path: str, query: str) -> str:
        """``path?query`` as a log may print it: the template of the route it reaches (``/v1/handoff/{code}``), or
        for no route the path with every segment the API does not name replaced; each query parameter's name (when it
        is a name) with its value replaced. Path parameters and query values are what callers typed: codes, reasons,
        references."""
        found = self._find_route(method.upper(), path)
        if isinstance(found, _RouteMatch):
            shape = found.route.path
        else:
            parts = _split_path(path)
            shape = "/" + "/".join(part if part in self._static_segments else "{?}" for part in parts)
        if not query:
            return shape
        names = [name if _QUERY_NAME.fullmatch(name) else "{?}" for name, _ in parse_qsl(query, keep_blank_values=True)]
        return f"{shape}?" + "&".join(f"{name}={REDACTED}" for name in names) if names else f"{shape}?{REDACTED}"

    def dispatch(
        self,
        method: str,
        path: str,
        query: str,
        headers: Headers,
        body: bytes | None,
        *,
        source_ip: str = "127.0.0.1",
    ) -> Response:
        """Answer one request: ``(status, headers, body)``."""
        method = method.upper()
        local_route = self._local_routes.get((method, path))
        if local_route is not None:
            return _with_headers(local_route(body), self._own_headers)
        header_pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        if method == "OPTIONS" and self._api.cors is not None:
            return self._preflight(path)
        found = self._find_route(method, path)
        if not isinstance(found, _RouteMatch):
            return _with_headers(found, self._4xx_headers)
        route, path_parameters = found.route, found.parameters
        claims: dict[str, str] | None = None
        if route.requires_auth:
            try:
                claims = authorizer_claims(self._issuer.verify(_bearer_token(header_pairs)))
            except InvalidToken as exc:
                logger.info("%s %s refused: %s", method, route.path, exc)
                return self._gateway_response("UNAUTHORIZED")
        event = self._event(route, method, path, query, header_pairs, body, path_parameters, claims, source_ip)
        try:
            result = self._bridge.invoke_function(route.function_id, event)
        except Exception:  # a failing function is a 502 for the caller, as on AWS
            logger.exception("%s raised while handling %s %s", route.function_id, method, route.path)
            return self._gateway_response("DEFAULT_5XX")
        return self._proxy_response(route, result)

    def _preflight(self, path: str) -> Response:
        """A CORS preflight, answered as SAM's ``Cors`` makes API Gateway answer it (a mock integration, no auth)."""
        if not any(compiled.match(_split_path(path)) is not None for compiled in self._routes):
            return _with_headers(_json_error(404, "not_found", f"no route for OPTIONS {path}"), self._4xx_headers)
        cors = self._api.cors or {}
        headers = {
            "Access-Control-Allow-Origin": cors.get("AllowOrigin", "*"),
            "Access-Control-Allow-Methods": cors.get("AllowMethods", "*"),
            "Access-Control-Allow-Headers": cors.get("AllowHeaders", "*"),
        }
        if "MaxAge" in cors:
            headers["Access-Control-Max-Age"] = cors["MaxAge"]
        return _with_headers((200, headers, b""), self._own_headers)

    # -- routing
    def _find_route(self, method: str, path: str) -> _RouteMatch | Response:
        """The route for ``method path`` and its parameters, or a 404/405 answer.

        As in API Gateway, the most specific resource is chosen first (static segments win over parameters), then
        the method on it (an exact method wins over ANY).
        """
        parts = _split_path(path)
        matches = [(compiled, params) for compiled in self._routes if (params := compiled.match(parts)) is not None]
        if not matches:
            return _json_error(404, "not_found", f"no route for {method} {path}")
        best_rank = min(compiled.rank for compiled, _ in matches)
        resource = [(compiled, params) for compiled, params in matches if compiled.rank == best_rank]
        allowed = [(compiled, params) for compiled, params in resource if compiled.route.method in (method, "ANY")]
        if not allowed:
            methods = ", ".join(sorted({compiled.route.method for compiled, _ in resource}))
            return _json_error(405, "method_not_allowed", f"{method} is not allowed on {path}", {"Allow": methods})
        compiled, params = min(allowed, key=lambda item: item[0].route.method == "ANY")
        return _RouteMatch(compiled.route, params)

    # -- proxy event and response
    def _event(
        self,
        route: ApiRoute,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        path_parameters: dict[str, str],
        claims: dict[str, str] | None,
        source_ip: str,
    ) -> dict[str, Any]:
        single_headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            single_headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        single_query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            single_query[name] = value
            multi_query.setdefault(name, []).append(value)
        text_body, is_base64 = _event_body(body)
        now = self._clock()
        user_agent = next((value for name, value in headers if name.lower() == "user-agent"), None)
        domain_name = next((value for name, value in headers if name.lower() == "host"), self._domain_name)
        request_context: dict[str, Any] = {
            "resourceId": hashlib.sha1(route.path.encode(), usedforsecurity=False).hexdigest()[:6],
            "resourcePath": route.path,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": datetime.fromtimestamp(now, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{self.stage}{path}",
            "accountId": self._account_id,
            "protocol": "HTTP/1.1",
            "stage": self.stage,
            "domainPrefix": domain_name.split(".")[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": domain_name,
            "apiId": API_ID,
        }
        if claims is not None:
            request_context["authorizer"] = {"claims": claims}
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": single_headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": single_query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": text_body,
            "isBase64Encoded": is_base64,
        }

    def _proxy_response(self, route: ApiRoute, result: Any) -> Response:
        if not isinstance(result, Mapping) or "statusCode" not in result:
            logger.error("%s returned a malformed proxy response: %r", route.function_id, result)
            return self._gateway_response("DEFAULT_5XX")
        try:
            status = int(result["statusCode"])
            headers = {str(name): str(value) for name, value in (result.get("headers") or {}).items()}
            # API Gateway merges multiValueHeaders into headers; multiValueHeaders win for a name set in both.
            for name, values in (result.get("multiValueHeaders") or {}).items():
                headers[str(name)] = ", ".join(str(value) for value in values)
            raw_body = result.get("body")
            if raw_body is None:
                body = b""
            elif result.get("isBase64Encoded"):
                body = base64.b64decode(str(raw_body), validate=True)
            else:
                body = str(raw_body).encode("utf-8")
        except (TypeError, ValueError, AttributeError, binascii.Error):
            logger.exception("%s returned a malformed proxy response", route.function_id)
            return self._gateway_response("DEFAULT_5XX")
        return status, headers, body

    def _gateway_response(self, response_type: str) -> Response:
        """A gateway response as the template customises it (DEFAULT_4XX/5XX apply to types it does not name)."""
        default_status, default_message = _DEFAULT_GATEWAY_MESSAGES[response_type]
        family = "DEFAULT_4XX" if default_status < 500 else "DEFAULT_5XX"
        custom: GatewayResponse | None = self._api.gateway_responses.get(response_type)
        custom = custom or self._api.gateway_responses.get(family)
        status = custom.status_code if custom is not None and custom.status_code is not None else default_status
        if custom is not None and custom.body is not None:
            body = custom.body.encode("utf-8")
        else:
            body = json.dumps({"message": default_message}).encode("utf-8")
        headers = {"Content-Type": _JSON, "x-amzn-RequestId": str(uuid.uuid4())}
        if response_type in _ERROR_TYPES:
            headers["x-amzn-ErrorType"] = _ERROR_TYPES[response_type]
        if custom is not None:
            headers.update(custom.headers)
        return status, headers, body

    # -- local-only routes
    def _token(self, body: bytes | None) -> Response:
        try:
            request = json.loads(body or b"")
        except (ValueError, UnicodeDecodeError):
            return _json_error(400, "malformed_request", "the body must be a JSON object")
        if not isinstance(request, dict):
            return _json_error(400, "malformed_request", "the body must be a JSON object")
        problems: list[dict[str, str]] = []
        role: Any = request.get("role")
        if role not in ROLES:
            problems.append({"field": "role", "reason": f"must be one of {', '.join(ROLES)}"})
        sub = request.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            problems.append({"field": "sub", "reason": "must be a non-empty string"})
            sub = ""
        elif role == "citizen":
            nrn = _normalized_nrn(sub)
            if nrn is None:
                problems.append({"field": "sub", "reason": "a citizen's sub must be a valid national register number"})
            sub = nrn or ""
        client = request.get("client")
        if client not in self._issuer.client_ids:
            problems.append({"field": "client", "reason": f"must be one of {', '.join(self._issuer.client_ids)}"})
        departments = request.get("departments", [])
        if not isinstance(departments, list) or not all(isinstance(d, str) and d and "," not in d for d in departments):
            problems.append({"field": "departments", "reason": "must be a list of department names (no commas)"})
        email_address = request.get("email")
        if email_address is not None and (not isinstance(email_address, str) or "@" not in email_address):
            problems.append({"field": "email", "reason": "must be an email address"})
        if problems:
            fields = ", ".join(problem["field"] for problem in problems)
            return _json_error(422, "validation_failed", f"invalid token request: {fields}", details=problems)
        if role == "citizen" and email_address is None:
            email_address = _registered_email(sub)
        if self._users is not None:  # an agent's token signs the agent in: the directory then knows them
            self._users.sign_in(role, sub.strip(), str(client), departments)
        token = self._issuer.mint(role, sub.strip(), str(client), departments, email=email_address)
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self._issuer.expires_in(str(client))}
        return _json(200, answer)

    def _people(self, _body: bytes | None) -> Response:
        try:
            from omnicity.adapters.registries.national import get_national_register
        except ImportError as exc:
            return _json_error(503, "unavailable", f"the simulated national register cannot be loaded: {exc}")
        return _json(200, [person.model_dump(mode="json") for person in get_national_register().people()])

    def _outbox(self, _body: bytes | None) -> Response:
        return _json(200, outbox(self._account_id, self._region))


def _timestamp(seal: LocalSeal, body: bytes | None) -> Response:
    """RFC 3161 over HTTP: a DER TimeStampReq in, a DER TimeStampResp out (granted, or rejected with why)."""
    return 200, {"Content-Type": "application/timestamp-reply"}, seal.timestamps.respond(body or b"")


def _seal_authority(seal: LocalSeal, _body: bytes | None) -> Response:
    """The local seal's and timestamps' only trust root, for a validator's --trust."""
    return 200, {"Content-Type": "application/x-pem-file"}, seal.ca_pem


def outbox(account_id: str = ACCOUNT_ID, region: str = REGION) -> list[dict[str, Any]]:
    """The emails SES (moto) accepted in ``region``, oldest first: ``{"to", "from", "subject", "body"}``."""
    from moto.ses.models import RawMessage, TemplateMessage, ses_backends

    messages: list[dict[str, Any]] = []
    for message in list(ses_backends[account_id][region].sent_messages):
        if isinstance(message, RawMessage):
            messages.append(_raw_message(message.source, message.destinations, message.raw_data))
        elif isinstance(message, TemplateMessage):
            messages.append(
                {
                    "to": _addresses(message.destinations),
                    "from": message.source,
                    "subject": None,
                    "body": message.template_data,
                    "template": message.template,
                }
            )
        else:
            messages.append(
                {
                    "to": _addresses(message.destinations),
                    "from": message.source,
                    "subject": message.subject,
                    "body": message.body,
                }
            )
    return messages


def _addresses(destinations: Any) -> list[str]:
    if isinstance(destinations, Mapping):
        return [str(a) for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key) or []]
    if isinstance(destinations, Iterable) and not isinstance(destinations, str):
        return [str(address) for address in destinations]
    return []


def _raw_message(source: str | None, destinations: Iterable[str], raw_data: str) -> dict[str, Any]:
    parsed = email.message_from_string(raw_data, policy=email.policy.default)
    text_part = parsed.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    return {
        "to": list(destinations),
        "from": source or parsed.get("From"),
        "subject": parsed.get("Subject"),
        "body": text_part.get_content() if text_part is not None else None,
    }


def _normalized_nrn(value: str) -> str | None:
    """The 11 digits of a valid NRN (the layer's rule), or None."""
    from omnicity.domain.nrn import is_valid_nrn, normalize_nrn

    return normalize_nrn(value) if is_valid_nrn(value) else None


def _registered_email(nrn: str) -> str | None:
    """The email the simulated national register holds for ``nrn``, if the register and the person exist."""
    try:
        from omnicity.adapters.registries.national import get_national_register
    except ImportError:
        logger.warning("the simulated national register cannot be loaded: the token carries no email")
        return None
    person = get_national_register().find(nrn)
    return person.email if person is not None else None


def _bearer_token(headers: Iterable[tuple[str, str]]) -> str:
    value = next((value for name, value in headers if name.lower() == "authorization"), "").strip()
    scheme, _, rest = value.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else value
    if not token:
        raise InvalidToken("no token")
    return token


def _values(headers: Iterable[tuple[str, str]], header: str) -> list[str]:
    """The values of ``header`` (any case), stripped."""
    return [value.strip() for name, value in headers if name.lower() == header.lower()]


def _split_path(path: str) -> tuple[str, ...]:
    stripped = path.strip("/")
    return tuple(stripped.split("/")) if stripped else ()


def _event_body(body: bytes | None) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _with_headers(response: Response, headers: Mapping[str, str]) -> Response:
    """``response`` with ``headers`` added (its own win: a 405's ``Allow``, a preflight's CORS headers)."""
    status, own, body = response
    return status, {**headers, **own}, body


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    return status, {"Content-Type": _JSON, **(headers or {})}, json.dumps(payload).encode("utf-8")


def _json_error(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    details: list[dict[str, str]] | None = None,
) -> Response:
    return _json(status, {"error": {"code": code, "message": message, "details": details or []}}, headers)
