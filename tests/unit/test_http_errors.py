"""omnicity.http.errors: one installer makes every error of a resolver's requests a reply in the function's format,
with Retry-After when the error says when to try again; a failure of ours is logged, a bug is never dressed up as
the client's mistake. (The end-to-end tests send the real requests: test_hostile_input, test_fuzz_openapi,
test_open311, test_abuse_controls.)"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel

from omnicity.domain.errors import OmnicityError, TooManyRequestsError, TransientError
from omnicity.http.edge import parse_json_object
from omnicity.http.errors import Body, install_error_handlers, json_error


class Item(BaseModel):
    name: str


def listed_error(error: OmnicityError) -> Response[Any]:
    """Another function's format (as Open311 writes its errors: a list)."""
    body = json.dumps([{"code": error.http_status, "description": error.message}])
    return Response(status_code=error.http_status, content_type="application/json", body=body)


def resolver(body: Body) -> APIGatewayRestResolver:
    """A resolver as the API (JSON, validated) or Open311 (form) builds it, with one route that does what the test
    says."""
    if body == "json":
        app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_object)
        install_error_handlers(app, json_error, no_route="no such route", body="json")
    else:
        app = APIGatewayRestResolver()
        install_error_handlers(app, listed_error, no_route="no such resource", body="form")

    @app.post("/fail")
    def fail() -> dict[str, Any]:
        failure = app.current_event.get_query_string_value("with")
        if failure == "throttle":
            raise TooManyRequestsError("too many: try again in 30 s", retry_after_seconds=30)
        if failure == "transient":
            raise TransientError("DynamoDB throttled")
        if failure == "bug":
            raise ValueError("a bug of ours")
        return {"read": app.current_event.decoded_body}

    @app.post("/items")
    def add_item(item: Item) -> Item:
        return item

    return app


def event(path: str, *, query: str | None = None, body: bytes = b"", content_type: str = "application/json") -> Any:
    headers = {"Content-Type": content_type}
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {"with": query} if query else None,
        "multiValueQueryStringParameters": {"with": [query]} if query else None,
        "pathParameters": None,
        "requestContext": {"stage": "test", "path": f"/test{path}", "httpMethod": "POST", "identity": {}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def reply(app: APIGatewayRestResolver, proxy_event: dict[str, Any]) -> tuple[int, dict[str, list[str]], Any]:
    answer = app.resolve(proxy_event, None)  # type: ignore[arg-type]
    return answer["statusCode"], answer["multiValueHeaders"], json.loads(answer["body"])


@pytest.mark.parametrize("body", ["json", "form"])
def test_an_error_that_says_when_to_try_again_has_retry_after_in_the_functions_format(body: Body) -> None:
    status, headers, written = reply(resolver(body), event("/fail", query="throttle"))
    assert status == 429
    assert headers["Retry-After"] == ["30"]
    if body == "json":
        assert written["error"]["code"] == "too_many_requests"
    else:
        assert written == [{"code": 429, "description": "too many: try again in 30 s"}]


@pytest.mark.parametrize(
    ("body", "message"), [("json", "no such route"), ("form", "no such resource")], ids=["json", "form"]
)
def test_a_path_no_route_serves_is_a_404_saying_so_without_retry_after(body: Body, message: str) -> None:
    status, headers, written = reply(resolver(body), event("/nowhere"))
    assert status == 404
    assert "Retry-After" not in headers
    assert message in json.dumps(written)


def test_a_body_that_is_not_utf8_is_a_400_in_each_functions_words() -> None:
    # Given a JSON body and a form body that are latin-1, not UTF-8
    latin1 = "description=Mérode".encode("latin-1")
    # Then the API names the body as not JSON; the form-reading function says it is not UTF-8 text
    status, _, written = reply(resolver("json"), event("/fail", body=b'{"a": "M\xe9rode"}'))
    assert (status, written["error"]["message"]) == (400, "the body is not valid JSON")
    assert written["error"]["details"] == [{"field": "body", "reason": "not UTF-8 text"}]
    form = event("/fail", body=latin1, content_type="application/x-www-form-urlencoded")
    status, _, written = reply(resolver("form"), form)
    assert (status, written) == (400, [{"code": 400, "description": "the body is not UTF-8 text"}])


@pytest.mark.parametrize("body", ["json", "form"])
def test_a_failure_of_ours_is_logged_and_a_clients_mistake_is_not(body: Body, caplog: pytest.LogCaptureFixture) -> None:
    app = resolver(body)
    assert reply(app, event("/fail", query="throttle"))[0] == 429
    assert caplog.records == []
    assert reply(app, event("/fail", query="transient"))[0] == 503
    [logged] = caplog.records
    assert (logged.levelname, logged.getMessage()) == ("ERROR", "request failed")
    assert logged.__dict__["code"] == "unavailable"
    assert logged.exc_info is not None
    assert logged.exc_info[0] is TransientError


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("json", "application/json"),
        ("json", "multipart/form-data; boundary=x"),
        ("form", "multipart/form-data"),  # the 400 of a boundary missing is the validating resolver's only
    ],
)
def test_any_other_value_error_is_a_bug_raised_never_a_400(body: Body, content_type: str) -> None:
    app = resolver(body)
    multipart = b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'
    with pytest.raises(ValueError, match="a bug of ours"):
        app.resolve(event("/fail", query="bug", body=multipart, content_type=content_type), None)  # type: ignore[arg-type]


@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain"])
def test_a_body_the_api_does_not_read_as_json_is_a_400_naming_the_content_type(content_type: str) -> None:
    status, _, written = reply(resolver("json"), event("/items", body=b'{"name": "x"}', content_type=content_type))
    assert status == 400
    assert written["error"]["details"] == [{"field": "Content-Type", "reason": "must be application/json"}]


def test_an_input_its_model_refuses_is_a_422_naming_each_field_as_the_client_wrote_it() -> None:
    status, _, written = reply(resolver("json"), event("/items", body=b'{"name": 42}'))
    assert status == 422
    assert [detail["field"] for detail in written["error"]["details"]] == ["name"]
