"""Write (or check) the committed OpenAPI document, generated from the API function's routes and models.

``python -m infra.openapi`` rewrites ``openapi.json``; ``python -m infra.openapi --check`` exits 1 when the committed
file differs from what the code generates (a test runs the same comparison). ``make lint`` then holds the file to
Redocly's ``recommended`` rules and a few more (redocly.yaml).

Everything the document says comes from the API module: its routes' declarations, its ``OPENAPI`` description and
``OPENAPI_SERVERS``. Two things Powertools cannot be told are settled here, in :func:`complete`, never by editing the
file.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Route

from infra.local.bridge import LambdaBridge
from infra.local.template import describe, merged_environment

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_FILE = ROOT / "openapi.json"


def generate(template_path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    """The API's OpenAPI document. Loading the API module needs its settings: the template's local values."""
    description = describe(template_path)
    for name, value in merged_environment(description).items():
        os.environ.setdefault(name, value)
    handler = LambdaBridge(description.functions.values()).handler("ApiFunction")
    module = sys.modules[handler.__module__]
    app = module.app
    document: dict[str, Any] = json.loads(app.get_openapi_json_schema(**module.OPENAPI, servers=module.OPENAPI_SERVERS))
    # the resolver's routes, as its own get_openapi_schema reads them (Powertools has no public accessor)
    complete(document, [*app._static_routes, *app._dynamic_routes])
    return document


SCHEMA_REF = "#/components/schemas/"


def complete(document: dict[str, Any], routes: Iterable[Route]) -> None:
    """What Powertools (3.37) cannot say, said in place:

    - a route declared public (``security=[]``) gets ``security: []``: Powertools writes a route's security only
      when the list is not empty, and an operation without one reads as if its author forgot (an operation whose
      route declares nothing keeps saying nothing, and Redocly's ``security-defined`` fails it);
    - a component schema that nothing refers to is dropped: with validation on, Powertools adds its own error
      schemas (``HTTPValidationError`` and its ``ValidationError``, ``ResponseValidationError``) to every document,
      even when every route documents its 422 with another model, as this API's do (``ErrorResponse``).
    """
    for route in routes:
        if route.include_in_schema and route.security == []:
            document["paths"][route.openapi_path][route.method.lower()]["security"] = []
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    rest = {**document, "components": {**document.get("components", {}), "schemas": {}}}
    used: set[str] = set()
    pending = list(_schema_refs(rest))
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending.extend(_schema_refs(schemas.get(name)))
    for name in schemas.keys() - used:
        del schemas[name]


def _schema_refs(node: Any) -> Iterator[str]:
    """The names of the component schemas ``node`` refers to, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF):
                yield value.removeprefix(SCHEMA_REF)
            else:
                yield from _schema_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_refs(item)


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render(generate())
    if "--check" in argv:
        if not OPENAPI_FILE.exists() or OPENAPI_FILE.read_text(encoding="utf-8") != text:
            print("openapi.json is out of date: run `make openapi` and commit it", file=sys.stderr)
            return 1
        return 0
    OPENAPI_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
