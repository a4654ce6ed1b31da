"""From verified token claims to a principal: role, channel, national register number, departments."""

from __future__ import annotations

from typing import Any

import pytest

from omnicity.domain.errors import ForbiddenError, UnauthorizedError
from omnicity.domain.identity import principal_from_claims
from omnicity.domain.models import Channel, Role

CLIENTS = {"portal-id": Channel.PORTAL, "kiosk-id": Channel.KIOSK, "counter-id": Channel.COUNTER}
NRN = "87031413235"
PRINTED_NRN = "87.03.14-132.35"


def _citizen(aud: str = "portal-id", **changes: Any) -> dict[str, Any]:
    claims = {"sub": "c0ffee00-1111-2222-3333-444455556666", "aud": aud, "custom:nrn": PRINTED_NRN}
    return claims | {"email": "elise.exemplaire@example.be", "email_verified": "true"} | changes


def _agent(aud: str = "counter-id", **changes: Any) -> dict[str, Any]:
    claims = {
        "sub": "a9e17000-1111-2222-3333-444455556666",
        "aud": aud,
        "cognito:groups": "agent",
        "email": "agent.population@example.be",
        "custom:departments": "population,events",
    }
    return claims | changes


def _kiosk(aud: str = "kiosk-id", **changes: Any) -> dict[str, Any]:
    return {"sub": "k105k000-1111", "aud": aud, "cognito:groups": "kiosk"} | changes


# ---------------------------------------------------------------------------------------------------- citizens
def test_a_citizen_on_the_portal() -> None:
    # Given a citizen's token for the portal client, with the NRN as printed on the card
    # When the principal is built
    principal = principal_from_claims(_citizen(), CLIENTS)

    # Then it is a citizen on the portal, with the NRN normalised to 11 digits
    assert principal.role is Role.CITIZEN
    assert principal.channel is Channel.PORTAL
    assert principal.nrn == NRN
    assert principal.email == "elise.exemplaire@example.be"
    assert principal.departments == frozenset()
    assert principal.owns(NRN)
    assert not principal.owns("79051708730")


@pytest.mark.parametrize("verified", ["false", None])
def test_an_email_address_the_provider_did_not_verify_is_not_used(verified: str | None) -> None:
    # Given a token whose email the identity provider did not verify (or says nothing about)
    claims = _citizen(email="someone.else@example.org", email_verified=verified)
    if verified is None:
        del claims["email_verified"]
    # When the principal is built / Then the city will not email that address
    assert principal_from_claims(claims, CLIENTS).email is None


def test_a_citizen_on_the_kiosk() -> None:
    # Given a citizen's token for the kiosk client
    principal = principal_from_claims(_citizen(aud="kiosk-id"), CLIENTS)

    # Then it is a citizen on the kiosk
    assert principal.role is Role.CITIZEN
    assert principal.channel is Channel.KIOSK
    assert principal.nrn == NRN


@pytest.mark.parametrize(
    ("aud", "claimed"),
    [
        ("portal-id", {"channel": "counter"}),
        ("portal-id", {"custom:channel": "kiosk", "client_id": "counter-id"}),
        ("kiosk-id", {"channel": "portal", "custom:channel": "portal", "client_id": "portal-id"}),
    ],
)
def test_the_channel_comes_from_the_audience_only(aud: str, claimed: dict[str, str]) -> None:
    # Given a token whose other claims name another channel or client
    # When the principal is built
    principal = principal_from_claims(_citizen(aud=aud, **claimed), CLIENTS)

    # Then the channel is the one of the client the token was issued to
    assert principal.channel is CLIENTS[aud]


def test_an_unknown_audience_is_unauthorized() -> None:
    # Given a token issued to a client the platform does not know
    # When the principal is built / Then the caller is not authenticated
    with pytest.raises(UnauthorizedError):
        principal_from_claims(_citizen(aud="someone-else"), CLIENTS)


@pytest.mark.parametrize(
    "claims",
    [None, {}, {"aud": "portal-id", "custom:nrn": PRINTED_NRN}, _citizen(sub=""), _citizen(sub=None)],
)
def test_no_claims_or_no_subject_is_unauthorized(claims: dict[str, Any] | None) -> None:
    # Given no claims, or claims without a subject / When the principal is built / Then unauthorized
    with pytest.raises(UnauthorizedError):
        principal_from_claims(claims, CLIENTS)


@pytest.mark.parametrize("nrn", ["87.03.14-132.36", "8703141323", "not-a-number", "", None])
def test_a_citizen_without_a_valid_nrn_is_forbidden(nrn: str | None) -> None:
    # Given a citizen token whose NRN is wrong, short, garbage or absent
    # When the principal is built / Then forbidden: there is no way to know whose cases these are
    with pytest.raises(ForbiddenError):
        principal_from_claims(_citizen() | {"custom:nrn": nrn}, CLIENTS)


def test_a_citizen_cannot_use_the_counter_client() -> None:
    # Given a citizen token for the counter client / When the principal is built / Then forbidden
    with pytest.raises(ForbiddenError):
        principal_from_claims(_citizen(aud="counter-id"), CLIENTS)


# ---------------------------------------------------------------------------------------------------- agents
@pytest.mark.parametrize(
    "departments", ["population,events", "population, events", "[population events]", ["population", "events"]]
)
def test_an_agent_at_the_counter_with_departments(departments: str | list[str]) -> None:
    # Given an agent's token, departments given as a string or as a list
    # When the principal is built
    principal = principal_from_claims(_agent() | {"custom:departments": departments}, CLIENTS)

    # Then it is an agent at the counter with those departments, and no NRN
    assert principal.role is Role.AGENT
    assert principal.channel is Channel.COUNTER
    assert principal.departments == frozenset({"population", "events"})
    assert isinstance(principal.departments, frozenset)
    assert principal.nrn is None


@pytest.mark.parametrize("groups", ["[agent]", "agent", ["agent"], "[citizens agent]", "citizens,agent"])
def test_agent_group_forms(groups: str | list[str]) -> None:
    # Given the agent group as API Gateway or another caller writes it
    principal = principal_from_claims(_agent() | {"cognito:groups": groups}, CLIENTS)

    # Then the caller is an agent
    assert principal.role is Role.AGENT


def test_a_group_that_merely_contains_the_word_agent_is_not_agent() -> None:
    # Given a group named like but not equal to "agent", on the portal with a citizen NRN
    principal = principal_from_claims(_citizen() | {"cognito:groups": "[agents travel-agent]"}, CLIENTS)

    # Then the caller is a citizen
    assert principal.role is Role.CITIZEN


@pytest.mark.parametrize("aud", ["portal-id", "kiosk-id"])
def test_an_agent_cannot_use_a_citizen_client(aud: str) -> None:
    # Given an agent token issued to the portal or the kiosk client / Then forbidden
    with pytest.raises(ForbiddenError):
        principal_from_claims(_agent(aud=aud), CLIENTS)


def test_departments_are_ignored_for_citizens() -> None:
    # Given a citizen token that carries a departments claim
    principal = principal_from_claims(_citizen() | {"custom:departments": "population"}, CLIENTS)

    # Then the citizen gets no department
    assert principal.departments == frozenset()


# ---------------------------------------------------------------------------------------------------- kiosks
def test_a_kiosk_device_on_the_kiosk_client() -> None:
    # Given a kiosk device's token for the kiosk client
    principal = principal_from_claims(_kiosk(), CLIENTS)

    # Then it is a kiosk on the kiosk channel, with no NRN
    assert principal.role is Role.KIOSK
    assert principal.channel is Channel.KIOSK
    assert principal.nrn is None


@pytest.mark.parametrize("aud", ["portal-id", "counter-id"])
def test_a_kiosk_device_cannot_use_another_client(aud: str) -> None:
    # Given a kiosk device's token for the portal or the counter / Then forbidden
    with pytest.raises(ForbiddenError):
        principal_from_claims(_kiosk(aud=aud), CLIENTS)


# ---------------------------------------------------------------------------------------------------- actor
@pytest.mark.parametrize("claims", [_citizen(), _citizen(aud="kiosk-id"), _agent(), _kiosk()])
def test_the_actor_name_holds_no_personal_data(claims: dict[str, Any]) -> None:
    # Given any principal
    principal = principal_from_claims(claims, CLIENTS)

    # Then its name on a timeline has neither its NRN (in any form) nor its email
    assert NRN not in principal.actor
    assert PRINTED_NRN not in principal.actor
    assert "@" not in principal.actor
    assert principal.actor.startswith(principal.role.value)


def test_a_citizen_is_named_citizen() -> None:
    # Given two different citizens
    other = _citizen(sub="other-sub", **{"custom:nrn": "79051708730"})

    # Then both are named "citizen" on a timeline: nothing that identifies them
    assert principal_from_claims(_citizen(), CLIENTS).actor == "citizen"
    assert principal_from_claims(other, CLIENTS).actor == "citizen"


def test_agents_are_told_apart_by_their_opaque_subject() -> None:
    # Given two agents
    first = principal_from_claims(_agent(), CLIENTS)
    second = principal_from_claims(_agent(sub="b0b00000-1111"), CLIENTS)

    # Then their timeline names differ, so an agent's action can be traced
    assert first.actor != second.actor
    assert "b0b00000-1111" in second.actor
