"""The city's seal in the local runtime (infra/local/seal.py): the template's KMS key, alias and SSM parameter
provisioned in moto, a CA and the seal's certificate for that key, a timestamp authority behind ``POST /local/tsa``,
the CA at ``GET /local/seal/ca.pem``; and the seal as deployed (omnicity.adapters.sealing.kms_sealer) against them."""

from __future__ import annotations

import hashlib
import urllib.request
from typing import Any

import boto3
import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from infra.local.runtime import LocalRuntime
from omnicity.adapters.documents import DocumentStore
from omnicity.adapters.pades import TimeStampAnswer
from omnicity.adapters.sealing import kms_sealer
from omnicity.config import SealSettings, load_settings
from tests.seals import validate
from tests.unit.test_seal import a_document, timestamp_request


@pytest.fixture(scope="module")
def runtime(served: LocalRuntime) -> LocalRuntime:
    """The runtime as `make run` serves it (moto server, HTTP front): the functions' TSA is reached over HTTP."""
    return served


def seal_settings() -> SealSettings:
    """What RenderDocument is given (the runtime's environment: its TSA, the template's key and parameter)."""
    load_settings.cache_clear()
    given: SealSettings = load_settings(SealSettings)
    return given


def public_key_der(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# ---------------------------------------------------------------------------------------------------- at start
def test_the_template_key_alias_and_parameter_are_provisioned_as_declared(runtime: LocalRuntime) -> None:
    # Given the template's seal key, alias and parameter
    declared = runtime.description.keys["SealKey"].properties
    alias = runtime.description.key_aliases["SealKeyAlias"]
    parameter = runtime.description.ssm_parameters["SealCertificateChain"]
    # Then the alias names a sign-only key of the template's spec, and the parameter has the template's tier
    key = boto3.client("kms").describe_key(KeyId=alias.name)["KeyMetadata"]
    assert (key["KeySpec"], key["KeyUsage"]) == (declared["KeySpec"], declared["KeyUsage"])
    assert key["SigningAlgorithms"] == ["ECDSA_SHA_256"]
    stored = boto3.client("ssm").get_parameter(Name=parameter.name)["Parameter"]
    assert stored["Type"] == "String"
    assert boto3.client("ssm").describe_parameters()["Parameters"][0]["Tier"] == parameter.properties["Tier"]


def test_the_seals_certificate_certifies_the_kms_key_and_the_parameter_holds_its_chain(runtime: LocalRuntime) -> None:
    # Given the chain the functions read, and the KMS key they sign with
    given = seal_settings()
    chain = boto3.client("ssm").get_parameter(Name=given.seal_certificate_parameter)["Parameter"]["Value"]
    kms_key = boto3.client("kms").get_public_key(KeyId=given.seal_key_id)["PublicKey"]
    # Then the chain is the seal's certificate then the CA's; the first certifies the KMS key's public key
    seal, authority = x509.load_pem_x509_certificates(chain.encode())
    assert public_key_der(seal) == kms_key
    assert seal.issuer == authority.subject == authority.issuer
    assert seal == runtime.seal.seal_certificate
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.digital_signature, usage.content_commitment, usage.key_cert_sign) == (True, True, False)
    # And the PEMs are written under the runtime's own folder
    folder = runtime.folder / "seal"
    assert (folder / "ca.pem").read_bytes() == runtime.seal.ca_pem
    assert (folder / "chain.pem").read_text() == chain
    assert {path.name for path in folder.iterdir()} == {"ca.pem", "chain.pem", "seal.pem", "tsa.pem"}


def test_the_ca_is_served_at_local_seal_ca_pem(runtime: LocalRuntime) -> None:
    status, headers, body = runtime.gateway.dispatch("GET", "/local/seal/ca.pem", "", {}, None)
    assert status == 200
    assert headers["Content-Type"] == "application/x-pem-file"
    [authority] = x509.load_pem_x509_certificates(body)
    assert authority.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_the_timestamp_authority_answers_rfc_3161_at_local_tsa(runtime: LocalRuntime) -> None:
    # When a timestamp query is posted to the local TSA
    status, headers, body = runtime.gateway.dispatch(
        "POST", "/local/tsa", "", {"Content-Type": "application/timestamp-query"}, timestamp_request().dump()
    )
    # Then it answers a granted timestamp token; and a query it cannot read, a rejection (still a TimeStampResp)
    assert (status, headers["Content-Type"]) == (200, "application/timestamp-reply")
    assert tsp.TimeStampResp.load(body)["status"]["status"].native == "granted"
    _, _, refused = runtime.gateway.dispatch("POST", "/local/tsa", "", {}, b"garbage")
    assert TimeStampAnswer.load(refused)["status"]["status"].native == "rejection"


# ---------------------------------------------------------------------------------------------------- the seal
def test_the_deployed_sealer_seals_with_the_kms_key_and_the_local_tsa(runtime: LocalRuntime) -> None:
    # Given the sealer RenderDocument builds (KMS key in moto, chain in SSM, the runtime's TSA URL)
    given = seal_settings()
    assert given.seal_timestamp_url == runtime.timestamp_url
    sealer = kms_sealer(given, kms=boto3.client("kms"), ssm=boto3.client("ssm"))
    # When it seals a document
    document = a_document()
    sealed = sealer.seal(document)
    # Then the seal validates against the local CA alone, timestamped by the local TSA
    status = validate(sealed, runtime.seal.ca_pem)
    assert (status.intact, status.trusted, status.bottom_line) == (True, True, True)
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.trusted
    assert sealed.startswith(document)


def test_the_first_document_stored_under_a_key_stays_with_its_digest(runtime: LocalRuntime) -> None:
    # Given the documents bucket, and two sealings of one document (each its own signing time and timestamp)
    bucket = runtime.description.buckets["DocumentsBucket"].name
    store = DocumentStore(bucket)
    sealer = kms_sealer(seal_settings(), kms=boto3.client("kms"), ssm=boto3.client("ssm"))
    document = a_document("stored once")
    first, second = sealer.seal(document), sealer.seal(document)
    assert first != second
    key = "cases/case-stored-once/doc-stored-once.pdf"
    # When both are stored under the document's key (a retried step, or a duplicate execution)
    digests = [store.put_pdf(key, pdf, reference="BXL-2026-000001", retention_days=365) for pdf in (first, second)]
    # Then the first stays, and both calls report its digest, which S3 holds for the object
    stored = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == first
    assert digests == [hashlib.sha256(first).hexdigest()] * 2
    assert store.stored_sha256(key) == hashlib.sha256(first).hexdigest()


# ---------------------------------------------------------------------------------------------------- over HTTP
def test_over_http_the_front_serves_the_ca_and_the_timestamp_authority(runtime: LocalRuntime) -> None:
    # Given the runtime as `make run` serves it: its functions ask the TSA through the HTTP front
    assert runtime.timestamp_url == f"{runtime.api_url}/local/tsa"
    with urllib.request.urlopen(f"{runtime.api_url}/local/seal/ca.pem", timeout=10) as reply:
        ca_pem = reply.read()
    query = urllib.request.Request(
        runtime.timestamp_url,
        data=timestamp_request().dump(),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    with urllib.request.urlopen(query, timeout=10) as reply:
        answer, content_type = reply.read(), reply.headers["Content-Type"]
    # Then the CA is the seal's trust root, and the TSA grants a token its certificate signed
    assert ca_pem == runtime.seal.ca_pem
    assert content_type == "application/timestamp-reply"
    token = tsp.TimeStampResp.load(answer)["time_stamp_token"]
    [tsa] = token["content"]["certificates"]
    assert tsa.chosen.dump() == runtime.seal.timestamps.certificate.public_bytes(serialization.Encoding.DER)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Any:
    yield
    load_settings.cache_clear()
