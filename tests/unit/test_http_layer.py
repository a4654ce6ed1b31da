"""omnicity.http: the security headers put on a Lambda proxy reply, and a body's size as API Gateway hands it over."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from omnicity.errors import PayloadTooLargeError
from omnicity.http import MAX_BODY_BYTES, PAGE_CSP, SECURITY_HEADERS, body_size, check_body_size, secure


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
