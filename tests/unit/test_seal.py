"""The city's seal (omnicity.adapters.sealing, omnicity.adapters.pades): a PAdES baseline B-T signature appended to
the document as it was rendered, signed through KMS (here a fake of its Sign), timestamped by the local timestamp
authority (in-process), checked as a third party would with pyHanko's validation API."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fpdf import FPDF
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pypdf import PdfReader, PdfWriter

from infra.local.seal import (
    CHAIN_VARIABLE,
    KEY_VARIABLE,
    TIMESTAMP_URL_VARIABLE,
    TSA_POLICY,
    LocalCertificateAuthority,
    LocalTimestampAuthority,
)
from omnicity.adapters.pades import (
    FIELD_NAME,
    CertificateMismatchError,
    HttpTimestamper,
    KmsSigner,
    TimeStampAnswer,
    certificate_chain,
    seal_pdf,
)
from omnicity.adapters.sealing import PadesSealer, kms_sealer
from omnicity.config import SealSettings
from omnicity.domain.errors import ConfigurationError, TransientError
from tests.seals import InProcessTimestamper, validate

KEY_ID = "alias/omnicity-test-seal"
ORGANIZATION = "Ville de Bruxelles - Stad Brussel"
TSA_URL = "https://tsa.city.example/tsr"
PRINT, HIDDEN, NO_VIEW = 4, 2, 32  # annotation flags (ISO 32000-1, 12.5.3)


class FakeKms:
    """KMS's ``Sign`` for one ECDSA P-256 key held in memory: a RAW message is hashed with SHA-256, as KMS does."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self.key = key
        self.requests: list[dict[str, Any]] = []

    def sign(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        assert request["MessageType"] == "RAW"
        assert request["SigningAlgorithm"] == "ECDSA_SHA_256"
        return {"KeyId": request["KeyId"], "Signature": self.key.sign(request["Message"], ec.ECDSA(hashes.SHA256()))}


class Trust:
    """A CA, the seal's key and certificate, and a timestamp authority: what a city gets from its provider."""

    def __init__(self) -> None:
        self.authority = LocalCertificateAuthority(ORGANIZATION, datetime.now(UTC))
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = self.authority.issue(name_of(f"{ORGANIZATION} (test seal)"), self.key.public_key())
        self.timestamps = LocalTimestampAuthority(self.authority, ORGANIZATION)

    @property
    def ca_pem(self) -> bytes:
        return self.authority.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def chain_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM) + self.ca_pem

    def signer(self, kms: FakeKms | None = None) -> KmsSigner:
        return KmsSigner(kms or FakeKms(self.key), KEY_ID, certificate_chain(self.chain_pem, source="the test"))


def name_of(common_name: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.COUNTRY_NAME, "BE")]
    )


@pytest.fixture(scope="module")
def trust() -> Trust:
    return Trust()


def a_document(text: str = "Certificat de residence") -> bytes:
    """A one-page PDF as a renderer writes it (the seal does not depend on how it was laid out)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=text)
    return bytes(pdf.output())


XMP = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
 pdf:Producer="omnicity" pdfaid:part="2" pdfaid:conformance="B"/>
</rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def an_archival_document() -> bytes:
    """A document with an Info dictionary and an XMP packet that agree, as PDF/A requires."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_document())))
    writer.add_metadata({"/Producer": "omnicity", "/Title": "Certificat de résidence"})
    writer.xmp_metadata = XMP
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def document() -> bytes:
    return a_document()


@pytest.fixture(scope="module")
def sealed(trust: Trust, document: bytes) -> bytes:
    return seal_pdf(document, trust.signer(), InProcessTimestamper(trust.timestamps))


def signed_data(pdf: bytes) -> cms.SignedData:
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return signature.signed_data


# ---------------------------------------------------------------------------------------------------- the seal
def test_the_sealed_document_is_the_rendered_one_with_the_seal_appended(document: bytes, sealed: bytes) -> None:
    # Then every byte the renderer wrote is there, unchanged, first; the seal is one incremental update after them
    assert sealed.startswith(document)
    assert len(sealed) > len(document)
    reader = PdfFileReader(io.BytesIO(sealed))
    assert reader.xrefs.total_revisions == PdfFileReader(io.BytesIO(document)).xrefs.total_revisions + 1


def test_the_seal_is_intact_trusted_timestamped_and_covers_the_whole_file(trust: Trust, sealed: bytes) -> None:
    # When a third party validates it with the city's CA as its only trust root
    before = datetime.now(UTC)
    status = validate(sealed, trust.ca_pem)
    # Then the signature is intact and valid, by the seal's certificate, trusted; it covers the whole file, which
    # nothing changed after it
    assert (status.intact, status.valid, status.trusted, status.bottom_line) == (True, True, True, True)
    assert (
        status.signing_cert.sha256
        == hashlib.sha256(trust.certificate.public_bytes(serialization.Encoding.DER)).digest()
    )
    assert status.coverage is SignatureCoverageLevel.ENTIRE_FILE
    assert status.modification_level is ModificationLevel.NONE
    # And it carries a timestamp token of a trusted authority, from the signing moment
    timestamp = status.timestamp_validity
    assert timestamp is not None
    assert (timestamp.intact, timestamp.valid, timestamp.trusted) == (True, True, True)
    assert abs((timestamp.timestamp - before).total_seconds()) < 60


def test_the_seal_is_a_pades_baseline_signature(trust: Trust, sealed: bytes) -> None:
    [signature] = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
    signer = signed_data(sealed)["signer_infos"][0]
    # Then it is a PAdES signature (ETSI.CAdES.detached) with the signing time in the signature dictionary
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert "/M" in signature.sig_object
    # signed: the content type, the digest and the signer's certificate reference only (PAdES has no signing-time
    # attribute), the reference being what pyHanko itself would write
    attributes = {attribute["type"].native: attribute for attribute in signer["signed_attrs"]}
    assert set(attributes) == {"content_type", "message_digest", "signing_certificate_v2"}
    certificate = asn1_x509.Certificate.load(trust.certificate.public_bytes(serialization.Encoding.DER))
    expected = as_signing_certificate_v2(certificate)
    assert attributes["signing_certificate_v2"]["values"][0].dump() == expected.dump()
    # ECDSA with SHA-256; and unsigned, the signature's timestamp token (B-T)
    assert signer["digest_algorithm"]["algorithm"].native == "sha256"
    assert signer["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
    assert [attribute["type"].native for attribute in signer["unsigned_attrs"]] == ["signature_time_stamp_token"]


def test_the_seals_field_is_invisible_and_printed(sealed: bytes) -> None:
    # Given the sealed document's signature field
    reader = PdfFileReader(io.BytesIO(sealed))
    [field] = [ref.get_object() for ref in reader.root["/AcroForm"]["/Fields"]]
    # Then it is the seal's, a widget of no area (nothing drawn), printable as PDF/A wants, neither hidden nor hidden
    # from view
    assert (field["/FT"], field["/T"]) == ("/Sig", FIELD_NAME)
    x1, y1, x2, y2 = (float(value) for value in field["/Rect"])
    assert (x2 - x1) * (y2 - y1) == 0
    flags = int(field["/F"])
    assert flags & PRINT
    assert not flags & (HIDDEN | NO_VIEW)


def test_the_sealed_document_stays_pdf_1_7_with_etsis_extension(sealed: bytes) -> None:
    # Given the sealed document's catalog
    root = PdfFileReader(io.BytesIO(sealed)).root
    # Then it declares PAdES' ESIC extension to PDF 1.7 and nothing of PDF 2.0 (PDF/A-2 is built on PDF 1.7)
    assert str(root.get("/Version", "/1.7")) <= "/1.7"
    extensions = root["/Extensions"]
    assert "/ESIC" in extensions
    assert "/ISO_" not in extensions


def test_the_seal_leaves_the_documents_metadata_as_the_renderer_wrote_it(trust: Trust) -> None:
    # Given a document whose Info dictionary and XMP packet agree (PDF/A)
    archival = an_archival_document()
    before = PdfFileReader(io.BytesIO(archival))
    # When it is sealed
    sealed = seal_pdf(archival, trust.signer(), InProcessTimestamper(trust.timestamps))
    # Then both are exactly as they were: pyHanko would have changed the producer in each, differently
    after = PdfFileReader(io.BytesIO(sealed))
    assert dict(after.trailer["/Info"]) == dict(before.trailer["/Info"])
    assert after.root["/Metadata"].data == before.root["/Metadata"].data == XMP
    assert validate(sealed, trust.ca_pem).bottom_line


# ---------------------------------------------------------------------------------------------------- KMS signs
def test_kms_signs_the_signed_attributes_as_a_raw_message(trust: Trust, document: bytes) -> None:
    # Given the seal's key behind KMS
    kms = FakeKms(trust.key)
    # When a document is sealed
    sealed = seal_pdf(document, trust.signer(kms), InProcessTimestamper(trust.timestamps))
    # Then KMS was asked once, by the key's alias, to sign the signed attributes themselves (RAW: KMS hashes them)
    [request] = kms.requests
    assert request["KeyId"] == KEY_ID
    signer = signed_data(sealed)["signer_infos"][0]
    assert request["Message"] == signer["signed_attrs"].untag().dump()
    assert len(request["Message"]) < 4096  # KMS's limit for a RAW message


def test_a_kms_key_the_certificate_does_not_certify_leaves_no_document(trust: Trust, document: bytes) -> None:
    # Given KMS signing with another key than the one the seal's certificate certifies (a renewal half done)
    other = FakeKms(ec.generate_private_key(ec.SECP256R1()))
    # When a document is sealed / Then the seal is refused, as a transient error (retried: the chain is read again)
    with pytest.raises(CertificateMismatchError) as refused:
        seal_pdf(document, trust.signer(other), InProcessTimestamper(trust.timestamps))
    assert isinstance(refused.value, TransientError)
    assert KEY_ID in refused.value.message


@pytest.mark.parametrize("value", [b"", b"none yet: put the seal's certificate chain here (PEM), docs/seal.md"])
def test_a_parameter_without_a_certificate_is_a_configuration_error_naming_it(value: bytes) -> None:
    with pytest.raises(ConfigurationError, match="the SSM parameter /omnicity/dev/seal/certificate-chain"):
        certificate_chain(value, source="the SSM parameter /omnicity/dev/seal/certificate-chain")


def test_the_chain_is_read_seal_first(trust: Trust) -> None:
    seal, authority = certificate_chain(trust.chain_pem, source="the test")
    assert seal.subject.native["common_name"].endswith("(test seal)")
    assert authority.ca


def test_a_key_of_another_kind_is_refused_at_the_first_seal(trust: Trust) -> None:
    # Given a certificate for a P-384 key (KMS signs it with SHA-384: not the seal's algorithm)
    key = ec.generate_private_key(ec.SECP384R1())
    certificate = trust.authority.issue(name_of("P-384"), key.public_key())
    chain = certificate.public_bytes(serialization.Encoding.PEM) + trust.ca_pem
    # Then a signer for it is a configuration error
    with pytest.raises(ConfigurationError, match="ECC_NIST_P256"):
        KmsSigner(FakeKms(trust.key), KEY_ID, certificate_chain(chain, source="the test"))


# ---------------------------------------------------------------------------------------------------- timestamps
class Refusing(TimeStamper):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        raise TimestampRequestError("refused")


def test_a_timestamp_authority_that_refuses_is_a_transient_error(trust: Trust, document: bytes) -> None:
    with pytest.raises(TransientError, match="timestamp"):
        seal_pdf(document, trust.signer(), Refusing())


def timestamp_request() -> tsp.TimeStampReq:
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashlib.sha256().digest()},
            "nonce": 42,
            "cert_req": True,
        }
    )


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 503}, TransientError),
        ({"status": 429}, TransientError),
        ({"body": requests.ConnectionError("refused")}, TransientError),
        ({"status": 200, "content_type": "text/html", "body": b"<html>"}, TimestampRequestError),
        ({"status": 404, "content_type": "application/timestamp-reply"}, TimestampRequestError),
        ({"status": 200, "content_type": "application/timestamp-reply", "body": b"\x30\x00"}, TimestampRequestError),
    ],
)
def test_the_http_timestamp_client_names_what_went_wrong(answer: dict[str, Any], error: type[Exception]) -> None:
    # Given a TSA that answers badly over HTTP
    client = HttpTimestamper(TSA_URL)
    with responses.RequestsMock() as http:
        http.add(responses.POST, TSA_URL, **answer)
        # When a timestamp is asked / Then the failure is named: retried when it may pass, else refused
        with pytest.raises(error):
            asyncio.run(client.async_request_tsa_response(timestamp_request()))


def test_the_http_timestamp_client_reports_a_refusal_with_its_reason(trust: Trust) -> None:
    # Given a TSA that refuses the request (a status without a token, as RFC 3161 answers)
    client = HttpTimestamper(TSA_URL)
    refusal = trust.timestamps.respond(b"garbage")
    with responses.RequestsMock() as http:
        http.add(responses.POST, TSA_URL, body=refusal, content_type="application/timestamp-reply")
        # Then the client names the refusal and its reason
        with pytest.raises(TimestampRequestError, match=r"rejection.*bad_data_format"):
            asyncio.run(client.async_request_tsa_response(timestamp_request()))


def test_the_http_timestamp_client_posts_an_rfc_3161_query(trust: Trust) -> None:
    # Given the local TSA over HTTP
    client = HttpTimestamper(TSA_URL)
    seen: list[Any] = []

    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        seen.append(request)
        return 200, {"Content-Type": "application/timestamp-reply"}, trust.timestamps.respond(request.body)

    with responses.RequestsMock() as http:
        http.add_callback(responses.POST, TSA_URL, callback=answer)
        reply = asyncio.run(client.async_request_tsa_response(timestamp_request()))
    # Then it sent a timestamp query and got a granted token
    assert seen[0].headers["Content-Type"] == "application/timestamp-query"
    assert reply["status"]["status"].native == "granted"


# ---------------------------------------------------------------------------------------------------- the local TSA
def test_the_local_tsa_grants_a_token_for_the_digest_it_was_given(trust: Trust) -> None:
    request = timestamp_request()
    reply = tsp.TimeStampResp.load(trust.timestamps.respond(request.dump()))
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"].dump() == request["message_imprint"].dump()
    assert info["nonce"].native == 42
    assert info["policy"].dotted == TSA_POLICY


@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        (b"not a timestamp query", "bad_data_format"),
        (
            tsp.TimeStampReq(
                {
                    "version": "v1",
                    "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"0"},
                }
            ).dump(),
            "bad_alg",
        ),
        (
            tsp.TimeStampReq(
                {
                    "version": "v1",
                    "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": bytes(32)},
                    "req_policy": "1.2.3.4",
                }
            ).dump(),
            "unaccepted_policy",
        ),
    ],
)
def test_the_local_tsa_rejects_what_it_cannot_timestamp_saying_why(
    trust: Trust, request_bytes: bytes, reason: str
) -> None:
    # When the local TSA is asked / Then it answers a TimeStampResp of a status only: rejected, with the reason
    answer = TimeStampAnswer.load(trust.timestamps.respond(request_bytes))
    assert answer["status"]["status"].native == "rejection"
    assert answer["status"]["fail_info"].native == {reason}
    assert answer["time_stamp_token"].native is None


def test_the_local_tsas_certificate_is_for_timestamping_only(trust: Trust) -> None:
    extension = trust.timestamps.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert extension.critical
    assert list(extension.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


# ---------------------------------------------------------------------------------------------------- the sealer
def counting(build: Callable[[], Any], calls: list[str], name: str) -> Callable[[], Any]:
    def built() -> Any:
        calls.append(name)
        return build()

    return built


def test_the_sealer_builds_its_signer_and_timestamper_once(trust: Trust, document: bytes) -> None:
    # Given a sealer, nothing built yet
    built: list[str] = []
    timestamper = InProcessTimestamper(trust.timestamps)
    sealer = PadesSealer(counting(trust.signer, built, "signer"), counting(lambda: timestamper, built, "timestamper"))
    assert built == []
    # When it seals two documents
    first, second = sealer.seal(document), sealer.seal(document)
    # Then it built each once, and each document carries its own seal
    assert built == ["signer", "timestamper"]
    assert first != second
    assert validate(second, trust.ca_pem).bottom_line


def test_after_a_failed_seal_the_signer_is_built_again(trust: Trust, document: bytes) -> None:
    # Given a sealer whose first signer signs with a key its certificate does not certify
    signers = iter([trust.signer(FakeKms(ec.generate_private_key(ec.SECP256R1()))), trust.signer()])
    built: list[str] = []
    sealer = PadesSealer(
        counting(lambda: next(signers), built, "signer"), lambda: InProcessTimestamper(trust.timestamps)
    )
    with pytest.raises(CertificateMismatchError):
        sealer.seal(document)
    # When the next document is sealed / Then the signer is built anew (the chain read again), and the seal holds
    assert validate(sealer.seal(document), trust.ca_pem).bottom_line
    assert built == ["signer", "signer"]


def test_the_kms_sealer_fetches_and_loads_nothing_before_the_first_document() -> None:
    # Given the sealer as deployed, with AWS clients that record every call
    calls: list[str] = []

    class Recording:
        def __getattr__(self, operation: str) -> Any:
            calls.append(operation)
            raise AssertionError(operation)

    settings = SealSettings.model_validate(
        {
            "TABLE_NAME": "cases",
            "DOCUMENTS_BUCKET": "documents",
            "SEAL_KEY_ID": KEY_ID,
            "SEAL_CERTIFICATE_PARAMETER": "/omnicity/dev/seal/certificate-chain",
            "SEAL_TIMESTAMP_URL": TSA_URL,
        }
    )
    # When it is built (a cold start) / Then no call was made
    kms_sealer(settings, kms=Recording(), ssm=Recording())
    assert calls == []


@pytest.mark.parametrize("url", ["", "ftp://tsa.example", "tsa.example", "http://"])
def test_the_timestamp_authority_setting_must_be_an_http_url(url: str) -> None:
    with pytest.raises(ValueError, match="SEAL_TIMESTAMP_URL"):
        SealSettings.model_validate(
            {
                "TABLE_NAME": "cases",
                "DOCUMENTS_BUCKET": "documents",
                "SEAL_KEY_ID": KEY_ID,
                "SEAL_CERTIFICATE_PARAMETER": "/p",
                "SEAL_TIMESTAMP_URL": url,
            }
        )


def test_the_local_runtime_knows_a_sealing_function_by_the_settings_names() -> None:
    aliases = {name: field.alias for name, field in SealSettings.model_fields.items() if name.startswith("seal_")}
    assert aliases == {
        "seal_key_id": KEY_VARIABLE,
        "seal_certificate_parameter": CHAIN_VARIABLE,
        "seal_timestamp_url": TIMESTAMP_URL_VARIABLE,
    }
