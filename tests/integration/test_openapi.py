"""The committed OpenAPI document, the API's code and template.yaml's routes describe the same API."""

from __future__ import annotations

import json
import os
import re
from unittest import mock

from infra.local.template import ApiRoute, describe
from infra.openapi import OPENAPI_FILE, generate, render
from tests.conftest import TEMPLATE


def test_the_committed_openapi_document_is_what_the_code_generates() -> None:
    # Given the API's routes and models as they are now
    with mock.patch.dict(os.environ):
        generated = render(generate())
    # Then openapi.json is up to date (run `make openapi` after changing a route or a model)
    assert OPENAPI_FILE.read_text(encoding="utf-8") == generated


def api_routes() -> list[ApiRoute]:
    """The API function's routes (the Open311 function's follow the GeoReport spec, not this document)."""
    return [route for route in describe(TEMPLATE).routes if route.function_id == "ApiFunction"]


def test_every_route_of_the_template_is_documented_and_the_reverse() -> None:
    # Given the routes API Gateway will have, and the paths the document describes
    documented = {
        (path, method.upper())
        for path, operations in json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))["paths"].items()
        for method in operations
    }
    deployed = {(route.path, route.method.upper()) for route in api_routes() if route.path != "/swagger"}
    # Then they are the same set: no route the code serves is missing from API Gateway, and none is undocumented
    assert deployed == documented


def test_protected_routes_say_so_in_the_document() -> None:
    # Given the routes the template puts behind the authorizer
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    for route in api_routes():
        if route.path == "/swagger":
            continue
        operation = document["paths"][route.path][route.method.lower()]
        # Then exactly those declare the bearer security scheme
        assert ("security" in operation) == route.requires_auth, route.path
        assert re.fullmatch(r"/v1/[a-z0-9/{}_-]+", route.path)
