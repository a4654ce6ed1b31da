"""template.yaml's grants on the documents bucket: each role gets exactly the S3 actions its code uses on exactly the
key prefixes it uses (a presigned URL or POST is signed with the function's role, so the role must hold what the URL
does), never a SAM S3 policy template, a wildcard, nor an action on the bucket's own settings: a role that could
rewrite the lifecycle rules could shorten or end the documents' retention."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import pytest

from infra.local.template import Resolver, load_template
from tests.conftest import TEMPLATE

DOCUMENT_TEMPLATE: Final = load_template(TEMPLATE)
RESOLVER: Final = Resolver(DOCUMENT_TEMPLATE)
BUCKET_ARN: Final = str(RESOLVER.get_att("DocumentsBucket", "Arn"))
BUCKET: Final = "(the bucket)"
ROLE_TYPES: Final = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")

# What the code does with S3, function by function (the grant a presigned URL needs is its signer's):
# - ApiFunction: presigned GET of issued documents (cases/), presigned POST of photos (uploads/), HeadObject and a
#   ranged GET of an upload's first bytes before a form or an answer references it; ListBucket so that a key nobody
#   uploaded is a 404 and not a 403.
# - Open311Function: presigned GET of an alert's first published photo (media_url).
# - RenderDocumentFunction: PutObject of the PDF with its retention-days tag; HeadObject (a GetObject grant) of a
#   document an earlier attempt stored first, for its digest (a sealed document differs at each sealing).
EXPECTED: Final[dict[str, set[tuple[str, str]]]] = {
    "ApiFunction": {
        ("s3:GetObject", "cases/*"),
        ("s3:PutObject", "uploads/*"),
        ("s3:GetObject", "uploads/*"),
        ("s3:ListBucket", BUCKET),
    },
    "Open311Function": {("s3:GetObject", "uploads/*")},
    "RenderDocumentFunction": {
        ("s3:PutObject", "cases/*"),
        ("s3:PutObjectTagging", "cases/*"),
        ("s3:GetObject", "cases/*"),
    },
}
FORBIDDEN_ACTIONS: Final = {"*", "s3:*", "s3:putobjectacl", "s3:putobjectversionacl", "s3:putlifecycleconfiguration"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def roles() -> dict[str, list[Any]]:
    """Every resource SAM makes a role for, with its ``Policies``."""
    return {
        logical_id: as_list((resource.get("Properties") or {}).get("Policies") or [])
        for logical_id, resource in DOCUMENT_TEMPLATE["Resources"].items()
        if resource.get("Type") in ROLE_TYPES
    }


def statements(policies: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    for policy in policies:
        if isinstance(policy, Mapping) and "Statement" in policy:
            yield from as_list(policy["Statement"])


def offences(policies: list[Any]) -> list[str]:
    """What in these SAM ``Policies`` could touch the bucket beyond objects, or more than the template can tell."""
    found = []
    for policy in policies:
        if isinstance(policy, str) and "s3" in policy.lower():
            found.append(f"managed policy {policy}")
        elif isinstance(policy, Mapping):
            found += [f"SAM policy template {name}" for name in policy if "s3" in name.lower()]
    for statement in statements(policies):
        if statement.get("Effect") == "Allow" and "NotAction" in statement:
            found.append(f"Allow with NotAction {statement['NotAction']}")
        for action in as_list(statement.get("Action", [])):
            name = str(action).lower()
            if name in FORBIDDEN_ACTIONS or name.startswith("s3:putbucket") or (name.startswith("s3:") and "*" in name):
                found.append(f"action {action}")
    return found


def s3_grants(policies: list[Any]) -> set[tuple[str, str]]:
    """(action, key pattern) pairs the statements allow on the documents bucket (BUCKET for the bucket itself)."""
    grants = set()
    for statement in statements(policies):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(action) for action in as_list(statement.get("Action", [])) if str(action).startswith("s3:")]
        for resource in as_list(RESOLVER.resolve(statement.get("Resource", []))):
            if resource == BUCKET_ARN:
                grants |= {(action, BUCKET) for action in actions}
            elif str(resource).startswith(BUCKET_ARN + "/"):
                grants |= {(action, str(resource)[len(BUCKET_ARN) + 1 :]) for action in actions}
            else:
                grants |= {(action, str(resource)) for action in actions}
    return grants


def test_no_role_may_touch_the_buckets_settings_or_take_a_sam_s3_template() -> None:
    # Given every role the template makes (functions and state machines)
    # Then none has a SAM S3 template (S3WritePolicy grants PutObjectAcl and PutLifecycleConfiguration), an S3
    # wildcard, an ACL, a lifecycle or any PutBucket* action
    assert {logical_id: offences(policies) for logical_id, policies in roles().items() if offences(policies)} == {}


@pytest.mark.parametrize(
    "policy",
    [
        {"S3WritePolicy": {"BucketName": {"Ref": "DocumentsBucket"}}},
        {"S3CrudPolicy": {"BucketName": {"Ref": "DocumentsBucket"}}},
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": ["s3:Put*"], "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:PutLifecycleConfiguration", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:PutObjectAcl", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:PutBucketPolicy", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]},
    ],
)
def test_the_check_catches_each_kind_of_broad_grant(policy: Any) -> None:
    # Given a role with one broad grant next to a narrow one; Then the check names it
    assert offences([{"DynamoDBCrudPolicy": {"TableName": {"Ref": "CasesTable"}}}, policy]) != []


def test_the_renderer_may_only_put_documents_and_their_tag_under_cases() -> None:
    # Given the document renderer's role
    policies = roles()["RenderDocumentFunction"]
    # Then it writes the PDF and its retention tag under cases/, reads there the digest of a document stored before
    # it (HeadObject), and nothing else on the bucket
    assert s3_grants(policies) == {
        ("s3:PutObject", "cases/*"),
        ("s3:PutObjectTagging", "cases/*"),
        ("s3:GetObject", "cases/*"),
    }


def test_each_role_has_exactly_the_s3_grants_its_code_uses() -> None:
    # Given every role of the template
    grants = {logical_id: s3_grants(policies) for logical_id, policies in roles().items()}
    # Then the three functions that use the bucket have what they use; every other role has no S3 action at all
    assert {logical_id: found for logical_id, found in grants.items() if found} == EXPECTED


# ---------------------------------------------------------------------------------------------------- the seal
SEAL_KEY_ARN: Final = str(RESOLVER.get_att("SealKey", "Arn"))
SEAL_CHAIN_ARN: Final = RESOLVER.resolve(
    {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SealCertificateChain}"}
)


def key_and_parameter_grants(policies: list[Any]) -> set[tuple[str, str]]:
    """(action, resource) pairs of every KMS and SSM action the statements allow, and every SAM policy template or
    managed policy naming either service."""
    grants = set()
    for policy in policies:
        if isinstance(policy, str) and ("kms" in policy.lower() or "ssm" in policy.lower()):
            grants.add(("managed policy", policy))
        elif isinstance(policy, Mapping):
            grants |= {("SAM policy template", name) for name in policy if name.lower().startswith(("kms", "ssm"))}
    for statement in statements(policies):
        if statement.get("Effect") != "Allow":
            continue
        actions = [
            str(action) for action in as_list(statement.get("Action", [])) if str(action).startswith(("kms:", "ssm:"))
        ]
        resources = [str(resource) for resource in as_list(RESOLVER.resolve(statement.get("Resource", [])))]
        grants |= {(action, resource) for action in actions for resource in resources}
    return grants


def test_only_the_renderer_may_use_the_seals_key_and_read_its_certificate_chain() -> None:
    # Given every role of the template
    grants = {logical_id: key_and_parameter_grants(policies) for logical_id, policies in roles().items()}
    # Then the document renderer, alone, may ask the seal's key to sign and read the seal's certificate chain
    assert {logical_id: found for logical_id, found in grants.items() if found} == {
        "RenderDocumentFunction": {("kms:Sign", SEAL_KEY_ARN), ("ssm:GetParameter", SEAL_CHAIN_ARN)}
    }


def test_the_renderer_signs_raw_messages_with_the_keys_one_algorithm() -> None:
    # Given the renderer's statement that lets it sign
    [statement] = [s for s in statements(roles()["RenderDocumentFunction"]) if "kms:Sign" in as_list(s["Action"])]
    # Then it signs what it sends (KMS hashes it: MessageType RAW) with ECDSA and SHA-256, the key's algorithm
    assert statement["Condition"] == {
        "StringEquals": {"kms:MessageType": "RAW", "kms:SigningAlgorithm": "ECDSA_SHA_256"}
    }
    key = DOCUMENT_TEMPLATE["Resources"]["SealKey"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
