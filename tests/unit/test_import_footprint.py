"""What a function loads at cold start: no function imports what it does not use (fpdf2 only where documents are
rendered; pyHanko nowhere, not even there: it is loaded with the first document sealed), no AWS client exists before
the first request, and no Tracer (with its X-Ray SDK) where nothing is traced.

Each check imports in a fresh interpreter (the imports are the point); bench/cold_start.py measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.local.template import describe, merged_environment
from omnicity.observability import Untraced

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"
RENDERS_DOCUMENTS = "RenderDocumentFunction"

# Imports every handler of the template (each under its own module name), the document renderer last, and prints
# what was loaded before and after it, and the botocore clients alive at the end.
_IMPORT_HANDLERS = """
import gc, importlib.util, json, sys
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
handlers = json.loads(sys.argv[1])
for name, path in handlers[:-1]:
    load(name, path)
before = sorted(sys.modules)
load(*handlers[-1])
clients = []
if "botocore.client" in sys.modules:
    from botocore.client import BaseClient
    clients = [type(o).__name__ for o in gc.get_objects() if isinstance(o, BaseClient)]
print(json.dumps({"before": before, "after": sorted(sys.modules), "clients": clients}))
"""

_IMPORT_OBSERVABILITY = """
import json, sys
from omnicity import observability
print(json.dumps({"tracer": type(observability.tracer).__name__, "xray": "aws_xray_sdk.core" in sys.modules}))
"""


def run_python(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{LAYER}{os.pathsep}{ROOT}", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def aws_environment() -> dict[str, str]:
    return {"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def handler_imports() -> dict[str, Any]:
    description = describe(ROOT / "template.yaml")
    functions = description.functions
    order = [logical_id for logical_id in functions if logical_id != RENDERS_DOCUMENTS] + [RENDERS_DOCUMENTS]
    handlers = [(f"handler_{logical_id}", str(functions[logical_id].source_file)) for logical_id in order]
    env = {**aws_environment(), **merged_environment(description)}
    return run_python(_IMPORT_HANDLERS, env, json.dumps(handlers))


def packages(modules: list[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_only_the_document_renderer_loads_fpdf2(handler_imports: dict[str, Any]) -> None:
    assert "fpdf" not in packages(handler_imports["before"])
    assert "fpdf" in packages(handler_imports["after"])


def test_no_function_loads_pyhanko_at_cold_start(handler_imports: dict[str, Any]) -> None:
    # Given every handler imported, the document renderer last: no function, the API and the renderer included, loads
    # pyHanko (nor its certificate validator, nor its ASN.1 library) before a document is sealed
    assert {"pyhanko", "pyhanko_certvalidator", "asn1crypto"} & packages(handler_imports["after"]) == set()


def test_no_function_creates_an_aws_client_at_import(handler_imports: dict[str, Any]) -> None:
    assert handler_imports["clients"] == []
    assert "boto3" not in packages(handler_imports["after"])  # omnicity.aws imports it with the first client


@pytest.mark.parametrize(
    ("env", "traced"),
    [
        ({}, False),  # tests, scripts, the local runtime
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),  # Lambda
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),  # sam local invoke
    ],
)
def test_a_tracer_is_built_only_where_powertools_traces(env: dict[str, str], traced: bool) -> None:
    loaded = run_python(_IMPORT_OBSERVABILITY, {**aws_environment(), **env})
    assert loaded == {"tracer": "Tracer" if traced else "Untraced", "xray": traced}


def test_untraced_decorators_return_the_function_itself() -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return event

    assert Untraced().capture_lambda_handler(handler) is handler
    assert Untraced().capture_method(handler) is handler
