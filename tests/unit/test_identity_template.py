"""template.yaml's identity resources hold what docs/security.md says of them, in every deployment the template allows
(with or without the citizens' identity provider, dev or prod): read from the template itself, as CloudFormation
would resolve it.

- No token of a client that can call UpdateUserAttributes may write ``custom:nrn`` or ``custom:departments``: a
  citizen would rewrite the NRN that identifies them, an agent their rights. Tokens from Cognito's sign-in API (any
  flow but a refresh) always carry the ``aws.cognito.signin.user.admin`` scope UpdateUserAttributes needs; tokens
  from the managed login carry the scopes the client allows.
- A client that federates can write every attribute its provider maps (Cognito fails the sign-in otherwise).
- Nobody signs up to a pool where a client may write those attributes (a sign-up writes what the client may write).
- The pool holding agents requires TOTP on every sign-in and enforces threat protection (the Plus plan).
- The API's authorizer takes the tokens of every client the API maps to a channel; its function may read the agents'
  directory, nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import pytest

from infra.local.template import Resolver, load_template
from tests.conftest import TEMPLATE

IDENTITY: Final = frozenset({"custom:nrn", "custom:departments"})  # who one is, what one may do
ADMIN_SCOPE: Final = "aws.cognito.signin.user.admin"
REFRESH: Final = "ALLOW_REFRESH_TOKEN_AUTH"
# Cognito's flows when a client does not set ExplicitAuthFlows (UserPoolClientType.ExplicitAuthFlows)
DEFAULT_FLOWS: Final = ("ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH")
DEPLOYMENTS: Final[Mapping[str, Mapping[str, str]]] = {
    "dev, no identity provider": {},
    "prod, no identity provider": {"Stage": "prod"},
    "prod, the federal login": {
        "Stage": "prod",
        "CitizenIdpIssuer": "https://login.example.be",
        "CitizenIdpClientId": "omnicity",
        "CitizenIdpClientSecret": "not-a-secret",
        "CitizenIdpNrnClaim": "egovNRN",
    },
}
FEDERATED: Final = "prod, the federal login"


@dataclass(frozen=True)
class Identity:
    """The Cognito resources of one deployment (resolved properties by logical id), and what the API is given."""

    pools: Mapping[str, Mapping[str, Any]]
    clients: Mapping[str, Mapping[str, Any]]
    groups: Mapping[str, Mapping[str, Any]]
    providers: Mapping[str, Mapping[str, Any]]
    api_environment: Mapping[str, str]
    authorizer_pools: tuple[str, ...]
    api_statements: tuple[Mapping[str, Any], ...]

    def client_named(self, client_id: str) -> Mapping[str, Any]:
        """The client the API is given the id of (locally, a client's id is its ClientName)."""
        return next(client for client in self.clients.values() if client["ClientName"] == client_id)


def identity(parameters: Mapping[str, str]) -> Identity:
    template = load_template(TEMPLATE)
    resolver = Resolver(template, parameters)
    resources = {lid: r for lid, r in template["Resources"].items() if resolver.exists(lid)}

    def of_type(resource_type: str) -> dict[str, Mapping[str, Any]]:
        return {
            logical_id: resolver.resolve(resource.get("Properties") or {})
            for logical_id, resource in resources.items()
            if resource["Type"] == resource_type
        }

    api = resources["ApiFunction"]["Properties"]
    authorizers = resources["OmnicityApi"]["Properties"]["Auth"]["Authorizers"]
    (authorizer,) = authorizers.values()
    arns = resolver.resolve(authorizer["UserPoolArn"])
    # the function's statements about Cognito (the others are other packages' business)
    statements = tuple(
        resolver.resolve(statement)
        for policy in api.get("Policies", [])
        if isinstance(policy, Mapping) and "Statement" in policy
        for statement in policy["Statement"]
        if any(str(action).startswith("cognito-idp:") for action in _as_list(statement.get("Action")))
    )
    return Identity(
        pools=of_type("AWS::Cognito::UserPool"),
        clients=of_type("AWS::Cognito::UserPoolClient"),
        groups=of_type("AWS::Cognito::UserPoolGroup"),
        providers=of_type("AWS::Cognito::UserPoolIdentityProvider"),
        api_environment=resolver.resolve(api["Environment"]["Variables"]),
        authorizer_pools=tuple(arn.rpartition("/")[2] for arn in _as_list(arns)),
        api_statements=statements,
    )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def can_update_own_attributes(client: Mapping[str, Any]) -> bool:
    """Whether a token of ``client`` may call UpdateUserAttributes (see the module's notes): any sign-in flow of the
    API but a refresh (a flow unknown here counts as one), or an OAuth client allowing the admin scope (or not saying
    which scopes it allows)."""
    if set(client.get("ExplicitAuthFlows", DEFAULT_FLOWS)) - {REFRESH}:
        return True
    if client.get("AllowedOAuthFlowsUserPoolClient"):
        scopes = client.get("AllowedOAuthScopes")
        return scopes is None or ADMIN_SCOPE in scopes
    return False


def writable(client: Mapping[str, Any]) -> frozenset[str] | None:
    """The attributes the client may write; None when it does not say (Cognito's default: more than none)."""
    attributes = client.get("WriteAttributes")
    return None if attributes is None else frozenset(attributes)


@pytest.fixture(scope="module", params=sorted(DEPLOYMENTS))
def deployed(request: pytest.FixtureRequest) -> Identity:
    return identity(DEPLOYMENTS[request.param])


@pytest.fixture(scope="module")
def federated() -> Identity:
    return identity(DEPLOYMENTS[FEDERATED])


def test_no_client_whose_tokens_can_update_attributes_may_write_an_nrn_or_departments(deployed: Identity) -> None:
    for logical_id, client in deployed.clients.items():
        if can_update_own_attributes(client):
            attributes = writable(client)
            assert attributes is not None, f"{logical_id}: its tokens update attributes and it may write any"
            assert not attributes & IDENTITY, f"{logical_id}: its tokens may rewrite {sorted(attributes & IDENTITY)}"


def test_a_federating_client_can_write_what_its_provider_maps(deployed: Identity) -> None:
    for logical_id, client in deployed.clients.items():
        for provider_id, provider in deployed.providers.items():
            if provider["UserPoolId"] != client["UserPoolId"]:
                continue
            if provider["ProviderName"] not in client.get("SupportedIdentityProviders", []):
                continue
            mapped = set(provider.get("AttributeMapping", {}))
            missing = mapped - (writable(client) or mapped)
            assert not missing, f"{logical_id}: {provider_id}'s sign-in would fail, it cannot write {sorted(missing)}"


def test_the_citizens_sign_in_through_the_federal_login_which_asserts_their_nrn(federated: Identity) -> None:
    # Given the deployment with the citizens' identity provider: the portal's and the kiosk's clients
    for channel in ("PORTAL_CLIENT_ID", "KIOSK_CLIENT_ID"):
        client = federated.client_named(federated.api_environment[channel])
        providers = [
            provider
            for provider in federated.providers.values()
            if provider["ProviderName"] in client.get("SupportedIdentityProviders", [])
        ]
        # Then citizens federate there, through a provider that maps the NRN, and only through the managed login
        assert any("custom:nrn" in provider["AttributeMapping"] for provider in providers), channel
        assert not can_update_own_attributes(client), channel
    # And on the portal, the provider is the only way in (no password of the pool's own)
    portal = federated.client_named(federated.api_environment["PORTAL_CLIENT_ID"])
    assert "COGNITO" not in portal["SupportedIdentityProviders"]


def test_nobody_signs_up_where_a_client_may_write_an_nrn_or_departments(deployed: Identity) -> None:
    for pool_id, pool in deployed.pools.items():
        clients = [client for client in deployed.clients.values() if client["UserPoolId"] == pool_id]
        if any((writable(client) or IDENTITY) & IDENTITY for client in clients):
            assert pool.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly") is True, pool_id


def agents_pool(deployed: Identity) -> str:
    """The pool holding the agents: the counter client's, which is also the directory's and the agent group's."""
    counter = deployed.client_named(deployed.api_environment["COUNTER_CLIENT_ID"])
    agent_groups = {group["UserPoolId"] for group in deployed.groups.values() if group["GroupName"] == "agent"}
    assert agent_groups == {counter["UserPoolId"]}
    assert deployed.api_environment["AGENTS_USER_POOL_ID"] == counter["UserPoolId"]
    return str(counter["UserPoolId"])


def test_the_pool_holding_agents_requires_totp_at_every_sign_in(deployed: Identity) -> None:
    pool = deployed.pools[agents_pool(deployed)]
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # an authenticator app: no SMS, no email code


def test_the_pool_holding_agents_enforces_threat_protection(deployed: Identity) -> None:
    pool = deployed.pools[agents_pool(deployed)]
    assert pool["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    assert pool["UserPoolTier"] == "PLUS"  # threat protection needs the Plus plan


def test_the_authorizer_takes_the_tokens_of_every_channels_client(deployed: Identity) -> None:
    for channel in ("PORTAL_CLIENT_ID", "KIOSK_CLIENT_ID", "COUNTER_CLIENT_ID"):
        client = deployed.client_named(deployed.api_environment[channel])
        assert client["UserPoolId"] in deployed.authorizer_pools, channel


def test_the_api_may_read_the_agents_directory_and_nothing_more_of_cognito(deployed: Identity) -> None:
    pool = agents_pool(deployed)
    granted = {
        (action, resource)
        for statement in deployed.api_statements
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    arn = f"arn:aws:cognito-idp:eu-west-1:123456789012:userpool/{pool}"
    assert granted == {("cognito-idp:ListUsers", arn), ("cognito-idp:AdminListGroupsForUser", arn)}
