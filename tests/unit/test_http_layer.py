"""omnicity.http.edge: the security headers put on a Lambda proxy reply, a body's size as API Gateway hands it over,
the 413 made before the resolver runs, and how a JSON body is read; omnicity.http.channels: the caller's channel is
their token's app client."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import CORSConfig
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from omnicity.config import ApiSettings
from omnicity.domain.errors import (
    ForbiddenError,
    MalformedRequestError,
    PayloadTooLargeError,
    UnauthorizedError,
    ValidationFailedError,
)
from omnicity.domain.models import Channel, Role
from omnicity.http.channels import client_channels, principal_of
from omnicity.http.edge import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    PAGE_CSP,
    SECURITY_HEADERS,
    body_size,
    check_body_size,
    parse_json_object,
    refuse_too_large,
    secure,
)


def test_a_resolver_reply_gets_them_in_its_multi_value_headers_replacing_its_own() -> None:
    # Given a reply as Powertools' REST resolver makes it, with a Cache-Control of its own (lower case)
    reply: dict[str, Any] = {
        "statusCode": 200,
        "multiValueHeaders": {"Content-Type": ["application/json"], "cache-control": ["max-age=600"]},
        "body": "{}",
    }
    # When it is secured
    secured = secure(reply)
    # Then each header is there once, with our value; the reply's other headers stay
    headers = secured["multiValueHeaders"]
    assert {name: values for name, values in headers.items() if name in SECURITY_HEADERS} == {
        name: [value] for name, value in SECURITY_HEADERS.items()
    }
    assert "cache-control" not in headers
    assert headers["Content-Type"] == ["application/json"]
    assert "headers" not in secured


@pytest.mark.parametrize("reply", [{"statusCode": 204}, {"statusCode": 204, "headers": None}])
def test_a_reply_without_headers_gets_them_as_single_value_headers(reply: dict[str, Any]) -> None:
    assert secure(reply)["headers"] == dict(SECURITY_HEADERS)


def test_an_html_page_gets_the_page_policy() -> None:
    secured = secure({"statusCode": 200, "headers": {"content-type": "text/html; charset=utf-8"}, "body": "<p>"})
    assert secured["headers"]["Content-Security-Policy"] == PAGE_CSP
    assert secured["headers"]["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("body", "base64_encoded", "size"),
    [
        (None, False, 0),
        ("", True, 0),
        ("abc", False, 3),
        ("é€", False, 5),  # bytes, not characters
        ("\ud800", False, 3),  # a lone surrogate (JSON can carry one) is counted, not an error
        (base64.b64encode(b"\xff" * 10).decode(), True, 10),  # with padding
        (base64.b64encode(b"\xff" * 12).decode(), True, 12),  # without
        (base64.b64encode(b"\xff" * 11).decode(), True, 11),
    ],
)
def test_the_body_size_is_its_bytes(body: str | None, base64_encoded: bool, size: int) -> None:
    assert body_size(body, base64_encoded=base64_encoded) == size


def test_a_body_over_the_limit_is_refused_naming_the_body() -> None:
    check_body_size(" " * MAX_BODY_BYTES, base64_encoded=False)  # at the limit: fine
    with pytest.raises(PayloadTooLargeError) as refused:
        check_body_size(" " * (MAX_BODY_BYTES + 1), base64_encoded=False)
    assert refused.value.http_status == 413
    assert refused.value.details == [
        {"field": "body", "reason": f"{MAX_BODY_BYTES + 1} bytes: at most {MAX_BODY_BYTES} bytes (64 KiB)"}
    ]


PORTAL = "https://portal.example"
CORS = CORSConfig(allow_origin=PORTAL, allow_headers=["Idempotency-Key"], max_age=600)


@pytest.mark.parametrize(
    ("body", "base64_encoded"),
    [
        (None, False),
        ("", False),
        (" " * MAX_BODY_BYTES, False),
        (base64.b64encode(b"\xff" * MAX_BODY_BYTES).decode(), True),
    ],
)
def test_a_body_within_the_limit_is_left_to_the_resolver(body: str | None, base64_encoded: bool) -> None:
    assert refuse_too_large({"body": body, "isBase64Encoded": base64_encoded, "headers": None}, CORS) is None


@pytest.mark.parametrize(("origin", "allowed"), [(PORTAL, PORTAL), ("https://elsewhere.example", None), (None, None)])
def test_a_body_over_it_is_a_413_the_portal_alone_may_read(origin: str | None, allowed: str | None) -> None:
    # Given an event with a body one byte over the limit, from the portal's page, another page, or no page
    headers = {"origin": origin} if origin else {}
    event = {"body": " " * (MAX_BODY_BYTES + 1), "isBase64Encoded": False, "headers": headers}
    # When the function looks at it before its resolver runs
    reply = refuse_too_large(event, CORS)
    # Then it is a JSON 413 naming the body, with the CORS headers for the portal's page only
    assert reply is not None
    assert (reply["statusCode"], reply["isBase64Encoded"]) == (413, False)
    error = json.loads(reply["body"])["error"]
    assert (error["code"], error["details"][0]["field"]) == ("payload_too_large", "body")
    assert reply["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert reply["multiValueHeaders"].get("Access-Control-Allow-Origin") == ([allowed] if allowed else None)


# The three settings the channels come from (the others are no concern of this test)
SETTINGS = ApiSettings.model_construct(
    portal_client_id="portal-client", kiosk_client_id="kiosk-client", counter_client_id="counter-client"
)


def proxy_event(claims: dict[str, Any] | None) -> APIGatewayProxyEvent:
    return APIGatewayProxyEvent({"requestContext": {"authorizer": {"claims": claims} if claims else None}})


def test_each_app_client_is_its_channel() -> None:
    assert dict(client_channels(SETTINGS)) == {
        "portal-client": Channel.PORTAL,
        "kiosk-client": Channel.KIOSK,
        "counter-client": Channel.COUNTER,
    }


def test_the_caller_is_on_the_channel_of_their_tokens_client() -> None:
    clients = client_channels(SETTINGS)
    agent = {"sub": "a-1", "aud": "counter-client", "cognito:groups": "agent", "custom:departments": "civil_status"}
    caller = principal_of(proxy_event(agent), clients)
    assert (caller.role, caller.channel) == (Role.AGENT, Channel.COUNTER)
    assert caller.departments == frozenset({"civil_status"})
    with pytest.raises(UnauthorizedError):
        principal_of(proxy_event(None), clients)  # no authorizer (a public route)
    with pytest.raises(UnauthorizedError):
        principal_of(proxy_event({**agent, "aud": "another-client"}), clients)
    with pytest.raises(ForbiddenError):
        principal_of(proxy_event({**agent, "aud": "portal-client"}), clients)  # an agent on the portal's client


def _body_problem(text: str) -> str:
    with pytest.raises(MalformedRequestError) as refused:
        parse_json_object(text)
    [detail] = refused.value.details
    assert detail["field"] == "body"
    return str(detail["reason"])


@pytest.mark.parametrize(
    "number",
    ["1" + "0" * 400, "-1" + "0" * 400, "1e400", "-1e400", "1E2", "0.5e-400", "-0", "-0.0", "5085e-2", "1" * 4300],
)
def test_every_number_form_json_has_is_read_as_written(number: str) -> None:
    # Given a body with a number JSON allows (however large: the fields refuse what they cannot hold)
    # When it is read / Then it is the number Python reads, never an error or a float the text did not say
    assert parse_json_object(f'{{"lat": {number}}}') == {
        "lat": int(number) if number.lstrip("-").isdigit() else float(number)
    }


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_numbers_json_has_not_are_a_400_naming_the_body(constant: str) -> None:
    # Given a body with a constant Python's parser takes but JSON does not have
    # When it is read / Then it is refused as not JSON
    assert f"{constant.lstrip('-')} is not a JSON number" in _body_problem(f'{{"lat": {constant}}}')


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100, 500, 900, 990, 5000])
@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ('{"a":', "}")], ids=["arrays", "objects"])
def test_a_body_nested_past_the_limit_is_a_400_whatever_its_depth(depth: int, open_: str, close: str) -> None:
    # Given a body nesting arrays or objects deeper than any request of the API (inside a field, as a form would)
    text = '{"form": {"purpose": ' + open_ * (depth - 2) + "1" + close * (depth - 2) + "}}"
    # When it is read / Then it is refused, saying how deep a body may go
    assert _body_problem(text) == f"nested too deeply (at most {MAX_JSON_DEPTH} levels)"


def test_a_body_as_deep_as_the_limit_is_read() -> None:
    # Given a body exactly as deep as allowed
    text = '{"a": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    # When it is read / Then it is the document
    assert isinstance(parse_json_object(text), dict)


@pytest.mark.parametrize("text", ["[]", "42", '"x"', "null"])
def test_a_body_that_is_no_object_is_a_422_naming_the_body(text: str) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        parse_json_object(text)
    assert refused.value.details == [{"field": "body", "reason": "must be a JSON object"}]
