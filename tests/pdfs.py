"""Reading an issued PDF back as a third party would: its text with pypdf, and with poppler's ``pdftotext`` and
``pdffonts`` where they are installed (``make install`` adds poppler-utils when it can: docs/testing.md)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

HAS_POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdffonts") is not None
needs_poppler = pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils (pdftotext, pdffonts) not installed")


def _collapsed(text: str) -> str:
    """Whitespace collapsed (line wrapping is layout, not wording) and composed (NFC), as names are compared."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def pypdf_text(pdf: bytes) -> str:
    """Every page's text as pypdf extracts it, collapsed."""
    return _collapsed(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def _run(pdf: bytes, command: Callable[[str], list[str]]) -> str:
    """What ``command(path)`` prints for ``pdf`` written to a temporary file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        return subprocess.run(command(str(path)), capture_output=True, check=True, text=True).stdout


def poppler_text(pdf: bytes) -> str:
    """The text ``pdftotext`` extracts, collapsed."""
    return _collapsed(_run(pdf, lambda path: ["pdftotext", "-enc", "UTF-8", path, "-"]))


def poppler_fonts(pdf: bytes) -> list[tuple[str, ...]]:
    """For each font ``pdffonts`` lists: whether it is embedded, subset, and has a Unicode map ("yes" or "no")."""
    rows = _run(pdf, lambda path: ["pdffonts", path]).splitlines()[2:]  # after the heading and its rule
    return [tuple(row.split()[-5:-2]) for row in rows]
