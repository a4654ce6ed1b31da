"""A local token issuer standing in for the Cognito user pool.

An RSA key is generated when the issuer is created; tokens are RS256 id tokens shaped like Cognito's. ``verify``
checks what API Gateway's Cognito authorizer checks: signature, expiry, issuer, ``token_use == "id"`` and an audience
among the known app clients. ``authorizer_claims`` turns verified claims into what API Gateway (REST) puts under
``requestContext.authorizer.claims``: every value a string, ``exp``/``iat`` as dates (``Fri Jul 29 18:52:53 UTC 2016``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.local.template import TemplateDescription

ISSUER: Final = "http://127.0.0.1:3000/local"
ALGORITHM: Final = "RS256"
_RSA_KEY_BITS: Final = 2048
_DEFAULT_VALIDITY_SECONDS: Final = 3600
_API_GATEWAY_DATE_FORMAT: Final = "%a %b %d %H:%M:%S UTC %Y"

Role = Literal["citizen", "agent", "kiosk"]
ROLES: Final[tuple[str, ...]] = get_args(Role)
GROUP_OF_ROLE: Final[Mapping[str, str]] = {"agent": "agent", "kiosk": "kiosk"}  # the Cognito group of a role


class InvalidToken(Exception):  # noqa: N818 - the name the runtime's callers know it by
    """The token would be refused by API Gateway's Cognito authorizer (the message says why)."""


class LocalIssuer:
    """Mints and verifies RS256 id tokens for the app clients ``client_validity`` names (client id -> seconds)."""

    def __init__(
        self,
        client_validity: Mapping[str, int],
        *,
        issuer: str = ISSUER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not client_validity:
            raise ValueError("a local issuer needs at least one app client")
        self._client_validity = dict(client_validity)
        self._issuer = issuer
        self._clock = clock
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_KEY_BITS)
        self._public_key = self._private_key.public_key()

    @classmethod
    def from_description(cls, description: TemplateDescription, **kwargs: Any) -> LocalIssuer:
        """An issuer for the template's app clients (client id = ClientName, lifetime = IdTokenValidity)."""
        validity = {client.client_id: client.id_token_validity_seconds for client in description.app_clients.values()}
        return cls(validity, **kwargs)

    @property
    def issuer(self) -> str:
        """The ``iss`` of the tokens."""
        return self._issuer

    @property
    def client_ids(self) -> tuple[str, ...]:
        """The app client ids (token audiences) this issuer knows."""
        return tuple(self._client_validity)

    def expires_in(self, client: str) -> int:
        """Lifetime in seconds of a token for ``client``."""
        return self._client_validity.get(client, _DEFAULT_VALIDITY_SECONDS)

    def mint(
        self,
        role: Role,
        sub: str,
        client: str,
        departments: Iterable[str] = (),
        email: str | None = None,
    ) -> str:
        """A signed id token for ``sub`` with ``role`` through app client ``client``.

        Citizens carry their NRN in ``custom:nrn`` (their ``sub``) and no group; agents and kiosks carry their role
        in ``cognito:groups``; agents their departments in ``custom:departments`` (comma-separated).
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if client not in self._client_validity:
            raise ValueError(f"client must be one of {', '.join(self._client_validity)}, got {client!r}")
        if not sub:
            raise ValueError("sub must not be empty")
        department_list = [department for department in departments if department]
        if any("," in department for department in department_list):
            raise ValueError("a department name cannot contain a comma")
        now = int(self._clock())
        claims: dict[str, Any] = {
            "sub": sub,
            "aud": client,
            "iss": self._issuer,
            "token_use": "id",
            "iat": now,
            "auth_time": now,
            "exp": now + self._client_validity[client],
        }
        if email:
            claims["email"] = email
            claims["email_verified"] = True  # addresses from the simulated register count as verified
        if role in GROUP_OF_ROLE:
            claims["cognito:groups"] = [GROUP_OF_ROLE[role]]
        if role == "citizen":
            claims["custom:nrn"] = sub
        if role == "agent" and department_list:
            claims["custom:departments"] = ",".join(department_list)
        return jwt.encode(claims, self._private_key, algorithm=ALGORITHM)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of ``token`` when API Gateway's Cognito authorizer would accept it; raise InvalidToken."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                audience=list(self._client_validity),
                issuer=self._issuer,
                # Time is checked below against this issuer's clock (which tests can move), not pyjwt's.
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"], "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        expires_at = claims["exp"]
        if not isinstance(expires_at, int) or expires_at <= self._clock():
            raise InvalidToken("Signature has expired")
        if claims.get("token_use") != "id":
            raise InvalidToken("token_use must be 'id'")
        return claims


def authorizer_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims the way API Gateway REST hands them to the integration: strings only.

    ``exp`` and ``iat`` become dates like ``Fri Jul 29 18:52:53 UTC 2016``; lists (``cognito:groups``) are joined
    with commas; everything else is ``str()``-ed.
    """
    result: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat"):
            result[name] = datetime.fromtimestamp(int(value), tz=UTC).strftime(_API_GATEWAY_DATE_FORMAT)
        elif isinstance(value, list):
            result[name] = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            result[name] = "true" if value else "false"
        else:
            result[name] = str(value)
    return result
