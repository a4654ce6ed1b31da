"""API Gateway's own answers (template.yaml's GatewayResponses), rendered the way API Gateway renders them: a body
template is no VTL, only variables substituted; ``$context.error.messageString`` is the message already quoted
(``"Missing Authentication Token"`` with its double quotes), ``$context.error.message`` the bare message. Each body
must then be JSON with the API's error shape, the codes and statuses of the API's own errors."""

from __future__ import annotations

import json
from typing import Final

import pytest

from infra.local.template import GatewayResponse, describe
from omnicity.application.views import ErrorResponse
from omnicity.domain.errors import ForbiddenError, NotFoundError, OmnicityError, PayloadTooLargeError, UnauthorizedError
from omnicity.http.edge import SECURITY_HEADERS
from tests.conftest import TEMPLATE

DESCRIPTION: Final = describe(TEMPLATE)
assert DESCRIPTION.api is not None
RESPONSES: Final[dict[str, GatewayResponse]] = dict(DESCRIPTION.api.gateway_responses)

# API Gateway's default message for each type (what $context.error.message holds); hostile-looking ones included:
# whatever it says, the body stays one JSON document.
MESSAGES: Final = {
    "UNAUTHORIZED": "Unauthorized",
    "ACCESS_DENIED": "User is not authorized to access this resource",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "THROTTLED": "Too Many Requests",
    "WAF_FILTERED": "Forbidden",
    "REQUEST_TOO_LARGE": "Request Too Long",
    "DEFAULT_4XX": 'Invalid "request" \\ body',
    "DEFAULT_5XX": "Internal server error",
}


def render(template: str, response_type: str, message: str) -> str:
    """Substitute the variables as API Gateway does: messageString first, it starts with the name of the other."""
    rendered = (
        template.replace("$context.error.messageString", json.dumps(message))
        .replace("$context.error.message", message)
        .replace("$context.error.responseType", response_type)
    )
    assert "$context" not in rendered, f"a variable this test does not model: {rendered}"
    assert "$stageVariables" not in rendered, f"a variable this test does not model: {rendered}"
    return rendered


def test_each_message_variable_of_the_bodies_is_one_this_test_renders() -> None:
    # Given every body template; Then each uses the quoted form of the message, if any (the bare one would need quotes
    # that a message holding a quote breaks)
    for response_type, response in RESPONSES.items():
        assert response.body is not None, response_type
        assert "$context.error.message" not in response.body.replace("$context.error.messageString", ""), response_type


@pytest.mark.parametrize("response_type", sorted(RESPONSES))
def test_each_body_renders_as_json_with_the_apis_error_shape(response_type: str) -> None:
    # Given a gateway response's body template and API Gateway's message for it
    body = RESPONSES[response_type].body
    assert body is not None
    message = MESSAGES.get(response_type, "Some API Gateway message")
    # When API Gateway renders it
    rendered = render(body, response_type, message)
    # Then it is one JSON document of the API's error shape, with no detail
    reply = ErrorResponse.model_validate(json.loads(rendered))
    assert reply.error.details == []
    if "$context.error.messageString" in body:
        assert reply.error.message == message


def test_default_4xx_passes_api_gateways_message_on() -> None:
    # Given a 4xx API Gateway answers itself with a message of its own (one without its own response below)
    body = RESPONSES["DEFAULT_4XX"].body
    assert body is not None
    # When rendered with the message quoted as API Gateway quotes it
    rendered = json.loads(render(body, "BAD_REQUEST_PARAMETERS", "Missing Authentication Token"))
    # Then the caller reads the message itself, not a doubly-quoted one
    assert rendered["error"]["message"] == "Missing Authentication Token"


# The API's own error for what each response stands for: the same code and status as when a function answers.
SAME_AS: Final[dict[str, type[OmnicityError]]] = {
    "UNAUTHORIZED": UnauthorizedError,
    "ACCESS_DENIED": ForbiddenError,
    "WAF_FILTERED": ForbiddenError,
    "MISSING_AUTHENTICATION_TOKEN": NotFoundError,
    "REQUEST_TOO_LARGE": PayloadTooLargeError,
}


@pytest.mark.parametrize("response_type", sorted(SAME_AS))
def test_a_gateway_answer_has_the_code_and_status_of_the_apis_own_error(response_type: str) -> None:
    response = RESPONSES[response_type]
    assert response.body is not None
    error = SAME_AS[response_type]
    rendered = json.loads(render(response.body, response_type, MESSAGES[response_type]))
    assert (response.status_code, rendered["error"]["code"]) == (error.http_status, error.code)


def test_the_stage_throttle_is_a_429_a_client_may_retry() -> None:
    response = RESPONSES["THROTTLED"]
    assert response.body is not None
    rendered = json.loads(render(response.body, "THROTTLED", MESSAGES["THROTTLED"]))
    assert (response.status_code, rendered["error"]["code"]) == (429, "too_many_requests")


@pytest.mark.parametrize("response_type", sorted(RESPONSES))
def test_each_gateway_answer_carries_the_security_headers_and_the_cors_origin(response_type: str) -> None:
    headers = RESPONSES[response_type].headers
    assert {name: headers.get(name) for name in SECURITY_HEADERS} == dict(SECURITY_HEADERS)
    assert headers.get("Access-Control-Allow-Origin") == DESCRIPTION.parameters["AllowedOrigin"]
