"""Where a document is verified: the portal's page for its verification code, printed on it as text and QR code.

The page reads ``GET /v1/documents/{document_id}`` (public, no personal data) and shows what the city vouches for:
the reference, the kind and date of issue, the digest of the file as issued, and whether it is still valid.
"""

from __future__ import annotations


def verification_url(portal_url: str, document_id: str) -> str:
    """The portal's verification page of ``document_id`` (``<portal>/verify/<document_id>``)."""
    return f"{portal_url.rstrip('/')}/verify/{document_id}"
