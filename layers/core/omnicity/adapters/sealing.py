"""The city's electronic seal on the documents it issues (docs/seal.md): a PAdES baseline B-T signature (the seal's
certificate, an RFC 3161 timestamp), in an invisible signature field, appended to the rendered PDF as an incremental
update: the bytes the renderer wrote stay as they are, up to the last one, and so does their PDF/A conformance.

This module is what a function imports at cold start, and it imports no pyHanko: pyHanko and its cryptography stack
take most of a second to import, paid on the first document an execution environment seals
(``omnicity.adapters.pades``), never at a cold start nor in a function that never seals (tests/unit/
test_import_footprint.py holds both). Everything the seal needs from AWS (the certificate chain, the KMS client) is
also fetched on the first document, then kept for the execution environment's life.

On AWS (:func:`kms_sealer`): the private key is an asymmetric, sign-only KMS key (it never leaves KMS); the chain
that certifies its public key is an SSM parameter (PEM); the timestamp authority is reached over HTTP(S). A city
whose seal lives elsewhere (a QTSP's remote signing service, an HSM) gives :class:`PadesSealer` another signer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omnicity import aws
from omnicity.config import SealSettings

if TYPE_CHECKING:
    from pyhanko.sign.signers import Signer
    from pyhanko.sign.timestamps import TimeStamper


class ParameterStoreChain:
    """The seal's certificate chain, as PEM text in an SSM parameter (read when asked: :class:`PadesSealer` keeps
    what it built from it)."""

    def __init__(self, name: str, client: Any | None = None) -> None:
        self.name = name
        self._client = client

    def pem(self) -> bytes:
        client = self._client or aws.ssm()
        with aws.translate_errors("SSM get_parameter"):
            value: str = client.get_parameter(Name=self.name)["Parameter"]["Value"]
        return value.encode("utf-8")


class PadesSealer:
    """The document sealer (``omnicity.application.ports.DocumentSealer``): ``seal(pdf)`` returns ``pdf`` with the
    city's PAdES B-T seal appended.

    ``signer`` and ``timestamper`` build the pyHanko signer (who signs, with which certificates) and timestamp client
    on the first document sealed; both are kept for the next ones. A seal that fails drops the signer, so the next
    document reads the certificate chain again (a renewed seal: a new key behind the alias and its certificate).
    Not safe for concurrent use: an execution environment seals one document at a time.
    """

    def __init__(self, signer: Callable[[], Signer], timestamper: Callable[[], TimeStamper]) -> None:
        self._build_signer = signer
        self._build_timestamper = timestamper
        self._signer: Signer | None = None
        self._timestamper: TimeStamper | None = None

    def seal(self, pdf: bytes) -> bytes:
        from omnicity.adapters import pades  # pyHanko: loaded with the first document sealed, never at a cold start

        if self._signer is None:
            self._signer = self._build_signer()
        if self._timestamper is None:
            self._timestamper = self._build_timestamper()
        try:
            return pades.seal_pdf(pdf, self._signer, self._timestamper)
        except Exception:
            self._signer = None
            raise


def kms_sealer(settings: SealSettings, kms: Any | None = None, ssm: Any | None = None) -> PadesSealer:
    """The seal as deployed: the KMS key ``SEAL_KEY_ID`` signs, the chain in ``SEAL_CERTIFICATE_PARAMETER`` certifies
    it, ``SEAL_TIMESTAMP_URL`` timestamps it. Nothing is fetched, and no client made, before the first document."""
    chain = ParameterStoreChain(settings.seal_certificate_parameter, client=ssm)

    def signer() -> Signer:
        from omnicity.adapters.pades import KmsSigner, certificate_chain

        certificates = certificate_chain(chain.pem(), source=f"the SSM parameter {chain.name}")
        return KmsSigner(kms or aws.kms(), settings.seal_key_id, certificates)

    def timestamper() -> TimeStamper:
        from omnicity.adapters.pades import HttpTimestamper

        return HttpTimestamper(settings.seal_timestamp_url)

    return PadesSealer(signer, timestamper)
