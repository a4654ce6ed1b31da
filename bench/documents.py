"""Documents: one residence certificate rendered by omnicity, by reportlab and by WeasyPrint, warm, in one process.

The certificate is the one the document step issues: a residence-certificate case of a person of the bundled
national register, its context built by ``omnicity.catalogue.document_contexts.build_context``, rendered by
``omnicity.adapters.rendering.render_document`` (jinja2 wording, then fpdf2 layout in Fira Sans, embedded and subset,
PDF/A-2b, with the verification QR code).

The two other renderers lay out the same content: the blocks omnicity's own markup parser finds in the same
wording (title, department line, headings, the label/value rows as a table, paragraphs, the small print) and the
same header band and footer (reference, date of issue, "Page n/N", verification code), on A4:

- reportlab: platypus flowables (Paragraph, Table, Spacer) with the same font files (omnicity's cut-down Fira Sans,
  registered once, subset and embedded in each document by reportlab), header and footer drawn on each page by a
  canvas that knows the page count, the verification QR code drawn by reportlab's own QR widget;
- WeasyPrint: an HTML page from a jinja2 template with a CSS stylesheet (``@page`` A4, margin boxes for the page
  number, a fixed header band and footer), fonts from fontconfig (DejaVu Sans here).

Each renderer runs once to warm up (templates compiled, fonts found), then the three take turns for N rounds; each
render is timed in CPU time of this process (single-threaded: robust to the other work on the machine) and
wall-clock time. Figures: the medians over the rounds of the per-round ratios.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from bench.report import Figure, Section, at_most, median, number

TEMPLATE_ID = "residence-certificate"
LANGUAGE = "fr"
APPLICANT = "87031413235"  # a person of the bundled national register (tests/unit/test_certificates.py: ELISE)
ISSUED_ON = date(2026, 11, 29)
DOCUMENT_ID = "doc-5f0c2a7e91d34b8a6c10"
VERIFY_URL = f"https://my.brussels.example/verify/{DOCUMENT_ID}"
REFERENCE = "BXL-2026-000042"
REPORTLAB_LIMIT = 1.5  # omnicity within 1.5x reportlab's time, the same font embedded in both

# The layout's measures and colours (those of omnicity.adapters.rendering), in mm and RGB.
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT = 20.0, 190.0
BAND_H, BODY_TOP, BODY_BOTTOM, FOOTER_RULE = 30.0, 42.0, 268.0, 276.0
LABEL_W = 58.0
QR_SIZE = 17.0
NAVY, GOLD, INK, GREY, HAIRLINE = "#003366", "#d6a224", "#191919", "#646464", "#cdcdcd"


@dataclass(frozen=True)
class Block:
    kind: str  # title, heading, row, bullet, paragraph, note, space
    text: str = ""
    label: str = ""


@dataclass(frozen=True)
class Certificate:
    """What every renderer lays out: the blocks of the wording, the header and the footer."""

    blocks: tuple[Block, ...]
    department: tuple[str, str] | None
    title: str
    city: tuple[str, str]
    footer: tuple[str, str, str, str]  # "Reference: X", "Issued on D", "Page ", "Verification code: C"
    verify: str  # "Verify this document: <url>"
    url: str  # the verification page, also as a QR code
    language: str


def certificate_context() -> dict[str, Any]:
    """The context the document step builds for a residence certificate of ``APPLICANT``."""
    from omnicity.adapters.registries import get_registers
    from omnicity.catalogue import get_catalogue
    from omnicity.catalogue.document_contexts import build_context
    from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language

    now = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    case = Case(
        case_id="case-bench",
        reference=REFERENCE,
        procedure_id=TEMPLATE_ID,
        applicant=Applicant(nrn=APPLICANT),
        channel=Channel.PORTAL,
        language=Language(LANGUAGE),
        form={},
        status=CaseStatus.IN_PROGRESS,
        timeline=[],
        submitted_by="citizen",
        created_at=now,
        updated_at=now,
    )
    procedure = get_catalogue().get(TEMPLATE_ID)
    return build_context(
        procedure, case, get_registers(), document_id=DOCUMENT_ID, issued_on=ISSUED_ON, verification_url=VERIFY_URL
    )


def certificate(context: Mapping[str, Any]) -> Certificate:
    """The certificate's content as omnicity's own wording and markup parser give it (private helpers of
    omnicity.adapters.rendering, read here so that the three renderers print the same words)."""
    from omnicity.adapters import rendering

    markup = rendering._parse(rendering._wording(TEMPLATE_ID, LANGUAGE, context))
    reference_label, issued_label, page_label, code_label = rendering._FOOTER_LABELS[LANGUAGE]
    issued = rendering.format_date(context["issued_on"], LANGUAGE)
    return Certificate(
        blocks=tuple(Block(b.kind, b.text, b.label) for b in markup.blocks),
        department=markup.department,
        title=markup.title or "",
        city=(context["city"]["fr"], context["city"]["nl"]),
        footer=(reference_label + REFERENCE, issued_label + issued, page_label, code_label + DOCUMENT_ID),
        verify=rendering._VERIFY_LABELS[LANGUAGE] + VERIFY_URL,
        url=VERIFY_URL,
        language=LANGUAGE,
    )


# ------------------------------------------------------------------------------------------------------ reportlab
REPORTLAB_FONTS = {"": "FiraSans", "B": "FiraSans-Bold", "I": "FiraSans-Italic"}


@cache
def _reportlab_fonts() -> None:
    """Register omnicity's own font files (the same cut-down Fira Sans) with reportlab, once, as an application would
    at start; reportlab then embeds a subset of them in each document, as fpdf2 does."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from omnicity.adapters import fonts

    for style, name in REPORTLAB_FONTS.items():
        pdfmetrics.registerFont(TTFont(name, str(fonts.prepared_file(style))))


@cache
def _reportlab_styles() -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    _reportlab_fonts()

    ink, grey, navy = colors.HexColor(INK), colors.HexColor(GREY), colors.HexColor(NAVY)
    return {
        "title": ParagraphStyle(
            "title",
            fontName="FiraSans-Bold",
            fontSize=17,
            leading=22.7,
            alignment=TA_CENTER,
            textColor=navy,
            spaceAfter=11,
        ),
        "heading": ParagraphStyle("heading", fontName="FiraSans-Bold", fontSize=11.5, leading=17, textColor=navy),
        "paragraph": ParagraphStyle("paragraph", fontName="FiraSans", fontSize=10.5, leading=14.7, textColor=ink),
        "bullet": ParagraphStyle(
            "bullet", fontName="FiraSans", fontSize=10.5, leading=14.7, textColor=ink, leftIndent=14, bulletIndent=3
        ),
        "note": ParagraphStyle("note", fontName="FiraSans-Italic", fontSize=8.5, leading=11.3, textColor=grey),
        "label": ParagraphStyle("label", fontName="FiraSans", fontSize=10, leading=14.2, textColor=grey),
        "value": ParagraphStyle("value", fontName="FiraSans-Bold", fontSize=10, leading=14.2, textColor=ink),
    }


def render_reportlab(doc: Certificate) -> bytes:
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = _reportlab_styles()

    def header(canvas: Canvas, _: object) -> None:
        canvas.saveState()
        canvas.setFillColor(colors.HexColor(NAVY))
        canvas.rect(0, (PAGE_H - BAND_H) * mm, PAGE_W * mm, BAND_H * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.HexColor(GOLD))
        canvas.rect(0, (PAGE_H - BAND_H - 1.2) * mm, PAGE_W * mm, 1.2 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont("FiraSans-Bold", 15)
        canvas.drawString(LEFT * mm, (PAGE_H - 14) * mm, doc.city[0])
        canvas.drawRightString(RIGHT * mm, (PAGE_H - 14) * mm, doc.city[1])
        if doc.department:
            canvas.setFont("FiraSans", 9)
            canvas.drawString(LEFT * mm, (PAGE_H - 22) * mm, doc.department[0])
            canvas.drawRightString(RIGHT * mm, (PAGE_H - 22) * mm, doc.department[1])
        canvas.restoreState()

    class PagedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
        """Keeps each page until the end, so that its footer can say "Page n/N"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self.pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number_, page in enumerate(self.pages, start=1):
                self.__dict__.update(page)
                self.setStrokeColor(colors.HexColor(HAIRLINE))
                self.setLineWidth(0.2 * mm)
                self.line(LEFT * mm, (PAGE_H - FOOTER_RULE) * mm, RIGHT * mm, (PAGE_H - FOOTER_RULE) * mm)
                self.setFillColor(colors.HexColor(GREY))
                self.setFont("FiraSans", 8)
                baseline = (PAGE_H - FOOTER_RULE - 5) * mm
                text_right = RIGHT - QR_SIZE - 2
                self.drawString(LEFT * mm, baseline, doc.footer[0])
                self.drawCentredString((LEFT + text_right) / 2 * mm, baseline, doc.footer[1])
                self.drawRightString(text_right * mm, baseline, f"{doc.footer[2]}{number_}/{len(self.pages)}")
                self.setFont("FiraSans-Bold", 8)
                self.drawString(LEFT * mm, (PAGE_H - FOOTER_RULE - 10) * mm, doc.footer[3])
                self.setFont("FiraSans", 6.5)
                self.drawString(LEFT * mm, (PAGE_H - FOOTER_RULE - 14) * mm, doc.verify)
                qr = QrCodeWidget(doc.url, barLevel="M", barBorder=2, barWidth=QR_SIZE * mm, barHeight=QR_SIZE * mm)
                drawing = Drawing(QR_SIZE * mm, QR_SIZE * mm)
                drawing.add(qr)
                renderPDF.draw(drawing, self, (RIGHT - QR_SIZE) * mm, (PAGE_H - FOOTER_RULE - 2 - QR_SIZE) * mm)
                super().showPage()
            super().save()

    story: list[Any] = []
    rows: list[list[Any]] = []

    def flush_rows() -> None:
        if rows:
            table = Table(list(rows), colWidths=[(LABEL_W + 4) * mm, (RIGHT - LEFT - LABEL_W - 4) * mm])
            table.setStyle(
                TableStyle(
                    [
                        ("LINEBELOW", (0, 0), (-1, -1), 0.2 * mm, colors.HexColor(HAIRLINE)),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("TOPPADDING", (0, 0), (-1, -1), 1),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                    ]
                )
            )
            story.append(table)
            rows.clear()

    for block in doc.blocks:
        if block.kind != "row":
            flush_rows()
        if block.kind == "row":
            rows.append(
                [Paragraph(escape(block.label), styles["label"]), Paragraph(escape(block.text), styles["value"])]
            )
        elif block.kind == "heading":
            story += [
                Paragraph(escape(block.text), styles["heading"]),
                HRFlowable(width="100%", thickness=0.2 * mm, color=colors.HexColor(NAVY), spaceAfter=4),
            ]
        elif block.kind == "bullet":
            story.append(Paragraph(escape(block.text), styles["bullet"], bulletText="\u2022"))
        elif block.kind == "space":
            story.append(Spacer(1, 3.5 * mm))
        else:
            story.append(Paragraph(escape(block.text), styles[block.kind]))
    flush_rows()

    out = io.BytesIO()
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=LEFT * mm,
        rightMargin=(PAGE_W - RIGHT) * mm,
        topMargin=BODY_TOP * mm,
        bottomMargin=(PAGE_H - BODY_BOTTOM) * mm,
        title=doc.title,
        author="Ville de Bruxelles - Stad Brussel",
        subject=REFERENCE,
        creator="bench",
        lang=doc.language,
        invariant=True,
    )
    template.build(story, onFirstPage=header, onLaterPages=header, canvasmaker=PagedCanvas)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------------ WeasyPrint
_HTML = """<!DOCTYPE html>
<html lang="{{ doc.language }}">
<head>
<meta charset="utf-8">
<title>{{ doc.title }}</title>
<meta name="author" content="Ville de Bruxelles - Stad Brussel">
<style>
@page {
  size: A4;
  margin: {{ body_top }}mm {{ right }}mm {{ bottom }}mm {{ left }}mm;
  @bottom-right {
    content: "{{ doc.footer[2] }}" counter(page) "/" counter(pages);
    font: 8pt "Helvetica", sans-serif; color: {{ grey }};
    vertical-align: top; padding-top: 9mm;
  }
}
body { font: 10.5pt/1.4 "Helvetica", sans-serif; color: {{ ink }}; margin: 0; }
.band { position: fixed; top: -{{ body_top }}mm; left: -{{ left }}mm; width: 210mm; height: {{ band }}mm;
        background: {{ navy }}; border-bottom: 1.2mm solid {{ gold }}; color: white; }
.band .city { position: absolute; top: 8mm; font: bold 15pt "Helvetica", sans-serif; }
.band .dept { position: absolute; top: 18.5mm; font: 9pt "Helvetica", sans-serif; }
.band .l { left: {{ left }}mm; } .band .r { right: {{ right }}mm; }
.footer { position: fixed; bottom: -{{ bottom }}mm; left: 0; right: 0; height: {{ bottom }}mm;
          border-top: 0.2mm solid {{ hairline }}; font: 8pt "Helvetica", sans-serif; color: {{ grey }}; }
.footer .ref { position: absolute; top: 2mm; left: 0; }
.footer .issued { position: absolute; top: 2mm; left: 0; right: 0; text-align: center; }
.footer .code { position: absolute; top: 6.5mm; left: 0; font-size: 6.5pt; }
.footer .verify { position: absolute; top: 10mm; left: 0; font-size: 6.5pt; }
h1 { font-size: 17pt; color: {{ navy }}; text-align: center; margin: 0 0 4mm; }
h2 { font-size: 11.5pt; color: {{ navy }}; border-bottom: 0.2mm solid {{ navy }}; margin: 0 0 1.5mm; }
p { margin: 0; }
p.note { font-size: 8.5pt; font-style: italic; color: {{ grey }}; line-height: 1.33; }
table { width: 100%; border-collapse: collapse; font-size: 10pt; }
td { border-bottom: 0.2mm solid {{ hairline }}; padding: 0.5mm 0 0.75mm; vertical-align: top; }
td.label { width: {{ label_w + 4 }}mm; color: {{ grey }}; }
td.value { font-weight: bold; }
ul { margin: 0; padding-left: 5mm; }
.space { height: 3.5mm; }
</style>
</head>
<body>
<div class="band">
  <div class="city l">{{ doc.city[0] }}</div><div class="city r">{{ doc.city[1] }}</div>
  {% if doc.department %}<div class="dept l">{{ doc.department[0] }}</div>
  <div class="dept r">{{ doc.department[1] }}</div>{% endif %}
</div>
<div class="footer">
  <div class="ref">{{ doc.footer[0] }}</div><div class="issued">{{ doc.footer[1] }}</div>
  <div class="code">{{ doc.footer[3] }}</div><div class="verify">{{ doc.verify }}</div>
</div>
{% for group in groups %}
{% if group.kind == "rows" %}<table>{% for row in group.blocks %}
<tr><td class="label">{{ row.label }}</td><td class="value">{{ row.text }}</td></tr>{% endfor %}</table>
{% elif group.kind == "bullets" %}<ul>{% for item in group.blocks %}<li>{{ item.text }}</li>{% endfor %}</ul>
{% else %}{% set block = group.blocks[0] %}
{% if block.kind == "title" %}<h1>{{ block.text }}</h1>
{% elif block.kind == "heading" %}<h2>{{ block.text }}</h2>
{% elif block.kind == "note" %}<p class="note">{{ block.text }}</p>
{% elif block.kind == "space" %}<div class="space"></div>
{% else %}<p>{{ block.text }}</p>{% endif %}
{% endif %}
{% endfor %}
</body>
</html>
"""


@dataclass(frozen=True)
class Group:
    kind: str  # "rows", "bullets" or "block"
    blocks: tuple[Block, ...]


def _groups(blocks: Sequence[Block]) -> list[Group]:
    """Consecutive rows (a table) and bullets (a list) together, every other block alone."""
    groups: list[Group] = []
    for block in blocks:
        kind = {"row": "rows", "bullet": "bullets"}.get(block.kind, "block")
        if kind != "block" and groups and groups[-1].kind == kind:
            groups[-1] = Group(kind, (*groups[-1].blocks, block))
        else:
            groups.append(Group(kind, (block,)))
    return groups


@cache
def _html_template() -> Any:
    import jinja2

    return jinja2.Environment(autoescape=True).from_string(_HTML)


def render_weasyprint(doc: Certificate) -> bytes:
    from weasyprint import HTML

    html = _html_template().render(
        doc=doc,
        groups=_groups(doc.blocks),
        body_top=BODY_TOP,
        left=LEFT,
        right=PAGE_W - RIGHT,
        bottom=PAGE_H - BODY_BOTTOM,
        band=BAND_H,
        label_w=LABEL_W,
        navy=NAVY,
        gold=GOLD,
        ink=INK,
        grey=GREY,
        hairline=HAIRLINE,
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


# ------------------------------------------------------------------------------------------------------ measuring
def render_omnicity(context: Mapping[str, Any]) -> bytes:
    from omnicity.adapters.rendering import render_document

    return render_document(TEMPLATE_ID, LANGUAGE, context)


def pdf_words(pdf: bytes) -> tuple[int, set[str]]:
    """The page count and the words of a PDF's text (pypdf), for checking that the three say the same."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), set(re.findall(r"\w+", text.lower()))


def timed(render: Callable[[], bytes]) -> tuple[float, float]:
    """CPU and wall-clock milliseconds of one render."""
    cpu, wall = time.process_time(), time.perf_counter()
    render()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def run(quick: bool) -> Section:
    context = certificate_context()
    doc = certificate(context)
    renderers: dict[str, Callable[[], bytes]] = {
        "omnicity": lambda: render_omnicity(context),
        "reportlab": lambda: render_reportlab(doc),
        "WeasyPrint": lambda: render_weasyprint(doc),
    }
    outputs = {name: render() for name, render in renderers.items()}  # the warm-up run of each
    rounds = 15 if quick else 60
    cpu: dict[str, list[float]] = {name: [] for name in renderers}
    wall: dict[str, list[float]] = {name: [] for name in renderers}
    names = list(renderers)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            spent, elapsed = timed(renderers[name])
            cpu[name].append(spent)
            wall[name].append(elapsed)

    def per_round(numerator: str, denominator: str) -> float:
        return median([a / b for a, b in zip(cpu[numerator], cpu[denominator], strict=True)])

    over_reportlab = per_round("omnicity", "reportlab")
    weasy_over = per_round("WeasyPrint", "omnicity")

    def timing(name: str) -> str:
        return f"{name}: CPU {number(median(cpu[name]))} ms, wall-clock {number(median(wall[name]))} ms"

    section = Section(
        title="Documents",
        method=(
            f"One residence certificate (`{TEMPLATE_ID}`, {LANGUAGE}), its context built from a case of the bundled "
            "registers as the document step does, rendered in one warm process by omnicity "
            "(`omnicity.adapters.rendering.render_document`: jinja2 wording, fpdf2 layout, Fira Sans embedded, "
            "PDF/A-2b, the verification QR code), "
            "and the same content (omnicity's wording parsed into title, paragraphs, a label/value table, "
            "small print; the same header band and footer with page n/N; A4) by reportlab (platypus, the same "
            "Fira Sans files registered once and embedded, reportlab's QR widget) and by WeasyPrint (HTML from a "
            "jinja2 template + CSS, fontconfig's sans-serif). After one "
            f"warm-up render each, the three take turns for {rounds} rounds; each render is timed in CPU time of the "
            "process (and wall-clock). Figures: medians over the rounds of the per-round ratios."
        ),
    )
    reportlab_note = f"{timing('omnicity')}; {timing('reportlab')}"
    if over_reportlab > REPORTLAB_LIMIT:
        reportlab_note += "; see the remarks"
    section.figures += [
        at_most("omnicity / reportlab (time per certificate)", over_reportlab, "x", REPORTLAB_LIMIT, reportlab_note),
        # No target since omnicity embeds its font (issue 11): reportlab, with the same font, is the fair comparison.
        Figure("WeasyPrint / omnicity (time per certificate)", round(weasy_over, 1), "x", note=timing("WeasyPrint")),
    ]

    reference_pages, reference_words = pdf_words(outputs["omnicity"])
    for name in ("reportlab", "WeasyPrint"):
        pages, words = pdf_words(outputs[name])
        shared = len(reference_words & words) / len(reference_words)
        section.figures.append(
            Figure(
                f"{name}: share of omnicity's words in its PDF",
                round(shared * 100, 1),
                "%",
                note=f"{pages} page(s) against {reference_pages}; {number(len(outputs[name]))} bytes against "
                f"{number(len(outputs['omnicity']))}",
            )
        )
    section.remarks += [
        "The omnicity time includes its jinja2 wording (template rendering and markup parsing); reportlab's starts "
        "from the already parsed blocks, which favours reportlab; WeasyPrint's includes its HTML templating.",
        "omnicity and reportlab embed a subset of the same Fira Sans files (three styles) in each document; omnicity's "
        "file is also PDF/A-2b (an sRGB ICC profile and XMP metadata, which reportlab's does not carry). WeasyPrint "
        "embeds a subset of DejaVu Sans.",
        "Share of words: the words (case-insensitive) of omnicity's PDF text found in the other PDF's text, read back "
        "with pypdf: a check that the three render the same content (line breaks and hyphenation differ).",
    ]
    return section
