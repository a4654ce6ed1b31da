"""Each function starts with only the environment template.yaml gives it (not the union the local runtime shares):
a setting a function validates at cold start but the template forgot fails here, not on the first deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.template import describe
from tests.conftest import ROOT, TEMPLATE

FUNCTIONS = describe(TEMPLATE).functions

IMPORT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("handler_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(getattr(module, sys.argv[2]))
"""


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_the_function_starts_with_its_own_environment_only(logical_id: str) -> None:
    spec = FUNCTIONS[logical_id]
    source = Path(spec.code_dir) / f"{spec.handler.split('.')[0]}.py"
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **spec.environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", IMPORT, str(source), spec.handler.split(".")[1]],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
