"""PAdES with pyHanko: the half of ``omnicity.adapters.sealing`` that imports pyHanko, loaded with the first document
an execution environment seals.

:func:`seal_pdf` appends a PAdES baseline B-T signature (subfilter ``ETSI.CAdES.detached``, SHA-256, the signer's
signing-certificate-v2 attribute, a signature timestamp token) in an invisible field, as an incremental update of the
PDF it is given, with two departures from pyHanko's defaults, both for PDF/A-2 documents:

- the document stays PDF 1.7 (ISO 32000-1, which PDF/A-2 is built on) with ETSI's ESIC extension; pyHanko would also
  declare ISO 32002 for an ECDSA P-256 key, which moves the document to PDF 2.0;
- the document's metadata is left as the renderer wrote it: PDF/A requires the Info dictionary and the XMP packet to
  agree, and pyHanko would append its name to the Info's producer and write another producer into the XMP.

:class:`KmsSigner` signs with a KMS key (``Sign``, MessageType RAW: KMS hashes the signed attributes itself) and
checks each signature against the certificate before it is used; :class:`HttpTimestamper` asks an RFC 3161 timestamp
authority over HTTP(S), on one kept-alive connection.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import requests
from asn1crypto import algos, cms, core, tsp, x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SignedAttributeProviderSpec
from pyhanko.sign.general import SigningError, as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers.constants import ESIC_EXTENSION_1
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from omnicity import aws
from omnicity.domain.errors import ConfigurationError, TransientError

FIELD_NAME: Final = "CitySeal"
DIGEST: Final = "sha256"
TIMESTAMP_TIMEOUT: Final = (3.05, 10.0)  # seconds to connect, to read the answer
_TIMESTAMP_QUERY: Final = "application/timestamp-query"
_TIMESTAMP_REPLY: Final = "application/timestamp-reply"
_KMS_RAW_LIMIT: Final = 4096  # the most bytes KMS Sign takes as a RAW message


class CertificateMismatchError(TransientError):
    """KMS signed with a key the seal's certificate does not certify: the certificate chain and the key behind the
    alias disagree (a renewal half done, or a wrong chain in the parameter). Retried: the next attempt reads the chain
    again (``PadesSealer`` drops what it built); no document leaves with a seal nobody can validate."""


def seal_pdf(pdf: bytes, signer: signers.Signer, timestamper: TimeStamper) -> bytes:
    """``pdf`` followed by an incremental update holding the PAdES B-T seal of ``signer``, timestamped by
    ``timestamper`` (see the module's doc). A timestamp authority that cannot be reached, or refuses, is a
    TransientError."""
    writer = _MetadataKeepingWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm=DIGEST, subfilter=fields.SigSeedSubFilter.PADES
    )
    pdf_signer = _Pdf17Signer(metadata, signer, timestamper=timestamper, new_field_spec=fields.SigFieldSpec(FIELD_NAME))
    try:
        sealed: io.BytesIO = pdf_signer.sign_pdf(writer)
    except TimestampRequestError as exc:
        raise TransientError(f"the timestamp authority gave no timestamp: {exc}") from exc
    return sealed.getvalue()


def certificate_chain(pem: bytes, *, source: str) -> list[x509.Certificate]:
    """The certificates of a PEM chain, the seal's first; ConfigurationError naming ``source`` when it holds none."""
    certificates = list(load_certs_from_pemder_data(pem)) if b"-----BEGIN CERTIFICATE-----" in pem else []
    if not certificates:
        raise ConfigurationError(
            f"{source} holds no PEM certificate: put the seal's certificate chain there, its first (docs/seal.md)"
        )
    return certificates


@dataclass(frozen=True)
class _KeyAlgorithm:
    """How a key of one kind signs: the KMS SigningAlgorithm, the CMS signature mechanism, the most bytes a signature
    takes (what a dry run reserves), and the check of a signature with the certificate's public key."""

    kms: str
    cms: str
    max_signature_bytes: int
    verify: Callable[[Any, bytes, bytes], None]


def _verify_ecdsa(public_key: Any, signature: bytes, data: bytes) -> None:
    public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def _verify_rsa(public_key: Any, signature: bytes, data: bytes) -> None:
    public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def _key_algorithm(certificate: x509.Certificate) -> tuple[_KeyAlgorithm, Any]:
    """The algorithm the certificate's key signs with, and the key (ConfigurationError for another kind)."""
    public_key = serialization.load_der_public_key(certificate.public_key.dump())
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
        return _KeyAlgorithm("ECDSA_SHA_256", "sha256_ecdsa", 72, _verify_ecdsa), public_key
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size >= 2048:
        size = public_key.key_size // 8
        return _KeyAlgorithm("RSASSA_PKCS1_V1_5_SHA_256", "sha256_rsa", size, _verify_rsa), public_key
    raise ConfigurationError(
        "the seal's certificate must certify an ECC_NIST_P256 or an RSA (2048 bits or more) KMS key"
    )


class KmsSigner(signers.Signer):
    """A pyHanko signer whose private key stays in KMS: the seal's certificate and its CAs come with it (embedded in
    every signature), KMS signs the signed attributes (MessageType RAW: KMS hashes them with SHA-256), and every
    signature is checked against the certificate's public key before it is used (CertificateMismatchError)."""

    def __init__(self, kms: Any, key_id: str, certificates: Sequence[x509.Certificate]) -> None:
        seal, *authorities = certificates
        self._kms = kms
        self._key_id = key_id
        self._algorithm, self._public_key = _key_algorithm(seal)
        super().__init__(
            signing_cert=seal,
            cert_registry=SimpleCertificateStore.from_certs(authorities),  # type: ignore[no-untyped-call]
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": self._algorithm.cms}),
        )
        self.signed_attr_prov_spec = _PadesSignedAttributes(seal)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != DIGEST:
            raise SigningError(f"the seal signs with {DIGEST}, not {digest_algorithm}")
        if dry_run:  # pyHanko sizes the signature's room in the file: the longest signature the key makes
            return bytes(self._algorithm.max_signature_bytes)
        if len(data) > _KMS_RAW_LIMIT:
            raise SigningError(f"KMS signs at most {_KMS_RAW_LIMIT} bytes as a RAW message, got {len(data)}")
        with aws.translate_errors("KMS sign"):
            reply = self._kms.sign(
                KeyId=self._key_id, Message=data, MessageType="RAW", SigningAlgorithm=self._algorithm.kms
            )
        signature: bytes = reply["Signature"]
        try:
            self._algorithm.verify(self._public_key, signature, data)
        except InvalidSignature:
            raise CertificateMismatchError(
                f"the KMS key {self._key_id} is not the key the seal's certificate certifies"
            ) from None
        return signature


class _PadesSignedAttributes(SignedAttributeProviderSpec):
    """A PAdES signature's signed attributes besides the content type and the digest, which pyHanko adds: the
    signing-certificate-v2 attribute only (no signing time: PAdES puts it in the signature dictionary). Built once,
    from its DER: pyHanko builds it for every signature, and asn1crypto serialises a freshly built certificate
    reference anew each time it is copied into the CMS (most of the milliseconds a seal takes)."""

    def __init__(self, certificate: x509.Certificate) -> None:
        value = as_signing_certificate_v2(certificate, DIGEST)
        attribute = simple_cms_attribute("signing_certificate_v2", value)  # type: ignore[no-untyped-call]
        self._attribute = cms.CMSAttribute.load(attribute.dump())

    def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str) -> Iterable[CMSAttributeProvider]:
        yield _Prebuilt(self._attribute)


class _Prebuilt(CMSAttributeProvider):
    attribute_type = "signing_certificate_v2"

    def __init__(self, attribute: cms.CMSAttribute) -> None:
        self._attribute = attribute

    async def get_attribute(self, dry_run: bool = False) -> cms.CMSAttribute | None:
        return self._attribute


class TimeStampAnswer(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """An RFC 3161 TimeStampResp as a TSA may send it: its token is OPTIONAL (absent when the request is refused),
    which asn1crypto's ``tsp.TimeStampResp`` cannot parse."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


class HttpTimestamper(TimeStamper):
    """An RFC 3161 timestamp client over HTTP(S) (``application/timestamp-query``), one kept-alive session. A TSA
    that cannot be reached, times out, or answers 5xx or 429 is a TransientError; any other answer that is no
    granted timestamp is a TimestampRequestError (:func:`seal_pdf` makes it a TransientError too)."""

    def __init__(self, url: str, timeout: tuple[float, float] = TIMESTAMP_TIMEOUT) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self.url = url
        self._timeout = timeout
        self._session = requests.Session()

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            reply = self._session.post(
                self.url, data=req.dump(), headers={"Content-Type": _TIMESTAMP_QUERY}, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise TransientError(f"the timestamp authority could not be reached ({type(exc).__name__})") from exc
        if reply.status_code >= 500 or reply.status_code == 429:
            raise TransientError(f"the timestamp authority answered {reply.status_code}")
        content_type = reply.headers.get("Content-Type", "").split(";")[0].strip()
        if reply.status_code != 200 or content_type != _TIMESTAMP_REPLY:
            raise TimestampRequestError(f"the timestamp authority answered {reply.status_code} {content_type!r}")
        try:
            status = TimeStampAnswer.load(reply.content)["status"]
            granted = status["status"].native in ("granted", "granted_with_mods")
        except ValueError as exc:
            raise TimestampRequestError("the timestamp authority's answer is no TimeStampResp") from exc
        if not granted:
            refusal = f"{status['status'].native}: {status['fail_info'].native or status['status_string'].native}"
            raise TimestampRequestError(f"the timestamp authority refused the request ({refusal})")
        return tsp.TimeStampResp.load(reply.content)


class _Pdf17Signer(signers.PdfSigner):
    """pyHanko's signer, declaring only what PAdES on PDF 1.7 needs (see the module's doc)."""

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        pdf_out.ensure_output_version(version=(1, 7))  # type: ignore[no-untyped-call]
        if pdf_out.output_version < (2, 0):
            pdf_out.register_extension(ESIC_EXTENSION_1)


class _MetadataKeepingWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document's Info dictionary and XMP metadata as they are (see the
    module's doc). tests/unit/test_seal.py seals a PDF/A-style document and checks neither changed."""

    def _update_meta(self) -> None:
        return
