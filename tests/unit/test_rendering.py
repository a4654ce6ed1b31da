"""Document rendering: the wording of the residence certificate in fr/nl/en, the layout, and the failure modes."""

from __future__ import annotations

import copy
import io
import re
from datetime import date
from typing import Any
from xml.etree import ElementTree

import pypdf
import pytest
import segno

from omnicity.adapters.fonts import printable
from omnicity.adapters.rendering import (
    AUTHOR,
    MissingContextError,
    TemplateNotFoundError,
    format_date,
    render_document,
    render_markup,
)

TEMPLATE = "residence-certificate"


@pytest.fixture
def context() -> dict[str, Any]:
    # The exact shape the document step passes.
    return {
        "reference": "BXL-2026-000123",
        "document_id": "doc_01JDQ7ZK3M9W4T8XN2B6R5C0V1",
        "verification_url": "https://my.brussels.example/verify/doc_01JDQ7ZK3M9W4T8XN2B6R5C0V1",
        "issued_on": date(2026, 11, 29),
        "language": "fr",
        "city": {"fr": "Ville de Bruxelles", "nl": "Stad Brussel"},
        "person": {
            "first_name": "Amélie",
            "last_name": "Van den Broeck",
            "nrn": "85073003328",
            "birth_date": date(1985, 7, 30),
            "nationality": "BE",
            "address": {
                "street": "Rue de la Loi",
                "number": "16",
                "box": "3",
                "postal_code": "1000",
                "municipality_fr": "Bruxelles",
                "municipality_nl": "Brussel",
                "settled_on": date(2019, 3, 12),
            },
        },
    }


def pdf_text(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed (line wrapping is layout, not wording)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


EXPECTED = {
    "fr": {
        "title": "Certificat de résidence",
        "issued": "Bruxelles, le 29 novembre 2026",
        "settled": "12 mars 2019",
        "born": "30 juillet 1985",
        "municipality": "1000 Bruxelles",
        "box": "Rue de la Loi 16 boîte 3",
        "footer": "Délivré le 29 novembre 2026",
    },
    "nl": {
        "title": "Verblijfsattest",
        "issued": "Brussel, 29 november 2026",
        "settled": "12 maart 2019",
        "born": "30 juli 1985",
        "municipality": "1000 Brussel",
        "box": "Rue de la Loi 16 bus 3",
        "footer": "Afgegeven op 29 november 2026",
    },
    "en": {
        "title": "Certificate of residence",
        "issued": "Brussels, 29 November 2026",
        "settled": "12 March 2019",
        "born": "30 July 1985",
        "municipality": "1000 Bruxelles/Brussel",
        "box": "Rue de la Loi 16 box 3",
        "footer": "Issued on 29 November 2026",
    },
}

# A word that only the wrong language's date would bring in.
FOREIGN_MONTH = {"fr": "November", "nl": "novembre", "en": "novembre"}


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_residence_certificate_holds_the_wording_of_its_language(language: str, context: dict[str, Any]) -> None:
    # Given the context of a residence certificate
    context["language"] = language
    expected = EXPECTED[language]

    # When it is rendered in that language
    pdf = render_document(TEMPLATE, language, context)

    # Then it is a PDF whose text holds the person, the case and the dates written in that language
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Amélie Van den Broeck" in text
    assert "85.07.30-033.28" in text
    assert "BXL-2026-000123" in text
    assert "doc_01JDQ7ZK3M9W4T8XN2B6R5C0V1" in text
    assert "Ville de Bruxelles" in text
    assert "Stad Brussel" in text
    for key in ("title", "issued", "settled", "born", "municipality", "box", "footer"):
        assert expected[key] in text, key
    assert "1/1" in text
    assert FOREIGN_MONTH[language] not in text


def xmp(pdf: bytes) -> ElementTree.Element:
    """The document's XMP metadata packet, parsed."""
    catalog: Any = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    metadata = catalog["/Metadata"].get_object()
    return ElementTree.fromstring(metadata.get_data())  # noqa: S314 - our own renderer's output


NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_metadata_comes_from_the_document_not_the_clock(language: str, context: dict[str, Any]) -> None:
    # Given a certificate issued on 29 November 2026
    # When it is rendered
    root = xmp(render_document(TEMPLATE, language, context))

    # Then its XMP carries the localized title in its language, the city as author, the language, and the date of
    # issue as every date
    description = root.find("rdf:RDF/rdf:Description", NS)
    assert description is not None
    titles = {
        li.get("{http://www.w3.org/XML/1998/namespace}lang"): li.text
        for li in description.iterfind(".//dc:title//rdf:li", NS)
    }
    assert titles == {"x-default": EXPECTED[language]["title"], language: EXPECTED[language]["title"]}
    assert [li.text for li in description.iterfind(".//dc:creator//rdf:li", NS)] == [AUTHOR]
    assert [li.text for li in description.iterfind(".//dc:language//rdf:li", NS)] == [language]
    for attribute in ("CreateDate", "ModifyDate", "MetadataDate"):
        assert description.get(f"{{{NS['xmp']}}}{attribute}") == "2026-11-29T00:00:00+00:00"


def test_the_document_is_pdf_a_2b(context: dict[str, Any]) -> None:
    # Given a certificate
    pdf = render_document(TEMPLATE, "nl", context)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    catalog: Any = reader.trailer["/Root"]

    # Then its XMP identifies PDF/A-2, level B
    description = xmp(pdf).find("rdf:RDF/rdf:Description", NS)
    assert description is not None
    assert description.findtext("pdfaid:part", namespaces=NS) == "2"
    assert description.findtext("pdfaid:conformance", namespaces=NS) == "B"
    # and it declares its language and an sRGB output intent with the ICC profile embedded
    assert catalog["/Lang"] == "nl"
    [intent] = [item.get_object() for item in catalog["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/OutputConditionIdentifier"] == "sRGB"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    assert profile.get_data()[36:40] == b"acsp"  # an ICC profile's signature
    # and every font of every page is embedded (a TrueType program in its descriptor), none a core font
    fonts_seen = 0
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font = reference.get_object()
            assert font["/Subtype"] == "/Type0", font
            descendant = font["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
            assert font["/BaseFont"].split("+", 1)[1].startswith("FiraSans")
            fonts_seen += 1
    assert fonts_seen >= 2
    # and nothing that PDF/A forbids: no encryption, no JavaScript
    assert "/Encrypt" not in reader.trailer
    assert b"/JavaScript" not in pdf


def test_same_context_gives_identical_bytes(context: dict[str, Any]) -> None:
    # Given one context
    # When the certificate is rendered twice
    first = render_document(TEMPLATE, "fr", context)
    second = render_document(TEMPLATE, "fr", copy.deepcopy(context))

    # Then the two PDFs are byte for byte the same (file id included)
    assert first == second
    assert b"/ID [" in first


def test_another_reference_gives_another_file(context: dict[str, Any]) -> None:
    # Given two contexts that differ only in their reference
    other = copy.deepcopy(context)
    other["reference"] = "BXL-2026-000124"

    # When both are rendered
    # Then the outputs differ (the determinism above does not come from ignoring the input)
    assert render_document(TEMPLATE, "fr", context) != render_document(TEMPLATE, "fr", other)


def test_address_without_box_shows_no_box(context: dict[str, Any]) -> None:
    # Given an address without a box number
    context["person"]["address"]["box"] = None

    # When the certificate is rendered in each language
    for language in ("fr", "nl", "en"):
        text = pdf_text(render_document(TEMPLATE, language, context))

        # Then the address ends with the house number, and no "None" leaks onto the page
        assert "Rue de la Loi 16" in text
        assert EXPECTED[language]["box"] not in text
        assert "None" not in text


@pytest.mark.parametrize(
    ("first_name", "shown"),
    [
        ("Łukasz", "Łukasz"),
        ("Nguyễn", "Nguyễn"),
        ("Nguye\u0302\u0303n", "Nguyễn"),  # decomposed: composed before printing
        ("Ștefan Ţepeş", "Ștefan Ţepeş"),  # comma below and cedilla, each as written
        ("I\u015f\u0131l A\u011fao\u011flu", "I\u015f\u0131l A\u011fao\u011flu"),  # Turkish letters
        ("Cœur", "Cœur"),
        ("Zoë \U0001f642", "Zoë ?"),  # an emoji is outside the font: reduced, the render does not fail
    ],
)
def test_names_are_printed_exactly_and_only_what_the_font_lacks_is_reduced(
    first_name: str, shown: str, context: dict[str, Any]
) -> None:
    # Given a first name with letters beyond Windows-1252 (or beyond any Latin font)
    context["person"]["first_name"] = first_name

    # When the certificate is rendered
    pdf = render_document(TEMPLATE, "fr", context)

    # Then the name is printed letter for letter, and the rest of the document is there
    text = pdf_text(pdf)
    assert f"{shown} Van den Broeck" in text
    assert "85.07.30-033.28" in text
    assert "BXL-2026-000123" in text
    assert "Bruxelles, le 29 novembre 2026" in text


def test_unicode_in_the_layout_fields_does_not_break_the_render(context: dict[str, Any]) -> None:
    # Given text beyond the font in the fields that the header and footer draw
    context["city"]["nl"] = "Stad Brussel \u2014 \U0001f3db"
    context["reference"] = "BXL\u20112026\u2011000123"

    # When the certificate is rendered
    text = pdf_text(render_document(TEMPLATE, "nl", context))

    # Then the dash is printed, the emoji is reduced, and the non-breaking hyphens the font lacks print as hyphens
    assert "Stad Brussel \u2014 ?" in text
    assert "BXL-2026-000123" in text


def test_a_value_cannot_inject_markup(context: dict[str, Any]) -> None:
    # Given a last name that tries to start a title line of its own
    context["person"]["last_name"] = "Dupont\n# Faux titre"

    # When the certificate is rendered
    pdf = render_document(TEMPLATE, "fr", context)

    # Then the value stays inline and the document keeps its title
    titles = [li.text for li in xmp(pdf).iterfind(".//dc:title//rdf:li", NS)]
    assert titles == ["Certificat de résidence", "Certificat de résidence"]
    assert "Dupont # Faux titre" in pdf_text(pdf)


# Every character on which str.splitlines() breaks a line (the markup's lines once broke there too)
SEPARATORS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("separator", SEPARATORS, ids=lambda c: "+".join(f"U+{ord(x):04X}" for x in c))
def test_a_value_holding_any_line_separator_stays_one_inline_run(separator: str, context: dict[str, Any]) -> None:
    # Given a criminal record extract (596.2) whose purpose tries to add a second, false "Personne" section
    purpose = separator.join(["Animation", "## Personne", "- Nom: Dupont"])
    extract = {**context, "model": "596.2", "purpose": purpose, "entries": []}

    # When it is rendered
    text = pdf_text(render_document("criminal-record-extract", "fr", extract))

    # Then the purpose is printed inline, markup characters and all, and the document has its one "Personne" section
    assert "Activité visée Animation ## Personne - Nom: Dupont Extrait destiné" in text  # the row's label, its value
    assert text.count("Personne") == 2  # the false one, inline, and the document's own heading
    assert "Personne Nom Van den Broeck Prénom(s) Amélie" in text


def test_a_value_first_on_a_line_is_never_read_as_markup(context: dict[str, Any]) -> None:
    # Given a household certificate in Dutch, whose wording starts a line with the person's first name, and a first
    # name that would make that line a section heading, and a member's first name holding a row's ": "
    person = {**context["person"], "first_name": "## Valse sectie"}
    member = {"first_name": "Jan: ouder", "last_name": "Peeters", "relation": "child", "gender": "M"}
    household = {
        **context,
        "person": person,
        "members": [
            {**person, "relation": "reference_person", "gender": "F"},
            {**member, "birth_date": date(2010, 1, 2)},
        ],
    }

    # When it is rendered
    text = pdf_text(render_document("household-composition-certificate", "nl", household))

    # Then the name is printed as written, inside its paragraph, and the member's row keeps its whole name as label
    assert "gezin waarvan ## Valse sectie Van den Broeck (rijksregisternummer" in text
    assert "Jan: ouder Peeters zoon, geboren op 2 januari 2010" in text


@pytest.mark.parametrize("language", ["de", "FR", ""])
def test_unknown_language_is_refused(language: str, context: dict[str, Any]) -> None:
    # Given a language the city does not issue documents in
    # When a document is requested in it
    # Then the request is refused
    with pytest.raises(ValueError, match="language"):
        render_document(TEMPLATE, language, context)


@pytest.mark.parametrize("template_id", ["marriage-certificate-of-mars", "../templates/residence-certificate", ""])
def test_unknown_template_is_a_named_error(template_id: str, context: dict[str, Any]) -> None:
    # Given a template id the catalogue does not hold
    # When a document is requested for it
    # Then a TemplateNotFoundError (a LookupError) is raised
    with pytest.raises(TemplateNotFoundError):
        render_document(template_id, "fr", context)
    assert issubclass(TemplateNotFoundError, LookupError)


@pytest.mark.parametrize(
    ("path", "missing"),
    [(("person", "birth_date"), "birth_date"), (("person", "nrn"), "nrn"), (("person", "address", "box"), "box")],
)
def test_missing_template_key_fails_loudly(path: tuple[str, ...], missing: str, context: dict[str, Any]) -> None:
    # Given a context without one of the values the wording prints
    parent = context
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]

    # When the certificate is rendered
    # Then it fails, naming what is missing, instead of printing a blank
    with pytest.raises(MissingContextError, match=missing):
        render_document(TEMPLATE, "nl", context)


def test_missing_layout_key_fails_loudly(context: dict[str, Any]) -> None:
    # Given a context without the document id the footer prints
    del context["document_id"]

    # When the certificate is rendered
    # Then it fails instead of issuing a document that cannot be verified
    with pytest.raises(MissingContextError, match="document_id"):
        render_document(TEMPLATE, "en", context)


def test_long_documents_flow_onto_numbered_pages(context: dict[str, Any]) -> None:
    # Given a markup far longer than one page
    paragraphs = "\n\n".join(f"Paragraphe {n} " + "mot " * 60 + f"fin {n}." for n in range(40))
    markup = f"# Titre\n\n## Section\n- Nom: Dupont\n- Tout seul\n\n{paragraphs}\n\n> Note finale."

    # When it is laid out
    reader = pypdf.PdfReader(io.BytesIO(render_markup(markup, "fr", context)))

    # Then every page carries the header and its number, and no paragraph is lost
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    total = len(pages)
    assert total > 1
    for number, text in enumerate(pages, start=1):
        assert "Ville de Bruxelles" in text
        assert f"Page {number}/{total}" in text
    text = " ".join(pages)
    assert all(f"Paragraphe {n} " in text and f"fin {n}." in text for n in range(40))
    assert "Tout seul" in text
    assert "Note finale." in text


def test_a_word_wider_than_the_page_is_cut_not_lost(context: dict[str, Any]) -> None:
    # Given a paragraph made of one very long word
    word = "Y" * 300

    # When it is laid out
    text = pypdf.PdfReader(io.BytesIO(render_markup(word, "fr", context))).pages[0].extract_text()

    # Then all its letters are on the page, over several lines
    assert "".join(text.split()).count("Y") == 300
    assert len([line for line in text.splitlines() if line.strip().strip("Y") == ""]) > 1


@pytest.mark.parametrize(
    ("value", "language", "written"),
    [
        (date(2026, 11, 29), "fr", "29 novembre 2026"),
        (date(2026, 11, 29), "nl", "29 november 2026"),
        (date(2026, 11, 29), "en", "29 November 2026"),
        (date(2026, 8, 1), "fr", "1er août 2026"),
        (date(2026, 8, 1), "nl", "1 augustus 2026"),
        (date(2027, 2, 1), "en", "1 February 2027"),
    ],
)
def test_dates_are_written_the_way_each_language_writes_them(value: date, language: str, written: str) -> None:
    # Given a date and a language
    # When it is formatted
    # Then it reads as that language writes dates, without relying on the OS locale
    assert format_date(value, language) == written


def test_date_filter_refuses_what_is_not_a_date() -> None:
    # Given a date passed as a string
    # When it is formatted
    # Then the mistake surfaces
    with pytest.raises(TypeError):
        format_date("2026-11-29", "fr")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "printed"),
    [
        ("Amélie Ørsted", "Amélie Ørsted"),
        ("Łódź", "Łódź"),
        ("Ştefan", "Ştefan"),
        ("Hồ Chí Minh", "Hồ Chí Minh"),
        ("l\u2019intéressé(e) \u2013 5\u00a0\u20ac", "l\u2019intéressé(e) \u2013 5\u00a0\u20ac"),
        ("e\u0301", "é"),
        ("\ufb01n", "fin"),  # a ligature the font lacks: its compatibility form
        ("\uff21BC", "ABC"),  # a full-width letter
        ("5\u202f€", "5\u00a0€"),  # French narrow no-break space
        ("Иван", "????"),  # another script: outside the documents' repertoire
        ("\U0001f44d\U0001f3fd", "??"),
        ("a\u034fb", "ab"),  # a combining grapheme joiner the font lacks
    ],
)
def test_text_is_printed_as_written_where_the_font_has_it(raw: str, printed: str) -> None:
    # Given text with characters inside and outside the documents' font
    # When it is made printable
    result = printable(raw)

    # Then every character of the font is kept, composed; the rest is reduced, never dropped silently as a whole
    assert result == printed


def test_the_footer_prints_the_verification_code_and_its_page_as_text_and_qr_code(context: dict[str, Any]) -> None:
    # Given a certificate and the portal's verification page of its code
    url = context["verification_url"]

    # When it is rendered
    pdf = render_document(TEMPLATE, "en", context)
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    content = page.get_contents()
    assert content is not None

    # Then the code and the page are printed as text, for whoever types them
    text = " ".join(page.extract_text().split())
    assert "Verification code: doc_01JDQ7ZK3M9W4T8XN2B6R5C0V1" in text
    assert f"Verify this document: {url}" in text

    # and the QR code drawn in the footer, module by module, is the QR code of that page (medium error correction)
    expected = [[bool(module) for module in row] for row in segno.make_qr(url, error="m").matrix_iter(border=2)]
    assert _drawn_qr(content.get_data().decode("latin-1"), len(expected)) == expected


def _drawn_qr(content: str, modules: int) -> list[list[bool]]:
    """The dark modules of the footer's QR code, read back from the page's filled rectangles (in points)."""
    rectangles = [
        tuple(map(float, found)) for found in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (-?[\d.]+) re f", content)
    ]
    size = 17.0 * 72 / 25.4
    # the white square the code is drawn on: the one rectangle of exactly the code's size
    [(left, top, _, _)] = [r for r in rectangles if abs(r[2] - size) < 0.02 and abs(r[3] + size) < 0.02]
    step = size / modules
    grid = [[False] * modules for _ in range(modules)]
    for x, y, width, height in rectangles:
        if not (left - 0.01 <= x < left + size and top - size < y <= top + 0.01) or abs(width - size) < 0.02:
            continue
        row = round((top - y) / step)
        first, count = round((x - left) / step), round(width / step)
        assert abs(height + step) < 0.02, "one module high"
        for column in range(first, first + count):
            grid[row][column] = True
    return grid
