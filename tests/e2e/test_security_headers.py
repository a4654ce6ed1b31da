"""Every answer carries the security headers: the functions' (through omnicity.http.edge), API Gateway's own (through
template.yaml's GatewayResponses) and the local gateway's (read from the template). test_access_control.py checks them
on every route for every caller; here, each kind of answer once, named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pytest

from infra.local.runtime import LocalRuntime
from omnicity.http.edge import PAGE_CSP, SECURITY_HEADERS
from tests.conftest import ELISE, Api, Reply, is_not_found

EXPECTED: Final = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
FORM: Final = "application/x-www-form-urlencoded"


def header(reply: Reply, name: str) -> str | None:
    return next((value for key, value in reply.headers.items() if key.lower() == name.lower()), None)


@pytest.fixture(scope="module")
def elise(api: Api) -> str:
    return api.token(ELISE)


def test_the_layer_has_the_headers_the_city_asked_for() -> None:
    assert dict(SECURITY_HEADERS) == EXPECTED


@pytest.mark.parametrize("response_type", ["UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"])
def test_api_gateways_own_answers_carry_the_same_headers(runtime: LocalRuntime, response_type: str) -> None:
    # Given the answers API Gateway makes itself (no function runs), as template.yaml customises them
    assert runtime.description.api is not None
    response = runtime.description.api.gateway_responses[response_type]
    # Then each carries exactly the layer's headers (and the CORS origin)
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response_type, name, response.headers)


Request = Callable[[Api, str], Reply]
KINDS: Final[dict[str, tuple[Request, int, str]]] = {
    # name: (the request, its status, its content type)
    "200 (function)": (lambda api, token: api.request("GET", "/v1/cases", token=token), 200, "application/json"),
    "201 (function)": (
        lambda api, token: api.request("POST", "/v1/uploads", token=token, body={"content_type": "image/png"}),
        201,
        "application/json",
    ),
    "400 (function)": (
        lambda api, token: api.request("POST", "/v1/cases", token=token, raw=b"{"),
        400,
        "application/json",
    ),
    "401 (authorizer)": (lambda api, _: api.request("GET", "/v1/cases", token="not-a-jwt"), 401, "application/json"),
    "403 (function)": (
        lambda api, token: api.request("GET", "/v1/agent/tasks", token=token, query="department=population"),
        403,
        "application/json",
    ),
    "404 (function)": (
        lambda api, token: api.request("GET", "/v1/cases/00000000-0000-0000-0000-000000000000", token=token),
        404,
        "application/json",
    ),
    "404 (gateway: no route)": (lambda api, _: api.request("GET", "/v1/nowhere"), 404, "application/json"),
    "405 (gateway)": (lambda api, _: api.request("DELETE", "/v1/cases"), 405, "application/json"),
    "413 (function)": (
        lambda api, token: api.request("POST", "/v1/cases", token=token, raw=b" " * (64 * 1024 + 1)),
        413,
        "application/json",
    ),
    "422 (function)": (
        lambda api, token: api.request("GET", "/v1/cases", token=token, query="limit=0"),
        422,
        "application/json",
    ),
    "Open311 XML 200": (
        lambda api, _: api.request("GET", "/open311/v2/services.xml"),
        200,
        "text/xml; charset=utf-8",
    ),
    "Open311 XML 404": (
        lambda api, _: api.request("GET", "/open311/v2/requests/BXL-2099-999999.xml"),
        404,
        "text/xml; charset=utf-8",
    ),
    "Open311 JSON 403": (
        lambda api, _: api.request(
            "POST", "/open311/v2/requests.json", raw=b"service_code=litter", headers={"Content-Type": FORM}
        ),
        403,
        "application/json; charset=utf-8",
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_answer_carries_the_security_headers(api: Api, elise: str, kind: str) -> None:
    # When the API answers this kind of request
    request, status, content_type = KINDS[kind]
    reply = request(api, elise)
    # Then the answer is what it is, with every security header
    assert reply.status == status, reply.body
    if status == 404 and "(gateway: no route)" not in kind:
        # a function's own 404 (a mistyped path would be the gateway's, whose headers are tried on their own)
        assert is_not_found(reply)
    assert header(reply, "Content-Type") == content_type
    for name, value in EXPECTED.items():
        assert header(reply, name) == value, (kind, name, dict(reply.headers))


def test_a_cors_preflight_carries_them_too(api: Api) -> None:
    reply = api.request("OPTIONS", "/v1/cases", headers={"Origin": "https://portal.example"})
    assert reply.status == 200
    assert header(reply, "Access-Control-Allow-Methods")
    for name, value in EXPECTED.items():
        assert header(reply, name) == value, name


def test_a_crashing_function_gets_the_templates_5xx_with_them(
    api: Api, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a function that crashes (API Gateway answers its DEFAULT_5XX gateway response)
    def crash(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime.bridge, "invoke_function", crash)
    # When it is called
    reply = api.request("GET", "/v1/procedures")
    # Then the answer is the template's, with the headers
    assert reply.status == 502
    assert reply.json["error"]["code"] == "unavailable"
    for name, value in EXPECTED.items():
        assert header(reply, name) == value, name


def test_the_swagger_page_runs_only_its_own_inline_script_and_style(api: Api) -> None:
    # When a browser opens Swagger UI (HTML: its script and style are inline in the page)
    reply = api.request("GET", "/swagger")
    # Then its policy lets exactly those run, loads nothing from elsewhere, and is framed nowhere
    assert reply.status == 200
    assert header(reply, "Content-Type") == "text/html"
    assert header(reply, "Content-Security-Policy") == PAGE_CSP
    assert PAGE_CSP.startswith("default-src 'none';")
    assert "frame-ancestors 'none'" in PAGE_CSP
    assert "http" not in PAGE_CSP  # no other origin
    for name, value in EXPECTED.items():
        if name != "Content-Security-Policy":
            assert header(reply, name) == value, name
