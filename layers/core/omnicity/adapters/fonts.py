"""The documents' typeface: Fira Sans (SIL Open Font License 1.1), from the ``fontpkg-fira-sans`` package.

Every document embeds a subset of it, so that a name is printed exactly as the register holds it: Latin-1 and
Latin Extended-A/B (Polish ł ś ź, Romanian ș ț, Turkish ğ ş and the dotless i, Czech, Hungarian...), the Latin
Extended Additional block (Vietnamese, whose letters stack two diacritics: ễ, ộ), the spacing modifier letters (the
Hawaiian okina, the modifier apostrophe) and the usual punctuation. :data:`REPERTOIRE` is that set; text outside it
is reduced by :func:`printable`.

The package's files hold 1,700 glyphs each, with hinting and OpenType layout tables. Subsetting such a file takes
fontTools a tenth of a second per style and per document; so each style is first cut down once per process to the
repertoire, without hinting (PDF viewers do not use it at print sizes) and without the layout tables (the layout
places precomposed letters, it does no shaping). fpdf2 then subsets that small file per document. The cut-down
files are written to a cache directory of the user's own (under ``OMNICITY_FONT_CACHE``, by default the system's
temporary directory: ``/tmp`` on Lambda, which outlives an invocation), named by a digest of their source and of the
repertoire, so a new font release or repertoire never reuses an old file. Producing them is deterministic: same
source, same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Final

FAMILY: Final = "firasans"  # the family name the renderer gives fpdf2
STYLES: Final[Mapping[str, str]] = {"": "Regular", "B": "Bold", "I": "Italic"}  # fpdf2 style -> file

_RANGES: Final = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A
    (0x0180, 0x024F),  # Latin Extended-B
    (0x02B0, 0x02FF),  # Spacing Modifier Letters (okina, modifier apostrophe, caron)
    (0x0300, 0x036F),  # Combining Diacritical Marks
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x2000, 0x206F),  # General Punctuation (dashes, quotes, bullet, ellipsis, thin spaces)
    (0x20AC, 0x20AC),  # euro sign
    (0x2116, 0x2116),  # numero sign
    (0x2122, 0x2122),  # trade mark sign
    (0x2212, 0x2212),  # minus sign
)
REPERTOIRE: Final = frozenset(code for first, last in _RANGES for code in range(first, last + 1))

_CACHE_ENV: Final = "OMNICITY_FONT_CACHE"
_PREPARED_VERSION: Final = "2"  # bump when the way files are cut down changes
_lock = threading.Lock()


def source_file(style: str) -> Path:
    """The package's font file for an fpdf2 style ("", "B" or "I")."""
    name = f"FiraSans-{STYLES[style]}.ttf"
    path = Path(str(resources.files("fontpkg_fira_sans") / "files" / name))
    if not path.is_file():
        raise FileNotFoundError(f"{name} is missing from the fontpkg-fira-sans package")
    return path


# OpenType layout (the layout does no shaping: it places precomposed letters), kerning, tool stamps and signatures
_DROPPED: Final = ("GSUB", "GPOS", "GDEF", "kern", "FFTM", "DSIG")


def _cut_down(source: bytes) -> bytes:
    from fontTools import subset, ttLib  # fpdf2's own dependency, loaded with the renderer

    font = ttLib.TTFont(io.BytesIO(source), recalcTimestamp=False)
    for tag in _DROPPED:  # before the subsetter, which would otherwise decompile the large layout tables first
        if tag in font:
            del font[tag]
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.drop_tables += list(_DROPPED)
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.glyph_names = True  # fpdf2 maps characters to glyphs by name
    options.name_IDs = ["*"]  # keep the licence and copyright notices
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(REPERTOIRE & set(font.getBestCmap())))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _cache_dir() -> Path:
    """The cache directory, this user's alone: a font file found there is embedded in official documents, so a
    directory another user could write to (a shared ``/tmp`` on a developer's machine) is never trusted; a private
    directory of this process's is used instead."""
    directory = Path(os.environ.get(_CACHE_ENV) or tempfile.gettempdir()) / f"omnicity-fonts-{os.getuid()}"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = directory.stat()
    if status.st_uid != os.getuid() or status.st_mode & 0o022:
        return Path(tempfile.mkdtemp(prefix="omnicity-fonts-"))
    return directory


@lru_cache(maxsize=len(STYLES))
def prepared_file(style: str) -> Path:
    """The cut-down font file of a style (see the module docstring), made on first use in this process."""
    source = source_file(style).read_bytes()
    digest = hashlib.sha256(source + _PREPARED_VERSION.encode() + repr(_RANGES).encode()).hexdigest()[:16]
    path = _cache_dir() / f"FiraSans-{STYLES[style]}-{digest}.ttf"
    with _lock:
        if not path.is_file():
            data = _cut_down(source)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
            partial.write_bytes(data)
            os.replace(partial, path)  # atomic: a reader sees no file or the whole file
    return path


@lru_cache(maxsize=len(STYLES))
def glyph_widths(style: str) -> Mapping[str, int]:
    """Advance width of every character of the prepared font, in thousandths of the font size, rounded as fpdf2
    rounds them (so that a line the layout measures is the line fpdf2 draws)."""
    from fontTools import ttLib

    font = ttLib.TTFont(str(prepared_file(style)), lazy=True)
    scale = 1000 / font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    widths: dict[str, int] = {}
    for code, glyph in font.getBestCmap().items():
        advance = metrics[glyph][0]
        widths[chr(code)] = round(scale * (0 if advance == 65535 else advance) + 0.001)
    return widths


@lru_cache(maxsize=1)
def _covered() -> frozenset[str]:
    """The characters every style can draw."""
    covered = set(glyph_widths(""))
    for style in STYLES:
        covered &= set(glyph_widths(style))
    return frozenset(covered)


# Characters that a citizen's text may hold and the font does not: their usual stand-in.
_STAND_INS: Final[Mapping[str, str]] = {
    "\t": " ",
    "\u202f": "\u00a0",  # narrow no-break space (French typography) -> no-break space
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2032": "'",  # prime
    "\u2033": '"',  # double prime
    "\ufffd": "?",
}


@lru_cache(maxsize=2048)
def _reduced(char: str) -> str:
    stand_in = _STAND_INS.get(char)
    if stand_in is not None:
        return stand_in
    covered = _covered()
    decomposed = unicodedata.normalize("NFKC", char)
    if decomposed != char and all(part in covered for part in decomposed):
        return decomposed  # a ligature, a full-width or circled letter, a superscript digit...
    kept = "".join(part for part in unicodedata.normalize("NFKD", char) if part in covered)
    if kept and unicodedata.category(kept[0]) not in ("Mn", "Me"):
        return kept  # a letter whose base the font has, without the mark it lacks
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):  # a lone mark, a variation selector, a joiner
        return ""
    return "?"


def printable(text: str) -> str:
    """The text as the documents print it: composed (NFC: "e" + combining acute is "é"), every character the font
    holds kept as it is, and only what lies outside it (another script, an emoji) reduced: to its compatibility
    form when the font has that (ligatures, full-width letters), to its base letter, or else to "?". Every name of
    the registers' Latin scripts is printed unchanged."""
    composed = unicodedata.normalize("NFC", text)
    covered = _covered()
    if covered.issuperset(composed):
        return composed
    return "".join(char if char in covered else _reduced(char) for char in composed)
