"""Create the template's resources with plain boto3 clients.

The clients follow the environment, so the same code provisions under ``moto.mock_aws`` (in-process) and against a
moto server (``AWS_ENDPOINT_URL``). Tables are built from the template's own ``Properties``: tests never copy a
schema by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import boto3

from infra.local.template import ACCOUNT_ID, PARTITION, KeySpec, ParameterSpec, TableSpec, TemplateDescription
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


# KMS key properties create_key takes (KeyPolicy as its Policy), and those with no local meaning: rotation, the
# deletion window, tags.
_CREATE_KEY_PROPERTIES: Final = {"KeySpec": "KeySpec", "KeyUsage": "KeyUsage", "Description": "Description"}
_IGNORED_KEY_PROPERTIES: Final = frozenset(
    {"EnableKeyRotation", "RotationPeriodInDays", "PendingWindowInDays", "Tags", "BypassPolicyLockoutSafetyCheck"}
)
# SSM parameter properties put_parameter takes as written, and those with no local meaning.
_PUT_PARAMETER_PROPERTIES: Final = ("Name", "Type", "Value", "Tier", "Description", "AllowedPattern", "DataType")
_IGNORED_PARAMETER_PROPERTIES: Final = frozenset({"Tags", "Policies"})


class ProvisionError(RuntimeError):
    """A template resource cannot be created locally as written."""


def provision(description: TemplateDescription, *, region: str) -> None:
    """Create every table, bucket, SES sender identity, user pool (``infra.local.users``), KMS key (with its aliases),
    SSM parameter and state machine of ``description`` in ``region``."""
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

    if description.keys:
        kms = boto3.client("kms", region_name=region)
        key_ids = {logical_id: create_key(kms, key) for logical_id, key in description.keys.items()}
        for alias in description.key_aliases.values():
            kms.create_alias(AliasName=alias.name, TargetKeyId=key_ids[alias.target_key])

    if description.ssm_parameters:
        ssm = boto3.client("ssm", region_name=region)
        for parameter in description.ssm_parameters.values():
            put_parameter(ssm, parameter)

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
    _refuse_unknown(
        f"table {table.logical_id}",
        table.properties,
        {*_CREATE_TABLE_PROPERTIES, "TimeToLiveSpecification"},
        _IGNORED_TABLE_PROPERTIES,
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


def create_key(client: Any, key: KeySpec) -> str:
    """Create ``key`` from its template Properties; its id (KMS draws it)."""
    _refuse_unknown(
        f"KMS key {key.logical_id}", key.properties, {*_CREATE_KEY_PROPERTIES, "KeyPolicy"}, _IGNORED_KEY_PROPERTIES
    )
    arguments = {name: key.properties[prop] for prop, name in _CREATE_KEY_PROPERTIES.items() if prop in key.properties}
    if "KeyPolicy" in key.properties:
        arguments["Policy"] = json.dumps(key.properties["KeyPolicy"])
    key_id: str = client.create_key(**arguments)["KeyMetadata"]["KeyId"]
    return key_id


def put_parameter(client: Any, parameter: ParameterSpec) -> None:
    """Create ``parameter`` from its template Properties (under the name the functions are given)."""
    _refuse_unknown(
        f"SSM parameter {parameter.logical_id}",
        parameter.properties,
        set(_PUT_PARAMETER_PROPERTIES),
        _IGNORED_PARAMETER_PROPERTIES,
    )
    arguments = {name: parameter.properties[name] for name in _PUT_PARAMETER_PROPERTIES if name in parameter.properties}
    client.put_parameter(**{**arguments, "Name": parameter.name})


def _refuse_unknown(what: str, properties: Mapping[str, Any], applied: set[str], ignored: frozenset[str]) -> None:
    """ProvisionError naming ``what``'s template properties the runtime neither applies nor knows to ignore."""
    unknown = sorted(set(properties) - applied - ignored)
    if unknown:
        raise ProvisionError(
            f"{what}: the local runtime does not know how to apply {', '.join(unknown)}; "
            "teach infra/local/provision.py to apply or ignore it"
        )
