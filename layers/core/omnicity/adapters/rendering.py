"""Document rendering: jinja2 for the wording, fpdf2 for the layout.

A document template (``catalogue/templates/<template_id>.<language>.j2``) renders the *wording* of one document
in one language as a small line-based markup; this module lays that markup out on A4 pages with fpdf2, in Fira Sans
(``omnicity.adapters.fonts``), embedded and subset, as a PDF/A-2b file.

The markup, one instruction per line (leading spaces are ignored):

``@department <French> | <Dutch>``
    Second line of the header band: the French text on the left, the Dutch text on the right. Optional.
``# <text>``
    Document title, centred. The first one is also the PDF's metadata title.
``## <text>``
    Section heading.
``- <label>: <value>``
    A two-column row, split at the first ``": "``. Without ``": "`` the line is a bullet item.
``> <text>``
    Small print (a note). Consecutive note lines form one note.
``<text>``
    Paragraph text. Consecutive plain lines form one paragraph; words wrap to the page width.
(blank line)
    Ends the current paragraph or note and adds vertical space.

Jinja comments (``{# ... #}``) document a template without reaching the page. Every ``{{ expression }}`` is one
inline run whatever it holds (see ``_finalize``): its line breaks of every kind become spaces, and it is never read as
markup, even first on a line, so a value from the context can never make a title, a section, a row or a note.

The layout draws, on every page, a header band with the city's name in French and Dutch (``context["city"]``),
and a footer with the case reference, the date of issue, the page number, the document id as a verification code,
and the portal's verification page for it, as text and as a QR code (for a printed copy). Besides what its template
uses, the layout reads ``reference``, ``document_id``, ``verification_url``, ``issued_on`` and ``city.fr`` /
``city.nl`` from the context.

Jinja filters: ``date`` (``{{ d|date }}``: "29 novembre 2026", "29 november 2026", "29 November 2026", in the
language being rendered unless one is given, ``{{ d|date("nl") }}``) and ``nrn`` (``"85073003361"`` ->
``"85.07.30-033.61"``).

Every text is printed as :func:`omnicity.adapters.fonts.printable` gives it: composed (NFC), every character of the
font's repertoire (the Latin scripts, Vietnamese included) as it is, so a name is exactly the register's; only what
lies outside it (another script, an emoji) is reduced, so rendering never fails on a citizen's text.

PDF/A-2b (ISO 19005-2, level B): every font embedded, an sRGB output intent (fpdf2's ICC profile), XMP metadata
identifying the part and conformance with the title, the subject, the author and the language, and the catalogue's
``/Lang``. The output is deterministic: the creation date and every XMP date are the date of issue (midnight UTC),
fpdf2 derives the file identifier from the content and that date, and the font subsets are named and built the same
way each time, so the same context always gives the same bytes (the seal, added afterwards, is not).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape as xml_escape

import jinja2
from fpdf import FPDF
from fpdf.fonts import TTFFont

from omnicity.adapters import fonts
from omnicity.domain.models import Language
from omnicity.domain.nrn import format_nrn
from omnicity.domain.text import one_run

__all__ = [
    "LANGUAGES",
    "MissingContextError",
    "TemplateNotFoundError",
    "format_date",
    "render_document",
    "render_markup",
]

LANGUAGES: Final = tuple(language.value for language in Language)  # the city's languages (domain.models)
AUTHOR: Final = "Ville de Bruxelles - Stad Brussel"
CREATOR: Final = "omnicity"
PRODUCER: Final = "omnicity (fpdf2)"
TEMPLATES_DIR: Final = Path(__file__).resolve().parent.parent / "catalogue" / "templates"

_TEMPLATE_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")


class TemplateNotFoundError(LookupError):
    """No document template exists for this template id and language."""


class MissingContextError(LookupError):
    """The context lacks a value that the template or the layout needs."""


# --------------------------------------------------------------------------------------------------------------
# Wording: jinja2 environment and filters
# --------------------------------------------------------------------------------------------------------------

_MONTHS: Final[Mapping[str, tuple[str, ...]]] = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}, expected one of {', '.join(LANGUAGES)}")


def format_date(value: date, language: str) -> str:
    """Write a date the way the language does: "1er mars 2026", "1 maart 2026", "1 March 2026"."""
    _check_language(language)
    if not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    day = "1er" if language == "fr" and value.day == 1 else str(value.day)
    return f"{day} {_MONTHS[language][value.month - 1]} {value.year}"


def _defined(value: Any) -> Any:
    """A filter's input, or the UndefinedError that names the missing context value."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises here, with the name of what is missing
        raise jinja2.UndefinedError("a filter received an undefined value")
    return value


@jinja2.pass_context
def _date_filter(ctx: jinja2.runtime.Context, value: date, language: str | None = None) -> str:
    return format_date(_defined(value), language or ctx["language"])


def _nrn_filter(value: str) -> str:
    return format_nrn(_defined(value))


# A value printed by {{ }} is one inline run, whatever it holds: the characters omnicity.domain.text refuses in a
# person's text (line breaks of every kind, controls, invisible reordering) become spaces, and the value is fenced by
# two private-use characters that the markup parser reads as "inside a value". So a value never starts a markup line of
# its own ("# ", "## ", "- ", "> ", "@department "), never starts one where it stands first on a line, and never
# holds the ": " that splits a row or the "|" that splits the department line. The fences never reach the page.
_VALUE_OPEN: Final = "\ue000"
_VALUE_CLOSE: Final = "\ue001"
_FENCES: Final = re.compile("[\ue000\ue001]")


def _finalize(value: Any) -> str:
    return f"{_VALUE_OPEN}{_FENCES.sub('', one_run(str(value)))}{_VALUE_CLOSE}"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,  # noqa: S701 - the output is this module's line markup for a PDF, never HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        finalize=_finalize,
    )
    env.filters["date"] = _date_filter
    env.filters["nrn"] = _nrn_filter
    return env


def _wording(template_id: str, language: str, context: Mapping[str, Any]) -> str:
    if not _TEMPLATE_ID.fullmatch(template_id):
        raise TemplateNotFoundError(f"invalid template id {template_id!r}")
    name = f"{template_id}.{language}.j2"
    try:
        template = _environment().get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise TemplateNotFoundError(f"no document template {name}") from exc
    try:
        return template.render({**context, "language": language})
    except jinja2.UndefinedError as exc:
        raise MissingContextError(f"{name}: {exc.message}") from exc


# --------------------------------------------------------------------------------------------------------------
# Text: how wide it is in the embedded font (omnicity.adapters.fonts: what it can show)
# --------------------------------------------------------------------------------------------------------------

_MM_PER_PT: Final = 25.4 / 72


def _width(text: str, style: str, size: float) -> float:
    """Width in mm of printable text."""
    widths = fonts.glyph_widths(style)
    return sum(widths[char] for char in text) * size * _MM_PER_PT / 1000


def _wrap(text: str, style: str, size: float, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is cut where it overflows."""
    widths = fonts.glyph_widths(style)
    scale = size * _MM_PER_PT / 1000
    space = widths[" "] * scale
    lines: list[str] = []
    current: list[str] = []
    current_width = 0.0
    for word in text.split():
        word_width = sum(widths[char] for char in word) * scale
        if current and current_width + space + word_width <= max_width:
            current.append(word)
            current_width += space + word_width
            continue
        if current:
            lines.append(" ".join(current))
        rest = word
        while word_width > max_width and len(rest) > 1:
            cut, cut_width = 1, widths[rest[0]] * scale
            while cut < len(rest) and cut_width + widths[rest[cut]] * scale <= max_width:
                cut_width += widths[rest[cut]] * scale
                cut += 1
            lines.append(rest[:cut])
            rest = rest[cut:]
            word_width = sum(widths[char] for char in rest) * scale
        current, current_width = [rest], word_width
    if current:
        lines.append(" ".join(current))
    return lines


# --------------------------------------------------------------------------------------------------------------
# Markup: lines -> blocks
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    kind: str  # "title", "heading", "row", "bullet", "paragraph", "note", "space"
    text: str = ""
    label: str = ""


@dataclass(frozen=True, slots=True)
class _Markup:
    blocks: tuple[_Block, ...]
    department: tuple[str, str] | None
    title: str | None


def _plain(text: str) -> str:
    """Text of the markup as the page shows it: without the values' fences, in what the font can show."""
    return fonts.printable(_FENCES.sub("", text)).strip()


def _partition(line: str, separator: str) -> tuple[str, str, str]:
    """``str.partition`` at the first ``separator`` written by the template, never one inside a value."""
    depth = 0
    for index, char in enumerate(line):
        if char == _VALUE_OPEN:
            depth += 1
        elif char == _VALUE_CLOSE:
            depth -= 1
        elif depth == 0 and line.startswith(separator, index):
            return line[:index], separator, line[index + len(separator) :]
    return line, "", ""


def _line_block(line: str) -> _Block | None:
    """The block of a one-line instruction (title, heading, row, bullet); None for paragraph and note text."""
    if line.startswith("# "):
        return _Block("title", _plain(line[2:]))
    if line.startswith("## "):
        return _Block("heading", _plain(line[3:]))
    if line.startswith("- "):
        label, separator, value = _partition(line[2:], ": ")
        return _Block("row", _plain(value), _plain(label)) if separator else _Block("bullet", _plain(line[2:]))
    return None


def _parse(markup: str) -> _Markup:
    blocks: list[_Block] = []
    department: tuple[str, str] | None = None
    pending_kind = ""
    pending: list[str] = []

    def flush() -> None:
        nonlocal pending_kind
        if pending:
            blocks.append(_Block(pending_kind, " ".join(pending)))
            pending.clear()
        pending_kind = ""

    # Lines end at "\n" only (what jinja writes): never at a character of a value (see _finalize).
    for raw in markup.split("\n"):
        line = raw.strip()
        blank = not _plain(line)
        block = _line_block(line)
        if block is not None or blank or line.startswith("@department "):
            flush()
        if block is not None:
            blocks.append(block)
        elif blank:
            if blocks and blocks[-1].kind != "space":
                blocks.append(_Block("space"))
        elif line.startswith("@department "):
            french, _, dutch = _partition(line.removeprefix("@department "), "|")
            department = (_plain(french), _plain(dutch))
        else:
            kind, text = ("note", _plain(line[1:])) if line.startswith(">") else ("paragraph", _plain(line))
            if kind != pending_kind:
                flush()
                pending_kind = kind
            if text:
                pending.append(text)
    flush()
    while blocks and blocks[-1].kind == "space":
        blocks.pop()
    title = next((block.text for block in blocks if block.kind == "title"), None)
    return _Markup(tuple(blocks), department, title)


# --------------------------------------------------------------------------------------------------------------
# Layout: blocks -> positioned text, page by page -> PDF
# --------------------------------------------------------------------------------------------------------------

_PAGE_W: Final = 210.0
_PAGE_H: Final = 297.0
_LEFT: Final = 20.0
_RIGHT: Final = _PAGE_W - 20.0
_TEXT_W: Final = _RIGHT - _LEFT
_LABEL_W: Final = 58.0
_VALUE_X: Final = _LEFT + _LABEL_W + 4.0
_VALUE_W: Final = _RIGHT - _VALUE_X
_BAND_H: Final = 30.0
_BODY_TOP: Final = 42.0
_BODY_BOTTOM: Final = 268.0
_FOOTER_RULE: Final = 276.0

_NAVY: Final = (0, 51, 102)
_GOLD: Final = (214, 162, 36)
_INK: Final = (25, 25, 25)
_GREY: Final = (100, 100, 100)
_HAIRLINE: Final = (205, 205, 205)
_WHITE: Final = (255, 255, 255)

Rgb = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class _Text:
    x: float
    y: float  # baseline
    text: str
    style: str
    size: float
    color: Rgb


@dataclass(frozen=True, slots=True)
class _Rule:
    y: float
    color: Rgb
    x1: float = _LEFT
    x2: float = _RIGHT


# (style, size in pt, leading in mm, colour) per kind of line
_TITLE = ("B", 17.0, 8.0, _NAVY)
_HEADING = ("B", 11.5, 6.0, _NAVY)
_BODY = ("", 10.5, 5.2, _INK)
_LABEL = ("", 10.0, 5.0, _GREY)
_VALUE = ("B", 10.0, 5.0, _INK)
_NOTE = ("I", 8.5, 4.0, _GREY)

_BULLET_INDENT: Final = 5.0
_SPACE: Final = 3.5


class _Flow:
    """Places blocks top to bottom, starting a new page when the next one does not fit."""

    def __init__(self) -> None:
        self.pages: list[list[_Text | _Rule]] = [[]]
        self.top = _BODY_TOP

    def _lines(self, lines: list[str], x: float, spec: tuple[str, float, float, Rgb], *, centred: bool = False) -> None:
        style, size, leading, color = spec
        page = self.pages[-1]
        for index, line in enumerate(lines):
            left = (_PAGE_W - _width(line, style, size)) / 2 if centred else x
            page.append(_Text(left, self.top + (index + 0.75) * leading, line, style, size, color))

    def title(self, text: str) -> None:
        style, size, leading, _ = _TITLE
        lines = _wrap(text, style, size, _TEXT_W)
        self._fit(len(lines) * leading + 4)
        self._lines(lines, _LEFT, _TITLE, centred=True)
        self.top += len(lines) * leading + 4

    def heading(self, text: str) -> None:
        style, size, leading, _ = _HEADING
        lines = _wrap(text, style, size, _TEXT_W)
        self._fit(len(lines) * leading + 2 + 2 * _VALUE[2])  # keep a heading with what follows
        self._lines(lines, _LEFT, _HEADING)
        self.top += len(lines) * leading + 0.5
        self.pages[-1].append(_Rule(self.top, _NAVY))
        self.top += 1.5

    def row(self, label: str, value: str) -> None:
        label_lines = _wrap(label, _LABEL[0], _LABEL[1], _LABEL_W)
        value_lines = _wrap(value, _VALUE[0], _VALUE[1], _VALUE_W) or [""]
        height = max(len(label_lines), len(value_lines)) * _VALUE[2] + 1.5
        self._fit(height)
        self._lines(label_lines, _LEFT, _LABEL)
        self._lines(value_lines, _VALUE_X, _VALUE)
        self.top += height
        self.pages[-1].append(_Rule(self.top - 0.75, _HAIRLINE))

    def _new_page(self) -> None:
        self.pages.append([])
        self.top = _BODY_TOP

    def _fit(self, height: float) -> None:
        if self.top + height > _BODY_BOTTOM and self.top > _BODY_TOP:
            self._new_page()

    def paragraph(self, text: str, spec: tuple[str, float, float, Rgb] = _BODY, indent: float = 0.0) -> None:
        style, size, _, _ = spec
        self._flow_lines(_wrap(text, style, size, _TEXT_W - indent), spec, indent)

    def _flow_lines(self, lines: list[str], spec: tuple[str, float, float, Rgb], indent: float) -> None:
        """Place lines across pages, never leaving one line alone at the foot or the top of a page."""
        leading = spec[2]
        while lines:
            room = max(0, int((_BODY_BOTTOM - self.top) // leading))
            take = min(room, len(lines))
            if take < len(lines):
                if len(lines) - take == 1:
                    take -= 1
                if take < 2:
                    take = 0
            if take == 0:
                if self.top > _BODY_TOP:
                    self._new_page()
                    continue
                take = max(1, min(room, len(lines)))  # an empty page takes what it can
            self._lines(lines[:take], _LEFT + indent, spec)
            self.top += take * leading
            lines = lines[take:]
            if lines:
                self._new_page()

    def bullet(self, text: str) -> None:
        style, size, leading, color = _BODY
        lines = _wrap(text, style, size, _TEXT_W - _BULLET_INDENT)
        self._fit(min(len(lines), 4) * leading)  # the first chunk then starts on this page, with the bullet
        self.pages[-1].append(_Text(_LEFT + 1.0, self.top + 0.75 * leading, "\u2022", style, size, color))
        self._flow_lines(lines, _BODY, _BULLET_INDENT)

    def space(self) -> None:
        if self.top > _BODY_TOP:
            self.top += _SPACE


def _flow(markup: _Markup) -> list[list[_Text | _Rule]]:
    flow = _Flow()
    for block in markup.blocks:
        if block.kind == "title":
            flow.title(block.text)
        elif block.kind == "heading":
            flow.heading(block.text)
        elif block.kind == "row":
            flow.row(block.label, block.text)
        elif block.kind == "bullet":
            flow.bullet(block.text)
        elif block.kind == "note":
            flow.paragraph(block.text, _NOTE)
        elif block.kind == "paragraph":
            flow.paragraph(block.text)
        else:
            flow.space()
    return flow.pages


_FOOTER_LABELS: Final[Mapping[str, tuple[str, str, str, str]]] = {
    "fr": ("Référence\u00a0: ", "Délivré le ", "Page ", "Code de vérification\u00a0: "),
    "nl": ("Referentie: ", "Afgegeven op ", "Pagina ", "Verificatiecode: "),
    "en": ("Reference: ", "Issued on ", "Page ", "Verification code: "),
}


def _required(context: Mapping[str, Any], *path: str) -> Any:
    value: Any = context
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            raise MissingContextError(f"the document layout needs context[{']['.join(map(repr, path))}]")
        value = value[key]
    return value


def _header(city_fr: str, city_nl: str, department: tuple[str, str] | None) -> list[_Text | _Rule]:
    items: list[_Text | _Rule] = [
        _Text(_LEFT, 14.0, city_fr, "B", 15.0, _WHITE),
        _Text(_RIGHT - _width(city_nl, "B", 15.0), 14.0, city_nl, "B", 15.0, _WHITE),
    ]
    if department:
        french, dutch = department
        items.append(_Text(_LEFT, 22.0, french, "", 9.0, _WHITE))
        items.append(_Text(_RIGHT - _width(dutch, "", 9.0), 22.0, dutch, "", 9.0, _WHITE))
    return items


_VERIFY_LABELS: Final[Mapping[str, str]] = {
    "fr": "Vérifier ce document\u00a0: ",
    "nl": "Dit document verifiëren: ",
    "en": "Verify this document: ",
}
_QR_SIZE: Final = 17.0  # mm, quiet zone included: scans from a printed page
_QR_TOP: Final = _FOOTER_RULE + 2.0


@dataclass(frozen=True, slots=True)
class _Qr:
    """A QR code, drawn as filled squares (vector, so it prints sharp at any size); ``x``, ``y``: top left."""

    x: float
    y: float
    size: float
    matrix: tuple[tuple[bool, ...], ...]  # rows of modules, quiet zone included, True for dark


def _qr(payload: str, x: float, y: float, size: float) -> _Qr:
    import segno  # on first render, not at the function's cold start

    code = segno.make_qr(payload, error="m")
    rows = tuple(tuple(bool(module) for module in row) for row in code.matrix_iter(scale=1, border=2))
    return _Qr(x, y, size, rows)


def _footer(
    language: str, reference: str, issued: str, document_id: str, verify_url: str, qr: _Qr, page: int, pages: int
) -> list[_Text | _Rule | _Qr]:
    ref_label, issued_label, page_label, code_label = _FOOTER_LABELS[language]
    issued_text = issued_label + issued
    page_text = f"{page_label}{page}/{pages}"
    text_right = _RIGHT - _QR_SIZE - 2.0
    return [
        _Rule(_FOOTER_RULE, _HAIRLINE),
        _Text(_LEFT, _FOOTER_RULE + 5.0, ref_label + reference, "", 8.0, _GREY),
        _Text((_LEFT + text_right - _width(issued_text, "", 8.0)) / 2, _FOOTER_RULE + 5.0, issued_text, "", 8.0, _GREY),
        _Text(text_right - _width(page_text, "", 8.0), _FOOTER_RULE + 5.0, page_text, "", 8.0, _GREY),
        _Text(_LEFT, _FOOTER_RULE + 10.0, code_label + document_id, "B", 8.0, _INK),
        _Text(_LEFT, _FOOTER_RULE + 14.0, _VERIFY_LABELS[language] + verify_url, "", 6.5, _GREY),
        qr,
    ]


def _draw(pdf: FPDF, items: list[_Text | _Rule] | list[_Text | _Rule | _Qr]) -> None:
    for item in items:
        if isinstance(item, _Text):
            pdf.set_font(fonts.FAMILY, item.style, item.size)
            pdf.set_text_color(*item.color)
            pdf.text(item.x, item.y, item.text)
        elif isinstance(item, _Rule):
            pdf.set_draw_color(*item.color)
            pdf.line(item.x1, item.y, item.x2, item.y)
        else:
            _draw_qr(pdf, item)


def _draw_qr(pdf: FPDF, qr: _Qr) -> None:
    """White square, then each horizontal run of dark modules as one rectangle."""
    module = qr.size / len(qr.matrix)
    pdf.set_fill_color(*_WHITE)
    pdf.rect(qr.x, qr.y, qr.size, qr.size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(qr.matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            pdf.rect(qr.x + start * module, qr.y + row_index * module, (column - start) * module, module, style="F")


def _creation_date(issued_on: date) -> datetime:
    if isinstance(issued_on, datetime):
        return issued_on if issued_on.tzinfo else issued_on.replace(tzinfo=UTC)
    if isinstance(issued_on, date):
        return datetime(issued_on.year, issued_on.month, issued_on.day, tzinfo=UTC)
    raise TypeError(f"issued_on must be a date, got {type(issued_on).__name__}")


def _xml(text: str) -> str:
    return xml_escape(text, {'"': "&quot;"})


def _xmp(title: str, language: str, subject: str, created: datetime) -> str:
    """The document's XMP metadata: PDF/A-2b identification, title and subject in the document's language, its
    language, author and tool; every date is the date of issue (no "now": the same context gives the same bytes)."""
    stamp = created.astimezone(UTC).isoformat(timespec="seconds")
    return "\n".join(
        [
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
            '  <rdf:Description rdf:about=""',
            '    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"',
            '    xmlns:dc="http://purl.org/dc/elements/1.1/"',
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
            '    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"',
            f'    xmp:CreateDate="{stamp}" xmp:ModifyDate="{stamp}" xmp:MetadataDate="{stamp}"',
            f'    xmp:CreatorTool="{CREATOR}" pdf:Producer="{_xml(PRODUCER)}">',
            "   <pdfaid:part>2</pdfaid:part>",
            "   <pdfaid:conformance>B</pdfaid:conformance>",
            f'   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_xml(title)}</rdf:li>'
            f'<rdf:li xml:lang="{language}">{_xml(title)}</rdf:li></rdf:Alt></dc:title>',
            f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{_xml(subject)}</rdf:li></rdf:Alt>'
            "</dc:description>",
            f"   <dc:creator><rdf:Seq><rdf:li>{_xml(AUTHOR)}</rdf:li></rdf:Seq></dc:creator>",
            f"   <dc:language><rdf:Bag><rdf:li>{language}</rdf:li></rdf:Bag></dc:language>",
            "  </rdf:Description>",
            " </rdf:RDF>",
            "</x:xmpmeta>",
        ]
    )


def _new_pdf() -> FPDF:
    """An A4 PDF/A-2b document with the font's three styles embedded (fpdf2 subsets them at output)."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4", enforce_compliance="PDFA_2B")
    for style in fonts.STYLES:
        pdf.add_font(fonts.FAMILY, style, fonts.prepared_file(style))
    for font in pdf.fonts.values():
        # the prepared files' bounding boxes are exact: fpdf2's subset keeps each glyph as it is, so recomputing
        # them at save (a quarter of the time spent on fonts) would change nothing
        if isinstance(font, TTFFont):
            font.ttfont.recalcBBoxes = False
    return pdf


def render_markup(markup: str, language: str, context: Mapping[str, Any]) -> bytes:
    """Lay out already rendered markup (see the module docstring) as a PDF; the layout half of render_document."""
    _check_language(language)
    reference = fonts.printable(str(_required(context, "reference")))
    document_id = fonts.printable(str(_required(context, "document_id")))
    verify_url = fonts.printable(str(_required(context, "verification_url")))
    issued_on = _required(context, "issued_on")
    city_fr = fonts.printable(str(_required(context, "city", "fr")))
    city_nl = fonts.printable(str(_required(context, "city", "nl")))
    issued = format_date(issued_on, language)
    created = _creation_date(issued_on)

    parsed = _parse(markup)
    pages = _flow(parsed)
    header = _header(city_fr, city_nl, parsed.department)
    title = parsed.title or reference
    qr = _qr(verify_url, _RIGHT - _QR_SIZE, _QR_TOP, _QR_SIZE)  # one code for every page

    pdf = _new_pdf()
    pdf.set_auto_page_break(False)
    pdf.set_title(title)
    pdf.set_author(AUTHOR)
    pdf.set_subject(reference)
    pdf.set_creator(CREATOR)
    pdf.set_producer(PRODUCER)
    pdf.set_lang(language)
    pdf.set_creation_date(created)
    pdf.set_xmp_metadata(_xmp(title, language, reference, created))
    pdf.set_line_width(0.2)
    for number, items in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_fill_color(*_NAVY)
        pdf.rect(0, 0, _PAGE_W, _BAND_H, style="F")
        pdf.set_fill_color(*_GOLD)
        pdf.rect(0, _BAND_H, _PAGE_W, 1.2, style="F")
        _draw(pdf, header)
        _draw(pdf, items)
        _draw(pdf, _footer(language, reference, issued, document_id, verify_url, qr, number, len(pages)))
    return bytes(pdf.output())


def render_document(template_id: str, language: str, context: Mapping[str, Any]) -> bytes:
    """Render the document ``template_id`` in ``language`` ("fr", "nl" or "en") for ``context``, as PDF bytes.

    Raises ValueError for an unsupported language, TemplateNotFoundError when the catalogue has no such template,
    and MissingContextError when the context lacks a value the template or the layout needs.
    """
    _check_language(language)
    return render_markup(_wording(template_id, language, context), language, context)
