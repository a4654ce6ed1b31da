"""What a text typed by a person may hold: the one rule for every text field of the platform.

A citizen's words end up in official documents (a name, a purpose, an activity), in e-mails, in agents' screens and in
logs. Characters that change the *structure* of such a text rather than its content are refused wherever a person
types text (forms, reports, answers, agents' questions and comments, reasons, Open311 fields), with a 422 naming the
field:

- control characters (C0 ``U+0000``-``U+001F``, DEL and C1 ``U+007F``-``U+009F``): tab, line feed, carriage return,
  vertical tab, form feed, the file/group/record separators ``U+001C``-``U+001E``, next line ``U+0085``...;
- the line and paragraph separators ``U+2028`` and ``U+2029``;
- the invisible characters that reorder or hide text (bidirectional embeddings, overrides and isolates, the Arabic
  letter mark and the left-to-right/right-to-left marks, zero-width space, word joiner and invisible operators, the
  byte-order mark, interlinear annotation marks), the non-characters ``U+FFFE``/``U+FFFF``, and lone surrogates
  (which JSON can spell, ``"\\ud800"``, but no document can print).

Every character on which ``str.splitlines()`` breaks a line is in that set, so a value can never start a line of a
document's markup; the renderer joins any value into one run anyway (defence in depth, ``omnicity.adapters.rendering``).
Everything else is text: letters of every script with their accents, emoji, the zero-width joiners some scripts
need, the soft hyphen.

:data:`FORBIDDEN_PATTERN` is the same rule as a regular expression in the subset Python and ECMA-262 share, published
in the forms' JSON Schema and the OpenAPI document as each text field's ``pattern`` (:data:`TEXT_PATTERN`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Final

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

FORBIDDEN_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x0000, 0x001F),  # C0 controls: tab, line feed, vertical tab, form feed, carriage return, separators 1C-1F
    (0x007F, 0x009F),  # DEL and the C1 controls, next line (U+0085) among them
    (0x061C, 0x061C),  # Arabic letter mark
    (0x200B, 0x200B),  # zero-width space
    (0x200E, 0x200F),  # left-to-right and right-to-left marks
    (0x2028, 0x202E),  # line and paragraph separators; bidirectional embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x2069),  # bidirectional isolates
    (0xD800, 0xDFFF),  # surrogates: a lone one is no character at all
    (0xFEFF, 0xFEFF),  # byte-order mark (zero-width no-break space)
    (0xFFF9, 0xFFFB),  # interlinear annotation marks
    (0xFFFE, 0xFFFF),  # non-characters
)
"""The refused code points, as inclusive ranges."""


def _class() -> str:
    def escape(code: int) -> str:
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return "".join(escape(low) if low == high else f"{escape(low)}-{escape(high)}" for low, high in FORBIDDEN_RANGES)


FORBIDDEN_PATTERN: Final = f"[{_class()}]"
"""One refused character (a regular expression)."""
TEXT_PATTERN: Final = f"^[^{_class()}]*$"
"""A text without any refused character: the ``pattern`` the published schemas give each text field."""

_FORBIDDEN: Final = re.compile(FORBIDDEN_PATTERN)
_ANY_FORBIDDEN: Final = re.compile(FORBIDDEN_PATTERN + "+")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be taken (the first refused character, by its code and name), or None when it can."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    character = found.group()
    code = ord(character)
    name = unicodedata.name(character, "") or _UNNAMED.get(code, "control character")
    return (
        f"must not contain control, line or paragraph separator, or invisible formatting characters "
        f"(U+{code:04X} {name.lower()} at position {found.start()})"
    )


_UNNAMED: Final = {
    0x00: "null",
    0x09: "tab",
    0x0A: "line feed",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x0D: "carriage return",
    0x1C: "file separator",
    0x1D: "group separator",
    0x1E: "record separator",
    0x1F: "unit separator",
    0x85: "next line",
}


def one_run(text: str) -> str:
    """``text`` as one inline run: every refused character (each run of them) becomes one space. For output that must
    stay on its line whatever it is given (a document's values); input is refused instead (:func:`text_problem`)."""
    return _ANY_FORBIDDEN.sub(" ", text)


def checked_text(text: str) -> str:
    """``text``, or a validation error saying why it cannot be taken (for pydantic's ``AfterValidator``)."""
    problem = text_problem(text)
    if problem is not None:
        raise PydanticCustomError("unsafe_text", problem)
    return text


SafeText = Annotated[str, AfterValidator(checked_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
"""A request model's text field: refused (422 naming the field) when it holds a refused character."""
