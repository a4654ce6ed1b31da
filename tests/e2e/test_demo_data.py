"""``make demo-data`` as the README tells a newcomer to run it: with the platform served as ``make run`` serves it, the
Makefile's own recipe, in a developer's shell, fills 2025, and the README's stats calls then answer the seed's figures
(150,000 products, 54 / 31 / 15 % on the portal, at kiosks and at counters)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from infra.local.runtime import LocalRuntime
from tests.conftest import ROOT

# What a developer's shell does not hold: the settings this test process's runtime exported, and a parent make's.
NOT_IN_A_SHELL = ("AWS_", "MOTO_", "MAKE", "MFLAGS", "PYTHONPATH")


def make_demo_data(served: LocalRuntime) -> subprocess.CompletedProcess[str]:
    """``make demo-data`` from the repository, the only change being the moto server's address (a free port here,
    5005 under ``make run``); the virtualenv is this test's interpreter's, taken as installed."""
    venv_bin = Path(sys.executable).parent
    environment = {name: value for name, value in os.environ.items() if not name.startswith(NOT_IN_A_SHELL)}
    command = [
        "make",
        "--no-print-directory",
        f"BIN={venv_bin}",
        "-o",
        f"{venv_bin}/.installed",
        "demo-data",
        f"ARGS=--endpoint-url {served.moto_url}",
    ]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False)


def http(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    """One call over HTTP, as the README's curl lines make it; the JSON answer (a non-2xx raises)."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


@pytest.mark.skipif(shutil.which("make") is None, reason="the test runs the Makefile's target")
def test_make_demo_data_fills_the_year_the_readme_shows(served: LocalRuntime) -> None:
    # Given the platform served as `make run` serves it, nothing delivered in 2025
    api = served.api_url
    identity = {"role": "agent", "sub": "agent-reporting-01", "client": "counter", "departments": ["reporting"]}
    reporting = http("POST", f"{api}/local/token", identity)["access_token"]
    year = f"{api}/v1/stats?from=2025-01-01&to=2025-12-31"
    assert http("GET", year, token=reporting)["total"] == 0
    # When `make demo-data` runs with no other argument than where the moto server listens
    result = make_demo_data(served)
    # Then it succeeded and said what it wrote
    assert result.returncode == 0, result.stdout + result.stderr
    assert "150000 products delivered in 2025" in result.stdout, result.stdout
    # And the README's call for the year answers the seed's figures: 150,000 products, 54 / 31 / 15 %, 85 % digital
    figures = http("GET", year, token=reporting)
    assert figures["total"] == 150_000
    assert figures["by_channel"] == {"portal": 81_000, "kiosk": 46_500, "counter": 22_500}
    assert figures["channel_shares"] == {"portal": 0.54, "kiosk": 0.31, "counter": 0.15}
    assert figures["digital_share"] == 0.85
    assert sum(figures["by_procedure"].values()) == 150_000
    # And its call for the summer finds August quieter than an average month
    summer = http("GET", f"{api}/v1/stats?from=2025-08-01&to=2025-08-31", token=reporting)
    assert 0 < summer["total"] < 150_000 / 12
