"""Who the agents are: the directory the desk asks before it hands a task to someone.

A task handed to an id that is no agent of its department would be nobody's for good: every agent gets 409 on it, the
case fails at its deadline with the task still queued. So the desk hands a task only to an agent the platform knows,
of the task's department, and asks this directory who that is.

- ``AgentDirectory`` is the port: ``departments_of(agent_id)`` gives the departments of the agent whose tokens carry
  ``agent_id`` as their ``sub`` (the id tasks are claimed under), or None when no such agent can sign in.
- ``CognitoAgentDirectory`` reads the agents' user pool: an agent is an enabled user of the pool in its ``agent``
  group (what ``omnicity.domain.identity`` requires of an agent's token), whose departments are its
  ``custom:departments`` attribute (comma-separated, as the token carries it). Two calls: ``ListUsers`` filtered on
  ``sub`` (the one search that finds local and federated users alike: a federated user's username is not their
  ``sub``), then ``AdminListGroupsForUser``. The local runtime provisions the same pool in moto and signs in there the
  agents it mints tokens for (``infra/local/users.py``), so the same adapter runs locally.
"""

from __future__ import annotations

import re
from typing import Any, Final, Protocol

from omnicity import aws
from omnicity.domain.errors import ConfigurationError, TransientError

AGENT_GROUP: Final = "agent"  # the Cognito group that makes a user an agent (omnicity.domain.identity)
DEPARTMENTS_ATTRIBUTE: Final = "custom:departments"
# A ListUsers filter quotes its value: an id that could end the quote (or escape it) is no agent's. Cognito's subs
# are UUIDs; the local runtime's are readable ids (agent-007). Both fit.
_LOOKUP_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$")
# Cognito's own "try again" answer (the generic throttling codes are already transient in omnicity.aws).
_COGNITO_TRANSIENT: Final = frozenset({"InternalErrorException"})


class AgentDirectory(Protocol):
    """The agents the platform knows, by the id their tokens carry."""

    def departments_of(self, agent_id: str) -> frozenset[str] | None:
        """The departments of agent ``agent_id`` (possibly none); None when no agent has this id."""
        ...


class CognitoAgentDirectory:
    """The agents of a Cognito user pool (the agents' pool of template.yaml, ``AGENTS_USER_POOL_ID``)."""

    def __init__(self, user_pool_id: str, client: Any | None = None) -> None:
        if not user_pool_id:
            raise ConfigurationError("the agents' directory needs the agents' user pool id")
        self._pool = user_pool_id
        self._client = client

    def departments_of(self, agent_id: str) -> frozenset[str] | None:
        if not _LOOKUP_ID.fullmatch(agent_id):
            return None
        client = self._client or aws.client("cognito-idp")
        users = self._call(
            "list_users", client.list_users, UserPoolId=self._pool, Filter=f'sub = "{agent_id}"', Limit=1
        )["Users"]
        if not users:
            return None
        user = users[0]
        if not user.get("Enabled", False) or not self._in_agent_group(client, str(user["Username"])):
            return None
        attributes = {attribute["Name"]: attribute.get("Value", "") for attribute in user.get("Attributes", [])}
        return departments(attributes.get(DEPARTMENTS_ATTRIBUTE, ""))

    def _in_agent_group(self, client: Any, username: str) -> bool:
        token: str | None = None
        while True:
            page = self._call(
                "admin_list_groups_for_user",
                client.admin_list_groups_for_user,
                UserPoolId=self._pool,
                Username=username,
                Limit=60,
                **({"NextToken": token} if token else {}),
            )
            if any(group.get("GroupName") == AGENT_GROUP for group in page.get("Groups", [])):
                return True
            token = page.get("NextToken")
            if not token:
                return False

    def _call(self, name: str, operation: Any, **arguments: Any) -> dict[str, Any]:
        """One Cognito call: transient failures become TransientError (503, retried by callers), a missing pool a
        ConfigurationError (the deployment names a pool that does not exist), a user gone meanwhile no groups."""
        from botocore.exceptions import ClientError

        try:
            with aws.translate_errors(f"Cognito {name}"):
                result: dict[str, Any] = operation(**arguments)
                return result
        except ClientError as exc:
            code = aws.error_code(exc)
            if code in _COGNITO_TRANSIENT:
                raise TransientError(f"Cognito {name} unavailable ({code})") from exc
            if code == "ResourceNotFoundException":
                raise ConfigurationError(f"the agents' user pool {self._pool!r} does not exist") from exc
            if code == "UserNotFoundException":
                return {"Groups": []}
            raise


def departments(value: str) -> frozenset[str]:
    """The departments of a ``custom:departments`` value: names separated by commas (blanks ignored)."""
    return frozenset(part.strip() for part in value.split(",") if part.strip())
