"""The city's seal end to end, as `make run` serves it and as a third party checks it: a residence certificate issued
through the API, downloaded from its presigned URL, validated with pyHanko's API and its command line against the CA
of ``GET /local/seal/ca.pem`` alone; then with one byte changed inside the signed range, reported tampered."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from infra.local.runtime import LocalRuntime
from omnicity.adapters.cases import CaseRepository
from omnicity.catalogue import retention_days_of
from tests.conftest import ELISE, Api
from tests.integration.test_log_redaction import HttpApi
from tests.seals import CLI_VALID, SignedRange, flipped, tamperings, validate, validate_with_cli

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(served: LocalRuntime) -> Api:
    """The portal's client over real HTTP: the documents are sealed with timestamps asked through the HTTP front."""
    return HttpApi(served)


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as reply:
        content: bytes = reply.read()
    return content


@pytest.fixture(scope="module")
def certificate(api: Api, served: LocalRuntime) -> dict[str, Any]:
    """Élise's residence certificate as she downloads it, with the digest her case holds."""
    token = api.token(ELISE)
    created = api.submit(token, language="fr", form={"purpose": "housing"})
    assert created.status == 201, created.body
    case_id = created.json["case_id"]
    assert api.wait(case_id)["status"] == "SUCCEEDED"
    [document] = api.case(case_id, token)["documents"]
    link = api.request("GET", f"/v1/cases/{case_id}/documents/{document['document_id']}", token=token)
    assert link.status == 200, link.body
    pdf = http_get(link.json["url"])
    stored = CaseRepository(served.description.tables["CasesTable"].name, retention=retention_days_of).get(case_id)
    return {"pdf": pdf, "sha256": stored.documents[0].sha256}


@pytest.fixture(scope="module")
def ca_pem(served: LocalRuntime) -> bytes:
    """The only trust root: what a developer fetches from the running platform."""
    return http_get(f"{served.api_url}/local/seal/ca.pem")


def test_the_downloaded_certificate_is_the_one_whose_digest_the_case_holds(certificate: dict[str, Any]) -> None:
    assert certificate["pdf"].startswith(b"%PDF-")
    assert hashlib.sha256(certificate["pdf"]).hexdigest() == certificate["sha256"]


def test_the_certificate_carries_the_citys_seal_intact_trusted_and_timestamped(
    certificate: dict[str, Any], ca_pem: bytes, tmp_path: Path
) -> None:
    # When a third party validates the downloaded certificate with pyHanko's API, the local CA its only trust root
    status = validate(certificate["pdf"], ca_pem)
    # Then the seal is intact and trusted, covers the whole file, and carries a trusted timestamp
    assert (status.intact, status.valid, status.trusted, status.bottom_line) == (True, True, True, True)
    assert status.timestamp_validity is not None
    assert (status.timestamp_validity.intact, status.timestamp_validity.trusted) == (True, True)
    # And `pyhanko sign validate --trust ca.pem --trust-replace` says the same
    checked = validate_with_cli(certificate["pdf"], ca_pem, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip().endswith(CLI_VALID), checked.stdout


@pytest.mark.parametrize("where", ["header comment", "page content", "signing time"])
def test_one_byte_changed_in_the_signed_range_is_reported_tampered(
    certificate: dict[str, Any], ca_pem: bytes, tmp_path: Path, where: str
) -> None:
    # Given the certificate with one byte changed inside the signed range (the file still reads as a PDF)
    offset = tamperings(certificate["pdf"])[where]
    tampered = flipped(certificate["pdf"], offset)
    assert offset in SignedRange.of(tampered)
    assert len(PdfFileReader(io.BytesIO(tampered)).embedded_signatures) == 1
    # When it is validated / Then the signature is found, and judged not intact: the document was changed
    status = validate(tampered, ca_pem)
    assert status.intact is False
    assert status.bottom_line is False
    # And the command line reports it invalid, its integrity check failed (not a file it could not read)
    checked = validate_with_cli(tampered, ca_pem, tmp_path, pretty=True)
    assert checked.returncode != 0
    assert "The signature is cryptographically unsound." in checked.stdout, checked.stdout + checked.stderr
