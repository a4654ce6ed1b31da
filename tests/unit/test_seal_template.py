"""The seal in template.yaml: what RenderDocument is given (the key by its alias, the certificate chain's parameter, the
timestamp authority), the prod rule on the timestamp authority, and how the local runtime reads and refuses the KMS
and SSM resources it creates (IAM grants: tests/unit/test_template_least_privilege.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest
from moto import mock_aws
from pydantic import ValidationError

from infra.local.provision import ProvisionError, provision
from infra.local.template import REGION, TemplateError, describe, load_template
from omnicity.adapters.pades import certificate_chain
from omnicity.config import SealSettings
from omnicity.domain.errors import ConfigurationError
from tests.conftest import TEMPLATE
from tests.unit.test_allowed_origin import PORTAL, rule_allows

TEMPLATE_DOCUMENT: Final = load_template(TEMPLATE)
CITY_TSA: Final = "https://tsa.qualified.example/tsr"


def test_the_renderer_is_given_the_key_by_its_alias_the_chains_parameter_and_the_tsa() -> None:
    # Given the template described as the local runtime (and CloudFormation) resolves it
    description = describe(TEMPLATE, {"SealTimestampUrl": CITY_TSA})
    environment = description.functions["RenderDocumentFunction"].environment
    # Then the renderer names the key by its alias (moving it to a new key renews the seal), the chain's parameter,
    # and the timestamp authority the stack was given
    assert environment["SEAL_KEY_ID"] == description.key_aliases["SealKeyAlias"].name == "alias/omnicity-dev-seal"
    assert description.key_aliases["SealKeyAlias"].target_key == "SealKey"
    assert environment["SEAL_CERTIFICATE_PARAMETER"] == "/omnicity/dev/seal/certificate-chain"
    assert environment["SEAL_TIMESTAMP_URL"] == CITY_TSA
    assert SealSettings.model_validate(environment).seal_timestamp_url == CITY_TSA
    # And no other function is given any of it
    others = [spec for logical_id, spec in description.functions.items() if logical_id != "RenderDocumentFunction"]
    assert [spec.logical_id for spec in others if any(name.startswith("SEAL_") for name in spec.environment)] == []


def test_a_prod_stack_names_its_own_timestamp_authority() -> None:
    assert not rule_allows(Stage="prod", AllowedOrigin=PORTAL)  # the dev default TSA
    assert rule_allows(Stage="prod", AllowedOrigin=PORTAL, SealTimestampUrl=CITY_TSA)
    assert rule_allows(Stage="dev")


@pytest.mark.parametrize(
    "url", [CITY_TSA, "http://timestamp.example", "", "ftp://tsa.example", "tsa.example", "http://"]
)
def test_the_parameters_pattern_and_the_settings_agree_on_what_a_tsa_url_is(url: str) -> None:
    pattern = str(TEMPLATE_DOCUMENT["Parameters"]["SealTimestampUrl"]["AllowedPattern"])
    environment = {**describe(TEMPLATE).functions["RenderDocumentFunction"].environment, "SEAL_TIMESTAMP_URL": url}
    try:
        SealSettings.model_validate(environment)
        by_settings = True
    except ValidationError:
        by_settings = False
    assert (re.fullmatch(pattern, url) is not None) == by_settings


def test_the_chains_placeholder_makes_sealing_fail_naming_the_parameter() -> None:
    # Given the value the stack creates the parameter with, before the city puts its certificate there
    placeholder = TEMPLATE_DOCUMENT["Resources"]["SealCertificateChain"]["Properties"]["Value"]
    # Then the first seal says what is missing and where
    with pytest.raises(ConfigurationError, match="/omnicity/dev/seal/certificate-chain holds no PEM certificate"):
        certificate_chain(placeholder.encode(), source="the SSM parameter /omnicity/dev/seal/certificate-chain")


# ---------------------------------------------------------------------------------------------------- locally
def project(tmp_path: Path, resources: str) -> Path:
    template = tmp_path / "template.yaml"
    template.write_text(f"Resources:\n{resources}", encoding="utf-8")
    return template


def test_an_alias_must_target_a_key_of_the_template(tmp_path: Path) -> None:
    resources = """
  Alias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: alias/seal, TargetKeyId: 1234abcd-12ab-34cd-56ef-1234567890ab}
"""
    with pytest.raises(TemplateError, match="TargetKeyId"):
        describe(project(tmp_path, resources))


@pytest.mark.parametrize(
    ("resources", "refused"),
    [
        (
            "  Key:\n    Type: AWS::KMS::Key\n    Properties: {KeySpec: ECC_NIST_P256, Origin: EXTERNAL}",
            "KMS key Key: .* Origin",
        ),
        (
            "  Parameter:\n    Type: AWS::SSM::Parameter\n    Properties: {Type: String, Value: x, Rotation: yearly}",
            "SSM parameter Parameter: .* Rotation",
        ),
    ],
)
def test_the_local_runtime_refuses_what_it_cannot_create_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resources: str, refused: str
) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    description = describe(project(tmp_path, resources))
    with mock_aws(), pytest.raises(ProvisionError, match=refused):
        provision(description, region=REGION)
