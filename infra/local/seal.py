"""The city's seal, locally: what a city buys from a trust service provider, made up at every start.

When the template's functions seal documents (their ``SEAL_*`` settings, ``omnicity.config.SealSettings``),
:meth:`LocalSeal.start` creates, after the template's resources are provisioned:

- a small certificate authority, the only trust root a validator needs (``GET /local/seal/ca.pem``);
- the seal's certificate, issued by it for the public key of the template's KMS key (moto's, whose private key
  never leaves moto, as on AWS it never leaves KMS), written with the CA's into the template's SSM parameter, where
  the functions read the chain as they do on AWS;
- an RFC 3161 timestamp authority (its own certificate, extended key usage timeStamping, critical), which answers
  ``POST /local/tsa`` (:meth:`LocalTimestampAuthority.respond`).

Keys are ECDSA P-256: a key takes a fraction of a millisecond, and tests start many runtimes. The certificates are
written as PEM under the runtime's own folder (``<folder>/seal/``), which goes with it. Nothing here is trusted
anywhere else: a new CA every start, for development and tests only.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The variables a function that seals is given: omnicity.config.SealSettings' names (tests/unit/test_seal.py keeps
# them equal; infra imports the layer lazily: `python -m infra.local` puts it on the path once started).
KEY_VARIABLE: Final = "SEAL_KEY_ID"
CHAIN_VARIABLE: Final = "SEAL_CERTIFICATE_PARAMETER"
TIMESTAMP_URL_VARIABLE: Final = "SEAL_TIMESTAMP_URL"

TIMESTAMP_PATH: Final = "/local/tsa"
CA_PATH: Final = "/local/seal/ca.pem"
# The local TSA's policy: an OID of the 2.25 arc (a UUID as an integer) needs no registration.
TSA_POLICY: Final = f"2.25.{uuid.UUID('7f0e5c1a-3b2d-4e8f-9a61-c4d2b7e8f013').int}"
_DIGESTS: Final = {"sha256": 32, "sha384": 48, "sha512": 64}
_SKEW: Final = timedelta(minutes=5)  # certificates start a little in the past: clocks differ


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
        ]
    )


def _usage(*, signs: bool = False, certifies: bool = False) -> x509.KeyUsage:
    """digitalSignature and nonRepudiation (contentCommitment) for a signer, keyCertSign and cRLSign for a CA."""
    return x509.KeyUsage(
        digital_signature=signs,
        content_commitment=signs,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certifies,
        crl_sign=certifies,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


class LocalCertificateAuthority:
    """A self-signed CA that issues the local seal's and timestamp authority's certificates."""

    def __init__(self, organization: str, now: datetime) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._now = now
        name = _name("omnicity local CA (development only)", organization)
        self.certificate = self._build(name, self._key.public_key(), days=730, ca=True, usage=_usage(certifies=True))

    def issue(
        self, subject: x509.Name, public_key: Any, *, extended_usage: x509.ObjectIdentifier | None = None
    ) -> x509.Certificate:
        """A one-year signer's certificate for ``public_key``; ``extended_usage``: its one, critical, EKU."""
        return self._build(subject, public_key, days=365, ca=False, usage=_usage(signs=True), eku=extended_usage)

    def _build(
        self,
        subject: x509.Name,
        public_key: Any,
        *,
        days: int,
        ca: bool,
        usage: x509.KeyUsage,
        eku: x509.ObjectIdentifier | None = None,
    ) -> x509.Certificate:
        issuer = subject if ca else self.certificate.subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now - _SKEW)
            .not_valid_after(self._now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
        return builder.sign(self._key, hashes.SHA256())


class LocalTimestampAuthority:
    """An RFC 3161 timestamp authority: :meth:`respond` turns a DER TimeStampReq into a DER TimeStampResp, granted
    (a token signed by its ECDSA key, its certificate inside) or rejected with the reason (never an exception: the
    HTTP answer of a TSA is a TimeStampResp either way)."""

    def __init__(self, authority: LocalCertificateAuthority, organization: str) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = _name("omnicity local timestamp authority", organization)
        self.certificate = authority.issue(
            subject, self._key.public_key(), extended_usage=ExtendedKeyUsageOID.TIME_STAMPING
        )
        # Built once, and from their DER: asn1crypto serialises freshly built structures anew each time a response
        # copies them (a millisecond a time, for a certificate reference).
        certificate = _asn1(self.certificate)
        self._certificates = cms.CertificateSet.load(cms.CertificateSet([certificate]).dump())
        self._signer_id = cms.SignerIdentifier.load(
            cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": certificate.issuer,
                        "serial_number": certificate.serial_number,
                    }
                }
            ).dump()
        )
        self._tsa_name = asn1_x509.GeneralName.load(
            asn1_x509.GeneralName(name="directory_name", value=certificate.subject).dump()
        )
        self._signing_certificate = cms.CMSAttribute.load(
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        {
                            "certs": [
                                # SHA-256, ESSCertIDv2's default hash (DER leaves a default out)
                                {"cert_hash": hashlib.sha256(certificate.dump()).digest()}
                            ]
                        }
                    ],
                }
            ).dump()
        )

    def respond(self, request: bytes) -> bytes:
        try:
            query = tsp.TimeStampReq.load(request)
            imprint = query["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            nonce = query["nonce"].native
            policy = query["req_policy"].native
        except (ValueError, TypeError, KeyError):
            return self._rejection("bad_data_format")
        if _DIGESTS.get(algorithm) != len(digest or b""):
            return self._rejection("bad_alg")
        if policy is not None and policy != TSA_POLICY:
            return self._rejection("unaccepted_policy")
        info: dict[str, Any] = {
            "version": "v1",
            "policy": TSA_POLICY,
            "message_imprint": {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest},
            "serial_number": secrets.randbits(63) + 1,
            "gen_time": datetime.now(UTC),
            "accuracy": {"seconds": 1},
            "tsa": self._tsa_name,
        }
        if nonce is not None:
            info["nonce"] = nonce
        token_info = tsp.TSTInfo(info).dump()
        attributes = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(token_info).digest()]}),
                self._signing_certificate,
            ]
        )
        signature = self._key.sign(attributes.dump(), ec.ECDSA(hashes.SHA256()))
        sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [sha256],
                "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(token_info)},
                "certificates": self._certificates,
                "signer_infos": [
                    {
                        "version": "v1",
                        "sid": self._signer_id,
                        "digest_algorithm": sha256,
                        "signed_attrs": attributes,
                        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                        "signature": signature,
                    }
                ],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        answer = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})
        return bytes(answer.dump())

    @staticmethod
    def _rejection(reason: str) -> bytes:
        """A TimeStampResp that holds its status only (RFC 3161: no token but when granted). asn1crypto's TimeStampResp
        cannot leave its token out: the SEQUENCE is written around the status by hand."""
        status = tsp.PKIStatusInfo({"status": "rejection", "fail_info": {reason}})
        return bytes(core.Sequence(contents=status.dump()).dump())


@dataclass(frozen=True)
class SealConfiguration:
    """What the template's functions are given to seal with: the KMS key (its alias), the SSM parameter of the
    chain (and its tier), the variable that names the timestamp authority."""

    key_id: str
    parameter: str
    parameter_tier: str | None

    @classmethod
    def of(cls, environment: Mapping[str, str], tiers: Mapping[str, str | None]) -> SealConfiguration | None:
        """The configuration ``environment`` (a function's variables) holds, if that function seals."""
        if KEY_VARIABLE not in environment or CHAIN_VARIABLE not in environment:
            return None
        parameter = environment[CHAIN_VARIABLE]
        return cls(environment[KEY_VARIABLE], parameter, tiers.get(parameter))


class LocalSeal:
    """The local CA, the seal's certificate (in the SSM parameter) and the timestamp authority (see the module)."""

    def __init__(
        self, authority: LocalCertificateAuthority, seal: x509.Certificate, tsa: LocalTimestampAuthority, folder: Path
    ) -> None:
        self.authority = authority
        self.seal_certificate = seal
        self.timestamps = tsa
        self.folder = folder

    @classmethod
    def start(cls, configuration: SealConfiguration, *, kms: Any, ssm: Any, folder: Path, city: str) -> LocalSeal:
        """Make the CA, certify the KMS key's public key, write the chain into the SSM parameter and the PEMs under
        ``folder``; ``city``: the seal's organization."""
        now = datetime.now(UTC)
        authority = LocalCertificateAuthority(city, now)
        public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=configuration.key_id)["PublicKey"])
        seal = authority.issue(_name(f"{city} (local seal)", city), public_key)
        tsa = LocalTimestampAuthority(authority, city)
        chain = _pem(seal) + _pem(authority.certificate)
        tier = {"Tier": configuration.parameter_tier} if configuration.parameter_tier else {}
        ssm.put_parameter(
            Name=configuration.parameter, Value=chain.decode("ascii"), Type="String", Overwrite=True, **tier
        )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ca.pem").write_bytes(_pem(authority.certificate))
        (folder / "seal.pem").write_bytes(_pem(seal))
        (folder / "chain.pem").write_bytes(chain)
        (folder / "tsa.pem").write_bytes(_pem(tsa.certificate))
        return cls(authority, seal, tsa, folder)

    @property
    def ca_pem(self) -> bytes:
        """The only trust root of the local seal and timestamps (PEM)."""
        return _pem(self.authority.certificate)
