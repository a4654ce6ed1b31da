"""The template's Cognito user pools in moto, and the users the local token issuer signs in to them.

On AWS the agents live in the agents' user pool, where the API's directory
(``omnicity.adapters.agents.CognitoAgentDirectory``) looks them up before a task is handed to one of them. Locally the
same adapter runs against moto:

- ``provision_user_pools`` creates each ``AWS::Cognito::UserPool`` of the template under the id the template resolves
  locally (its logical id: what ``!Ref`` gives the functions' environment, e.g. ``AGENTS_USER_POOL_ID``), with its
  ``Schema``, and each of its ``AWS::Cognito::UserPoolGroup`` groups. moto draws pool ids at random: the pool is
  moved to the template's id in moto's backend, the one thing here that is not a plain boto3 call. Other properties
  (MFA, threat protection, tier, password policy) have no local meaning: local sign-in is ``POST /local/token``.
- ``LocalUserPools.sign_in`` is what a sign-in leaves in a pool, for the users the platform looks up: minting a token
  for an agent (or a kiosk device) through a client makes them a user of the client's pool (created the first time,
  under the token's ``sub``, which moto lets the local world choose; Cognito generates it on AWS), in their role's
  group when the pool has it, an agent with the departments of the token (the last token minted wins, as a federated
  sign-in updates mapped attributes). So the directory knows locally exactly the agents a token was minted for, with
  their departments. A token through a client whose pool lacks the role's group (an agent's token for the portal)
  signs nobody in. Citizens are not kept: nothing looks them up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import boto3

from infra.local.template import ACCOUNT_ID, PARTITION, TemplateDescription, UserPoolSpec
from infra.local.tokens import GROUP_OF_ROLE

DEPARTMENTS_ATTRIBUTE: Final = "custom:departments"
# The properties create_user_pool is given as the template writes them (the rest has no local meaning).
_CREATE_POOL_PROPERTIES: Final = ("Schema", "AdminCreateUserConfig")


def provision_user_pools(description: TemplateDescription, *, region: str) -> None:
    """Create every user pool of ``description`` (under its template id) and its groups, in moto."""
    if not description.user_pools:
        return
    client = boto3.client("cognito-idp", region_name=region)
    for pool in description.user_pools.values():
        _create_pool(client, pool, region)
        for group in pool.groups:
            client.create_group(UserPoolId=pool.pool_id, GroupName=group)


def _create_pool(client: Any, pool: UserPoolSpec, region: str) -> None:
    from moto.cognitoidp.models import cognitoidp_backends

    arguments: dict[str, Any] = {"PoolName": str(pool.properties.get("UserPoolName") or pool.logical_id)}
    arguments.update({key: pool.properties[key] for key in _CREATE_POOL_PROPERTIES if key in pool.properties})
    created = client.create_user_pool(**arguments)["UserPool"]["Id"]
    backend = cognitoidp_backends[ACCOUNT_ID][region]
    moved = backend.user_pools.pop(created)
    moved.id = pool.pool_id
    moved.arn = f"arn:{PARTITION}:cognito-idp:{region}:{ACCOUNT_ID}:userpool/{pool.pool_id}"
    backend.user_pools[pool.pool_id] = moved


class LocalUserPools:
    """Signs the users of minted tokens in to the template's user pools (see the module's docstring)."""

    def __init__(self, description: TemplateDescription, *, region: str) -> None:
        self._pool_of_client = {spec.client_id: spec.user_pool_id for spec in description.app_clients.values()}
        self._groups = {pool.pool_id: frozenset(pool.groups) for pool in description.user_pools.values()}
        self._region = region
        self._client: Any = None

    def sign_in(self, role: str, sub: str, client: str, departments: Sequence[str] = ()) -> bool:
        """Make ``sub`` a user of ``client``'s pool in ``role``'s group (an agent with ``departments``); False when
        the pool keeps no such user (no group for the role there, or a citizen)."""
        pool_id = self._pool_of_client.get(client)
        group = GROUP_OF_ROLE.get(role)
        if pool_id is None or group is None or group not in self._groups.get(pool_id, frozenset()):
            return False
        attributes = [{"Name": DEPARTMENTS_ATTRIBUTE, "Value": ",".join(departments)}] if role == "agent" else []
        cognito = self._cognito()
        try:
            cognito.admin_create_user(
                UserPoolId=pool_id, Username=sub, MessageAction="SUPPRESS", UserAttributes=attributes
            )
            # the token names the user by this sub: so does the pool (moto lets the local world choose it)
            cognito.admin_update_user_attributes(
                UserPoolId=pool_id, Username=sub, UserAttributes=[{"Name": "sub", "Value": sub}]
            )
        except cognito.exceptions.UsernameExistsException:
            if attributes:
                cognito.admin_update_user_attributes(UserPoolId=pool_id, Username=sub, UserAttributes=attributes)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=sub, GroupName=group)
        return True

    def _cognito(self) -> Any:
        if self._client is None:
            self._client = boto3.client("cognito-idp", region_name=self._region)
        return self._client
