"""Write (or check) the committed OpenAPI document, generated from the API function's routes and models.

``python -m infra.openapi`` rewrites ``openapi.json``; ``python -m infra.openapi --check`` exits 1 when the committed
file differs from what the code generates (a test runs the same comparison).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

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
    document: dict[str, Any] = json.loads(module.app.get_openapi_json_schema(**module.OPENAPI))
    return document


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
