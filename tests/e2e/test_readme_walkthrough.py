"""The documented curl walk-throughs (README.md and docs/), run as written against the local runtime over real HTTP.

Each block is found by what it holds (``tests.documentation.marked_block``), whichever page it lives in.
"""

from __future__ import annotations

import re
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.local.runtime import LocalRuntime
from tests.documentation import marked_block, run_block


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_certificate_walkthrough_works_verbatim(served: LocalRuntime, tmp_path: Path) -> None:
    # When the certificate block runs in a shell
    result = run_block(marked_block("walkthrough", "certificate"), served.api_url, tmp_path)
    # Then every step worked: a case, completed, a PDF downloaded, an email in Dutch
    assert result.returncode == 0, result.stdout + result.stderr
    assert "status: completed" in result.stdout
    assert (tmp_path / "verblijfsattest.pdf").read_bytes().startswith(b"%PDF-")
    assert "Verblijfsattest" in result.stdout.splitlines()[-1]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_alert_walkthrough_works_verbatim(served: LocalRuntime, tmp_path: Path) -> None:
    # When the alert block runs in a shell
    result = run_block(marked_block("walkthrough", "alert"), served.api_url, tmp_path)
    # Then the photo was uploaded and referenced, the field agent closed the alert, Pieter was told
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-3:-1] == ["completed", "fixed"]
    assert "afgesloten" in lines[-1]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_bulky_items_walkthrough_works_verbatim(served: LocalRuntime, tmp_path: Path) -> None:
    # When the bulky-items block (token -> slots -> book -> my case -> cancel) runs in a shell
    result = run_block(marked_block("walkthrough", "bulky_items"), served.api_url, tmp_path)
    # Then the first open day was booked (one place less), the case waited for the crew, the cancellation freed it
    assert result.returncode == 0, result.stdout + result.stderr
    first, booked, left, status, freed = result.stdout.splitlines()
    match = re.fullmatch(r"first open day: \d{4}-\d{2}-\d{2}, (\d+) places left", first)
    assert match, first
    assert re.fullmatch(r"BXL-\d{4}-\d{6}: waiting", booked), booked
    assert (int(left), status, int(freed)) == (int(match[1]) - 1, "cancelled", int(match[1]))


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_agents_day_walkthrough_works_verbatim(served: LocalRuntime, tmp_path: Path) -> None:
    # When the agent's day block (token -> queue with filters -> claim -> the case's file -> ask the citizen -> the
    # citizen answers -> complete -> revoke the extract) runs in a shell
    result = run_block(marked_block("walkthrough", "agents_day"), served.api_url, tmp_path)
    # Then the queue listed the task with its due date, the agent claimed it, read the file (the applicant's NRN),
    # asked Hugo (the task waited, he saw the question), he answered (the case went back to waiting for her), she
    # approved it, the extract was issued, and Hugo sees her read with its reason
    assert result.returncode == 0, result.stdout + result.stderr
    *queue, claimed, nrn, asked, question, answered, decided, case, access, revoked, verified = (
        result.stdout.splitlines()
    )
    assert (asked, question, answered) == ("waiting_citizen", "Pour quel usage demandez-vous cet extrait ?", "waiting")
    listed = re.compile(r"BXL-\d{4}-\d{6} due \d{4}-\d{2}-\d{2} (on time|overdue)")
    assert queue
    assert all(listed.fullmatch(line) for line in queue), queue
    assert (claimed, nrn, decided, case) == ("agent:agent-007", "72030324138", "completed", "case: completed")
    assert access == "agent-007 population record review"
    # And she revoked the extract with its reason; its code now says revoked, since a moment ago
    assert revoked == "Un emploi auprès de mineurs demande le modèle 596 : faites une nouvelle demande."
    status, since = verified.split(" ")
    assert status == "revoked"
    assert (
        timedelta(0) <= datetime.now(UTC) - datetime.fromisoformat(since.replace("Z", "+00:00")) < timedelta(minutes=2)
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_seal_walkthrough_works_verbatim(served: LocalRuntime, tmp_path: Path) -> None:
    # When the seal block (a certificate downloaded, its seal validated, one byte changed) runs in a shell, with the
    # pyhanko of this interpreter's environment (the block's default is the repository's .venv)
    pyhanko = str(Path(sys.executable).with_name("pyhanko"))
    result = run_block(marked_block("walkthrough", "seal"), served.api_url, tmp_path, {"PYHANKO": pyhanko})
    # Then the downloaded certificate's seal was intact and trusted, with a trusted timestamp; the changed one's not
    assert result.returncode == 0, result.stdout + result.stderr
    valid, changed, verdict = result.stdout.splitlines()
    assert re.fullmatch(r"CitySeal:[0-9a-f]{64}:INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED", valid), valid
    assert re.fullmatch(r"CitySeal:[0-9a-f]{64}:INVALID", changed), changed
    assert verdict == "changed.pdf: the seal does not hold"
