"""Hand-off codes: a code on every case (and a QR payload carrying it) to continue or follow the case on another
channel: started at a kiosk or a counter, continued on the portal; an anonymous alert attached to one's account.

Whoever presents a code reaches its case (an anonymous alert is then attached to them), so a code must not be
guessable: 14 random characters of a 30-character alphabet, 68.7 bits (``log2(30) * 14``), and a 15th that checks
them, shown as ``XXXXX-XXXXX-XXXXX``. Sending the stage's whole throttle (100 requests a second) of guesses, one
would find any one of a million live codes after 150,000 years on average; and each citizen is refused after a few
wrong codes (``omnicity.application.case_reads``, ``omnicity.adapters.throttle``).

- Unambiguous characters only (no I/1, O/0, L, U): read aloud or typed from paper at a kiosk; case, spaces and dashes
  do not matter.
- The check character (the Luhn mod N algorithm over the alphabet) catches every single mistyped character and
  nearly every swap of two neighbours, so a typing mistake is told as such (and not counted as a wrong guess), before
  any lookup.
- The 8-character codes of before (``XXXX-XXXX``, 39 bits) are no longer read: no deployment ever stored any, and
  reading them would keep a code space small enough to guess.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

ALPHABET: Final = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
RANDOM_CHARACTERS: Final = 14
GROUP: Final = 5  # characters between dashes
LENGTH: Final = RANDOM_CHARACTERS + 1  # with the check character
RULE: Final = (
    "mistyped: a hand-off code is 15 characters as XXXXX-XXXXX-XXXXX (letters but I, L, O and U; digits 2 to 9), "
    "the last one checking the others"
)
_CODE = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")
_IGNORED = re.compile(r"[\s-]")


def new_code() -> str:
    """A new code: 14 random characters and their check character, shown as ``XXXXX-XXXXX-XXXXX``."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARACTERS))
    return _grouped(payload + check_character(payload))


def normalize(code: str) -> str | None:
    """The canonical ``XXXXX-XXXXX-XXXXX`` form of what someone typed (case, spaces and dashes ignored), or None when
    it is no code: another length, a character outside the alphabet, or a check character that does not match."""
    raw = _IGNORED.sub("", code).upper()
    if not _CODE.match(raw) or check_character(raw[:-1]) != raw[-1]:
        return None
    return _grouped(raw)


def check_character(payload: str) -> str:
    """The Luhn mod N check character of ``payload`` (characters of :data:`ALPHABET`): every other value doubled
    from the right, its base-N digits added."""
    base = len(ALPHABET)
    total = 0
    for position, character in enumerate(reversed(payload)):
        value = ALPHABET.index(character) * (2 if position % 2 == 0 else 1)
        total += value // base + value % base
    return ALPHABET[-total % base]


def qr_payload(code: str, portal_url: str) -> str:
    """What the kiosk's or the counter's QR code holds: the portal's page that continues the case."""
    return f"{portal_url.rstrip('/')}/continue/{code}"


def _grouped(raw: str) -> str:
    return "-".join(raw[index : index + GROUP] for index in range(0, len(raw), GROUP))
