"""The agents' directory on Cognito (moto), in the agents' user pool built from template.yaml: an agent is an enabled
user of the pool in the ``agent`` group, found by the ``sub`` their tokens carry, with their ``custom:departments``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local.template import REGION, describe
from infra.local.users import provision_user_pools
from omnicity.adapters.agents import CognitoAgentDirectory
from omnicity.domain.errors import ConfigurationError, TransientError
from tests.conftest import TEMPLATE

DESCRIPTION = describe(TEMPLATE)
AGENTS_POOL = DESCRIPTION.functions["ApiFunction"].environment["AGENTS_USER_POOL_ID"]


@pytest.fixture(scope="module")
def cognito() -> Iterator[Any]:
    """moto's Cognito with the template's user pools and groups (each test creates users of its own names)."""
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with mock.patch.dict(os.environ, credentials), mock_aws():
        provision_user_pools(DESCRIPTION, region=REGION)
        yield boto3.client("cognito-idp", region_name=REGION)


def create_agent(cognito: Any, username: str, departments: str | None, *, groups: tuple[str, ...] = ("agent",)) -> str:
    """An agent as the city's IT creates one; returns the id their tokens carry (their sub)."""
    attributes = [] if departments is None else [{"Name": "custom:departments", "Value": departments}]
    created = cognito.admin_create_user(
        UserPoolId=AGENTS_POOL, Username=username, MessageAction="SUPPRESS", UserAttributes=attributes
    )
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=AGENTS_POOL, Username=username, GroupName=group)
    return str(next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub"))


def test_an_agent_is_found_by_the_id_their_tokens_carry_with_their_departments(cognito: Any) -> None:
    # Given Marie, created by the city's IT in the agents' pool: population and civil status
    sub = create_agent(cognito, "marie.dupont", "population, civil_status")
    # When the directory is asked about the id her tokens carry (her sub, not her username)
    directory = CognitoAgentDirectory(AGENTS_POOL, client=cognito)
    # Then it knows her departments; her username is no agent id
    assert directory.departments_of(sub) == frozenset({"population", "civil_status"})
    assert directory.departments_of("marie.dupont") is None


def test_a_federated_agent_whose_username_is_the_providers_is_found_by_their_sub(cognito: Any) -> None:
    # Given an agent signed in through the city's provider: Cognito names them after it, their sub is their id
    sub = create_agent(cognito, "CityIdP_4f2a9c", "cleanliness")
    # When / Then the directory finds them by the sub
    assert CognitoAgentDirectory(AGENTS_POOL, client=cognito).departments_of(sub) == frozenset({"cleanliness"})


def test_who_is_not_an_agent_is_unknown(cognito: Any) -> None:
    # Given a user outside the agent group, a disabled agent, an agent without departments
    outsider = create_agent(cognito, "contractor", "population", groups=())
    departed = create_agent(cognito, "former.agent", "population")
    cognito.admin_disable_user(UserPoolId=AGENTS_POOL, Username="former.agent")
    newcomer = create_agent(cognito, "newcomer", None)
    directory = CognitoAgentDirectory(AGENTS_POOL, client=cognito)
    # When the directory is asked / Then only the newcomer is an agent (of no department yet)
    assert directory.departments_of(outsider) is None
    assert directory.departments_of(departed) is None
    assert directory.departments_of(newcomer) == frozenset()
    assert directory.departments_of("00000000-0000-0000-0000-000000000000") is None


def test_the_template_gives_the_api_the_agents_pool_not_the_citizens(cognito: Any) -> None:
    # Given a kiosk device in the citizens' pool (its kiosk group), and the pool the API is given
    citizens_pool = DESCRIPTION.user_pools["UserPool"].pool_id
    created = cognito.admin_create_user(UserPoolId=citizens_pool, Username="kiosk-1", MessageAction="SUPPRESS")
    cognito.admin_add_user_to_group(UserPoolId=citizens_pool, Username="kiosk-1", GroupName="kiosk")
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    # Then the API's pool is the one whose group is agent; the kiosk is nobody there
    assert DESCRIPTION.user_pools["AgentUserPool"].pool_id == AGENTS_POOL
    assert "agent" in DESCRIPTION.user_pools["AgentUserPool"].groups
    assert CognitoAgentDirectory(AGENTS_POOL, client=cognito).departments_of(sub) is None


class Refusing:
    """A Cognito client that answers every call with one error code (or fails the test if called at all)."""

    def __init__(self, code: str | None) -> None:
        self.code = code

    def list_users(self, **_: Any) -> dict[str, Any]:
        if self.code is None:
            pytest.fail("the directory called Cognito")
        raise ClientError({"Error": {"Code": self.code, "Message": "from Cognito"}}, "ListUsers")


@pytest.mark.parametrize("agent_id", ['a" or sub ^= "', "a\\", "", "x" * 200])
def test_an_id_that_could_not_be_a_sub_is_nobody_without_asking_cognito(agent_id: str) -> None:
    # Given ids that would break out of the filter's quotes (or no id) / Then nobody, and Cognito is not called
    assert CognitoAgentDirectory("eu-west-1_pool", client=Refusing(None)).departments_of(agent_id) is None


@pytest.mark.parametrize("code", ["TooManyRequestsException", "InternalErrorException"])
def test_cognito_briefly_unavailable_is_a_transient_error(code: str) -> None:
    with pytest.raises(TransientError):
        CognitoAgentDirectory("eu-west-1_pool", client=Refusing(code)).departments_of("agent-007")


def test_a_pool_that_does_not_exist_is_a_configuration_error(cognito: Any) -> None:
    with pytest.raises(ConfigurationError, match="eu-west-1_gone"):
        CognitoAgentDirectory("eu-west-1_gone", client=cognito).departments_of("agent-007")


def test_an_access_denied_is_not_hidden(cognito: Any) -> None:
    # Given a function without the IAM permission (a deployment error) / Then the error surfaces as it is
    with pytest.raises(ClientError):
        CognitoAgentDirectory("eu-west-1_pool", client=Refusing("AccessDeniedException")).departments_of("agent-7")
