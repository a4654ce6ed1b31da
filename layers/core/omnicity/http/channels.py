"""Who makes a request, and on which channel: from the app client its token was issued to.

Each channel (portal, kiosk, counter) signs in through its own Cognito app client, and API Gateway's authorizer hands
over the verified claims of the token, which name that client. So the channel of a request, and of any case it
makes, is the token's client, never something the request says of itself; a token of any other client is refused
(``omnicity.domain.identity.principal_from_claims``, which also checks that the role may use the channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from omnicity.domain.identity import Principal, principal_from_claims
from omnicity.domain.models import Channel

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from omnicity.config import ApiSettings


def client_channels(settings: ApiSettings) -> Mapping[str, Channel]:
    """Each channel's app client id (from the settings) with its channel."""
    return MappingProxyType(
        {
            settings.portal_client_id: Channel.PORTAL,
            settings.kiosk_client_id: Channel.KIOSK,
            settings.counter_client_id: Channel.COUNTER,
        }
    )


def principal_of(event: APIGatewayProxyEvent, clients: Mapping[str, Channel]) -> Principal:
    """The caller of ``event`` as the authorizer's claims say, on the channel of their client (``clients``); a 401
    without usable claims or for another client, a 403 for a role the channel is not for."""
    authorizer = event.request_context.authorizer
    return principal_from_claims(authorizer.claims if authorizer else None, clients)
