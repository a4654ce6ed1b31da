"""The register's people whose names need Latin Extended or Vietnamese letters ask for a residence certificate end
to end (API -> state machine -> steps -> S3): the stored PDF carries their exact name, read back by pypdf and, where
poppler is installed, by ``pdftotext``; every font is embedded; the digest the city publishes is that of the file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from omnicity.adapters.registries.national import get_national_register
from tests.conftest import Api, stored_pdf
from tests.pdfs import HAS_POPPLER, poppler_fonts, poppler_text, pypdf_text

NEW_PEOPLE = {
    "88062113756": "Łukasz Jarosław Wiśniewski-Źdźbło",
    "91020524674": "Ioana Ștefania Țăranu",
    "83113031820": "Ayşegül Y\u0131ld\u0131r\u0131mo\u011flu",  # Turkish dotless i
    "79081542168": "Hoàng Quốc Việt Nguyễn",
}


def _issued_pdf(api: Api, s3: Any, nrn: str) -> tuple[bytes, str]:
    token = api.token(nrn)
    reply = api.submit(token, language="fr", form={"purpose": "administration"}, procedure_id="residence-certificate")
    assert reply.status == 201, reply.body
    assert api.wait(reply.json["case_id"])["status"] == "SUCCEEDED"
    case = api.case(reply.json["case_id"], token)
    [document] = case["documents"]
    link = api.request("GET", f"/v1/cases/{case['case_id']}/documents/{document['document_id']}", token=token)
    assert link.status == 200, link.body
    return stored_pdf(s3, case["case_id"], document["document_id"]), document["document_id"]


@pytest.mark.parametrize("nrn", list(NEW_PEOPLE))
def test_a_residence_certificate_carries_the_exact_registered_name(api: Api, s3: Any, nrn: str, tmp_path: Path) -> None:
    # Given a person of the register whose name is beyond Windows-1252
    person = get_national_register().find(nrn)
    assert person is not None
    assert f"{person.first_name} {person.last_name}" == NEW_PEOPLE[nrn]

    # When they ask for a residence certificate on the portal and it is issued
    pdf, document_id = _issued_pdf(api, s3, nrn)

    # Then pypdf reads their first and last names, letter for letter
    text = pypdf_text(pdf)
    assert person.first_name in text
    assert person.last_name in text
    # and the city publishes the digest of exactly these bytes
    verification = api.request("GET", f"/v1/documents/{document_id}")
    assert verification.status == 200
    assert verification.json["sha256"] == hashlib.sha256(pdf).hexdigest()

    # and poppler agrees: the name in its text, every font embedded, subset, with a Unicode map
    if not HAS_POPPLER:
        pytest.skip("poppler-utils (pdftotext, pdffonts) not installed")
    text = poppler_text(pdf)
    assert person.first_name in text
    assert person.last_name in text
    fonts_listed = poppler_fonts(pdf)
    assert fonts_listed
    assert all(flags == ("yes", "yes", "yes") for flags in fonts_listed), fonts_listed
