"""The committed OpenAPI document, the API's code and template.yaml's routes describe the same API."""

from __future__ import annotations

import json
import os
import re
import tomllib
from typing import Any
from unittest import mock

from infra.local.template import ApiRoute, describe, load_template
from infra.openapi import OPENAPI_FILE, SCHEMA_REF, generate, render
from tests.conftest import ROOT, TEMPLATE


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


def committed_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_says_whether_it_is_public_as_the_template_does() -> None:
    # Given the routes the template puts behind the authorizer, and the others
    document = committed_document()
    for route in api_routes():
        if route.path == "/swagger":
            continue
        operation = document["paths"][route.path][route.method.lower()]
        # Then the protected ones require the bearer scheme, and the public ones say they require nothing (an
        # operation that says nothing reads as one whose author forgot)
        expected: list[dict[str, list[str]]] = [{"bearer": []}] if route.requires_auth else []
        assert operation.get("security") == expected, route.path
        assert re.fullmatch(r"/v1/[a-z0-9/{}_-]+", route.path)


def test_every_operation_is_described_under_a_tag_declared_with_its_own_description() -> None:
    # Given the committed document
    document = committed_document()
    declared = {tag["name"]: tag.get("description", "") for tag in document["tags"]}
    used: set[str] = set()
    for name, operation in operations(document):
        # Then every operation says more than its summary, under exactly one declared tag
        assert operation.get("description", "").strip(), name
        assert operation["description"] != operation["summary"], name
        [tag] = operation["tags"]
        assert tag in declared, name
        used.add(tag)
    # and every declared tag is described and groups at least one operation
    assert all(description.strip() for description in declared.values()), declared
    assert used == declared.keys()


def test_the_document_holds_no_schema_that_nothing_refers_to() -> None:
    # Given the committed document (Powertools adds its own validation-error schemas to every document it makes)
    document = committed_document()
    schemas = document["components"]["schemas"]

    def refs(node: Any) -> set[str]:
        found = re.findall(r'"\$ref": "' + re.escape(SCHEMA_REF) + r'([^"]+)"', json.dumps(node))
        return set(found)

    # When the schemas are followed from the paths, through the schemas they refer to
    reached: set[str] = set()
    pending = refs(document["paths"])
    while pending:
        name = pending.pop()
        reached.add(name)
        pending |= refs(schemas[name]) - reached
    # Then every schema is reached, and every one the API documents its errors with is there
    assert set(schemas) == reached
    assert "ErrorResponse" in reached


def test_the_document_names_the_project_licence_and_where_the_api_is_served() -> None:
    # Given the committed document, the project's metadata and the template
    document = committed_document()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    template = load_template(TEMPLATE)
    # Then the licence is the project's, by its SPDX identifier
    assert document["info"]["license"]["identifier"] == project["license"]["text"]
    # and the servers are the local runtime, then the stack's ApiUrl output with its parts as variables
    local, deployed = document["servers"]
    assert local["url"] == "http://127.0.0.1:3000"
    api_url = template["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    variables = {"${OmnicityApi}": "{api_id}", "${AWS::Region}": "{region}", "${Stage}": "{stage}"}
    for substituted, variable in variables.items():
        api_url = api_url.replace(substituted, variable)
    assert deployed["url"] == api_url
    assert deployed["variables"]["stage"]["enum"] == template["Parameters"]["Stage"]["AllowedValues"]
