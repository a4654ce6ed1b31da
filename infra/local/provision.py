"""Create the template's resources with plain boto3 clients.

The clients follow the environment, so the same code provisions under ``moto.mock_aws`` (in-process) and against a
moto server (``AWS_ENDPOINT_URL``). Tables are built from the template's own ``Properties``: tests never copy a
schema by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import boto3

from infra.local.template import ACCOUNT_ID, PARTITION, TableSpec, TemplateDescription
from infra.local.users import provision_user_pools

STATES_ROLE_ARN: Final = f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/omnicity-local-states"

# Table properties create_table takes as they are written in the template.
_CREATE_TABLE_PROPERTIES: Final = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)
# Properties with no local meaning (durability, encryption, protection, tags): deliberately not applied.
_IGNORED_TABLE_PROPERTIES: Final = frozenset(
    {
        "PointInTimeRecoverySpecification",
        "SSESpecification",
        "DeletionProtectionEnabled",
        "ContributorInsightsSpecification",
        "TableClass",
        "Tags",
        "TableName",
        "KinesisStreamSpecification",
        "ResourcePolicy",
        "OnDemandThroughput",
        "WarmThroughput",
    }
)


class ProvisionError(RuntimeError):
    """A template resource cannot be created locally as written."""


def provision(description: TemplateDescription, *, region: str) -> None:
    """Create every table, bucket, SES sender identity, user pool (``infra.local.users``) and state machine of
    ``description`` in ``region``."""
    dynamodb = boto3.client("dynamodb", region_name=region)
    for table in description.tables.values():
        create_table(dynamodb, table)

    s3 = boto3.client("s3", region_name=region)
    for bucket in description.buckets.values():
        create_bucket_kwargs: dict[str, Any] = {"Bucket": bucket.name}
        if region != "us-east-1":
            create_bucket_kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**create_bucket_kwargs)
        versioning = bucket.properties.get("VersioningConfiguration")
        if isinstance(versioning, Mapping) and "Status" in versioning:
            s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": versioning["Status"]})

    if description.ses_senders:
        ses = boto3.client("ses", region_name=region)
        for sender in description.ses_senders:
            ses.verify_email_identity(EmailAddress=sender)

    provision_user_pools(description, region=region)

    stepfunctions = boto3.client("stepfunctions", region_name=region)
    for state_machine in description.state_machines.values():
        stepfunctions.create_state_machine(
            name=state_machine.name,
            definition=state_machine.definition,
            roleArn=STATES_ROLE_ARN,
            type=state_machine.type,
        )


def create_table(client: Any, table: TableSpec) -> None:
    """Create ``table`` from its template Properties (and apply its TimeToLiveSpecification, if any)."""
    unknown = sorted(
        set(table.properties) - set(_CREATE_TABLE_PROPERTIES) - _IGNORED_TABLE_PROPERTIES - {"TimeToLiveSpecification"}
    )
    if unknown:
        raise ProvisionError(
            f"table {table.logical_id}: the local runtime does not know how to apply {', '.join(unknown)}; "
            "teach infra/local/provision.py to apply or ignore it"
        )
    arguments: dict[str, Any] = {"TableName": table.name}
    arguments.update({key: table.properties[key] for key in _CREATE_TABLE_PROPERTIES if key in table.properties})
    client.create_table(**arguments)
    ttl = table.properties.get("TimeToLiveSpecification")
    if isinstance(ttl, Mapping) and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=table.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
