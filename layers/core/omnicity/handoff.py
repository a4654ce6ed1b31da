"""Hand-off codes: a short code on every case (and a QR payload carrying it) to continue or follow the case on
another channel: started at a kiosk or a counter, continued on the portal; an anonymous alert attached to one's
account. Unambiguous characters only (no I/1, O/0, L, U), read aloud or typed from paper.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_CODE = re.compile(rf"^[{ALPHABET}]{{8}}$")


def new_code() -> str:
    """Eight random characters (~39 bits), shown as ``XXXX-XXXX``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize(code: str) -> str | None:
    """The canonical ``XXXX-XXXX`` form of what someone typed (case, spaces and dashes ignored), or None."""
    raw = re.sub(r"[\s-]", "", code).upper()
    return f"{raw[:4]}-{raw[4:]}" if _CODE.match(raw) else None


def qr_payload(code: str, portal_url: str) -> str:
    """What the kiosk's or the counter's QR code holds: the portal's page that continues the case."""
    return f"{portal_url.rstrip('/')}/continue/{code}"
