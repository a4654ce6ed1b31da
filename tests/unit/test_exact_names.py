"""Names exactly as the register holds them: every document of the catalogue, rendered for the register's people whose
names need more than Windows-1252 (Polish, Romanian, Turkish, Vietnamese), read back with pypdf and, where poppler's
tools are installed (``make test`` installs them where it can), with ``pdftotext`` and ``pdffonts``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from omnicity.adapters import fonts
from omnicity.adapters.registries import get_registers
from omnicity.adapters.registries.national import get_national_register
from omnicity.adapters.rendering import render_document
from omnicity.catalogue import get_catalogue
from omnicity.catalogue.document_contexts import build_context
from omnicity.domain.models import CaseStatus, Language
from tests.fakes import make_case
from tests.pdfs import needs_poppler, poppler_fonts, poppler_text, pypdf_text

LUKASZ, IOANA, AYSEGUL, VIET = "88062113756", "91020524674", "83113031820", "79081542168"
# The letters each name is there for: if the register's spelling changed, the test would no longer test them.
NEEDS = {LUKASZ: "łśź", IOANA: "șță", AYSEGUL: "ğış", VIET: "ễốệ"}
DOCUMENT_ID = "doc-0a1b2c3d4e5f60718293"

# A valid form per procedure; the civil status extract is of the couple's marriage act (2019/M/00731).
FORMS: dict[str, dict[str, Any]] = {
    "residence-certificate": {"purpose": "administration"},
    "residence-history-certificate": {"purpose": "housing"},
    "household-composition-certificate": {"purpose": "family_allowances"},
    "life-certificate": {"purpose": "pension"},
    "nationality-certificate": {"purpose": "administration"},
    "criminal-record-extract": {"model": "595", "purpose": "Dossier de Łukasz / Ayşegül"},
    "civil-status-extract": {"act_type": "marriage", "act_number": "2019/M/00731"},
    "street-artist-permit": {
        "artist_name": "Ștefan & Nguyễn duo",
        "discipline": "living_statue",
        "amplified": False,
        "start_date": "2027-01-05",
        "end_date": "2027-12-31",
        "zones": ["mont_des_arts"],
    },
    "greening-request": {
        "kind": "tree_pit",
        "address": {"street": "Rue Haute", "number": "182", "box": "2", "postal_code": "1000"},
        "description": "Kwiaty przy drzewie: żółte i białe.",
        "owner_consent": True,
    },
}
# Only the persons of the act may have its extract; the city certifies Belgian nationality only (Ayşegül and Việt are
# Belgians born in Turkey and in Vietnam; Łukasz and Ioana are Polish and Romanian).
PARTIES = {"civil-status-extract": {LUKASZ, IOANA}, "nationality-certificate": {AYSEGUL, VIET}}


def _cases() -> list[tuple[str, str]]:
    procedures = [procedure.id for procedure in get_catalogue().all() if procedure.document is not None]
    assert set(procedures) == set(FORMS), "a procedure issues a document: give it a form here"
    return [
        (procedure_id, nrn)
        for procedure_id in sorted(procedures)
        for nrn in NEEDS
        if nrn in PARTIES.get(procedure_id, NEEDS)
    ]


def _render(procedure_id: str, nrn: str) -> bytes:
    person = get_national_register().find(nrn)
    assert person is not None
    language = person.preferred_language
    case = make_case(
        procedure_id,
        form=FORMS[procedure_id],
        status=CaseStatus.IN_PROGRESS,
        nrn=nrn,
        language=Language(language),
        reference="BXL-2026-000777",
    )
    procedure = get_catalogue().get(procedure_id)
    assert procedure.document is not None
    context = build_context(
        procedure,
        case,
        get_registers(),
        document_id=DOCUMENT_ID,
        issued_on=date(2026, 12, 4),
        verification_url=f"https://my.brussels.example/verify/{DOCUMENT_ID}",
    )
    return render_document(procedure.document.template, language, context)


def test_the_register_holds_people_whose_names_need_each_script() -> None:
    register = get_national_register()
    for nrn, letters in NEEDS.items():
        person = register.find(nrn)
        assert person is not None, nrn
        name = f"{person.first_name} {person.last_name}".lower()
        assert set(letters) <= set(name), (nrn, letters)
        # and the font prints every character of it as it is
        assert fonts.printable(name) == name


@pytest.mark.parametrize(("procedure_id", "nrn"), _cases())
def test_every_document_prints_the_name_exactly_as_registered(procedure_id: str, nrn: str) -> None:
    # Given a person of the register whose name needs Latin Extended or Vietnamese letters
    person = get_national_register().find(nrn)
    assert person is not None

    # When the procedure's document is rendered for them
    pdf = _render(procedure_id, nrn)

    # Then pypdf reads the first and last names back, letter for letter
    text = pypdf_text(pdf)
    assert person.first_name in text
    assert person.last_name in text
    # and nothing on the page was reduced to "?" (the forms above hold Polish, Romanian and Vietnamese text too)
    assert "?" not in text


@needs_poppler
@pytest.mark.parametrize("nrn", list(NEEDS))
def test_poppler_reads_the_name_and_finds_every_font_embedded(nrn: str) -> None:
    # Given a residence certificate of each of those people
    person = get_national_register().find(nrn)
    assert person is not None
    pdf = _render("residence-certificate", nrn)

    # When poppler reads it
    text, fonts_listed = poppler_text(pdf), poppler_fonts(pdf)

    # Then the exact name is in its text, and every font is embedded, subset, with a Unicode map
    assert person.first_name in text
    assert person.last_name in text
    assert fonts_listed
    assert all(flags == ("yes", "yes", "yes") for flags in fonts_listed), fonts_listed
