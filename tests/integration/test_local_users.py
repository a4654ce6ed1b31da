"""The local runtime's user pools (infra/local/users.py): the template's pools and groups exist in moto under the ids
the functions are given, and a token ``POST /local/token`` mints for an agent signs the agent in to the agents' pool,
with the token's departments, where the API's directory finds them."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime
from omnicity.adapters.agents import CognitoAgentDirectory
from tests.conftest import ELISE, Api


@pytest.fixture(scope="module")
def cognito(runtime: LocalRuntime) -> Any:
    return boto3.client("cognito-idp")


@pytest.fixture(scope="module")
def directory(runtime: LocalRuntime, cognito: Any) -> CognitoAgentDirectory:
    """The API's directory, on the pool the template gives the API function."""
    return CognitoAgentDirectory(
        runtime.description.functions["ApiFunction"].environment["AGENTS_USER_POOL_ID"], cognito
    )


def test_the_templates_pools_and_groups_exist_under_their_template_ids(runtime: LocalRuntime, cognito: Any) -> None:
    for pool in runtime.description.user_pools.values():
        described = cognito.describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]
        assert described["Id"] == pool.pool_id
        groups = cognito.list_groups(UserPoolId=pool.pool_id)["Groups"]
        assert sorted(group["GroupName"] for group in groups) == sorted(pool.groups)
    assert {pool.logical_id: pool.groups for pool in runtime.description.user_pools.values()} == {
        "UserPool": ("kiosk",),
        "AgentUserPool": ("agent",),
    }


def test_an_agents_token_signs_them_in_with_its_departments(api: Api, directory: CognitoAgentDirectory) -> None:
    # Given no token minted yet for agent-301: the directory does not know them
    assert directory.departments_of("agent-301") is None
    # When a token is minted for them at the counter, then another one with other departments
    api.token("agent-301", role="agent", client="counter", departments=["population", "events"])
    first = directory.departments_of("agent-301")
    api.token("agent-301", role="agent", client="counter", departments=["cleanliness"])
    # Then the directory knows them, with the departments of their latest token
    assert first == frozenset({"population", "events"})
    assert directory.departments_of("agent-301") == frozenset({"cleanliness"})


def test_tokens_of_other_kinds_sign_no_agent_in(
    api: Api, runtime: LocalRuntime, cognito: Any, directory: CognitoAgentDirectory
) -> None:
    # Given an agent's token for the portal (its pool has no agent group), a citizen's and a kiosk device's
    api.token("agent-302", role="agent", client="portal", departments=["population"])
    api.token(ELISE)
    api.token("kiosk-grand-place-9", role="kiosk", client="kiosk")
    # Then none of them is an agent; the kiosk device is a user of the citizens' pool, in the kiosk group
    assert directory.departments_of("agent-302") is None
    assert directory.departments_of(ELISE) is None
    assert directory.departments_of("kiosk-grand-place-9") is None
    citizens = runtime.description.user_pools["UserPool"].pool_id
    groups = cognito.admin_list_groups_for_user(UserPoolId=citizens, Username="kiosk-grand-place-9")["Groups"]
    assert [group["GroupName"] for group in groups] == ["kiosk"]
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=citizens, Username=ELISE)
