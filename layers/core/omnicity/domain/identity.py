"""From the authorizer's verified claims to a principal: who is calling, with which role, on which channel.

API Gateway's Cognito authorizer verifies the ID token and passes its claims (as strings) to the function.
- The channel is the app client the token was issued to (``aud``): portal, kiosk or counter. It never comes from
  a request body.
- The role comes from the Cognito groups: ``agent`` or ``kiosk``; anyone else is a citizen, identified by the
  national register number the identity provider asserts (``custom:nrn``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from omnicity.domain.errors import ForbiddenError, UnauthorizedError
from omnicity.domain.models import Channel, Role
from omnicity.domain.nrn import is_valid_nrn, normalize_nrn

# Which roles may use which client: agents work at the counter, kiosk devices at the kiosk.
_ROLE_CHANNELS = {
    Role.CITIZEN: frozenset({Channel.PORTAL, Channel.KIOSK}),
    Role.AGENT: frozenset({Channel.COUNTER}),
    Role.KIOSK: frozenset({Channel.KIOSK}),
}


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Role
    subject: str
    channel: Channel
    nrn: str | None = None
    email: str | None = None
    departments: frozenset[str] = frozenset()

    @property
    def actor(self) -> str:
        """How this principal is named on a case's timeline (no personal data: the role and an opaque id)."""
        return "citizen" if self.role is Role.CITIZEN else f"{self.role.value}:{self.subject}"

    @property
    def uploads_owner(self) -> str:
        """The opaque folder of this person's uploads (no personal data: a digest of the subject)."""
        import hashlib

        return hashlib.sha256(f"omnicity-uploads:{self.role.value}:{self.subject}".encode()).hexdigest()[:32]

    def owns(self, nrn: str | None) -> bool:
        return self.role is Role.CITIZEN and nrn is not None and self.nrn == nrn


def principal_from_claims(claims: Mapping[str, Any] | None, clients: Mapping[str, Channel]) -> Principal:
    """Build the principal, or raise UnauthorizedError (no usable identity) / ForbiddenError (wrong client)."""
    if not claims or not claims.get("sub"):
        raise UnauthorizedError("missing or invalid token")
    client_id = str(claims.get("aud") or claims.get("client_id") or "")
    channel = clients.get(client_id)
    if channel is None:
        raise UnauthorizedError("token issued to an unknown client")
    groups = _as_set(claims.get("cognito:groups"))
    role = Role.AGENT if "agent" in groups else Role.KIOSK if "kiosk" in groups else Role.CITIZEN
    if channel not in _ROLE_CHANNELS[role]:
        raise ForbiddenError(f"a {role.value} cannot use the {channel.value} client")
    nrn = None
    if role is Role.CITIZEN:
        raw_nrn = str(claims.get("custom:nrn") or "")
        if not is_valid_nrn(raw_nrn):
            raise ForbiddenError("the identity provider did not assert a valid national register number")
        nrn = normalize_nrn(raw_nrn)
    # Only an address the identity provider verified: the city must not email whatever a user typed in.
    email = claims.get("email") if str(claims.get("email_verified", "")).lower() == "true" else None
    return Principal(
        role=role,
        subject=str(claims["sub"]),
        channel=channel,
        nrn=nrn,
        email=str(email) if email else None,
        departments=frozenset(_as_set(claims.get("custom:departments"))) if role is Role.AGENT else frozenset(),
    )


def _as_set(value: Any) -> set[str]:
    """Claims arrive as strings from API Gateway ("a,b", "[a b]") or as lists from other callers."""
    if value is None:
        return set()
    if isinstance(value, list | tuple | set | frozenset):
        return {str(item).strip() for item in value if str(item).strip()}
    text = str(value).strip().strip("[]")
    return {part for part in text.replace(",", " ").split() if part}
