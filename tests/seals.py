"""Checking a sealed document as a third party would: pyHanko's validation API and its command line
(``pyhanko sign validate``), with one trust root, and documents with one byte changed inside the signed range."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import tsp
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from infra.local.seal import LocalTimestampAuthority

PYHANKO = Path(sys.executable).with_name("pyhanko")
# What `pyhanko sign validate` prints for a seal that is intact, trusted and timestamped by a trusted TSA, and covers
# the whole file (after the field name and the signer's fingerprint).
CLI_VALID = "INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED"
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_PAGE_CONTENTS = re.compile(rb"/Contents\s+(\d+)\s+0\s+R")
_STREAM_DATA = re.compile(rb"(?<!end)stream\r?\n")
_SIGNING_TIME = re.compile(rb"/M\s*\(D(?:\\072|:)(\d{14})")


class InProcessTimestamper(TimeStamper):
    """A timestamp client that hands its requests to the local timestamp authority in this process (the same DER
    request and reply as over HTTP)."""

    def __init__(self, authority: LocalTimestampAuthority) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.authority = authority
        self.requests = 0

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        self.requests += 1
        return tsp.TimeStampResp.load(self.authority.respond(req.dump()))


def validate(pdf: bytes, ca_pem: bytes) -> PdfSignatureStatus:
    """The status of the document's one signature, ``ca_pem`` the only trust root (of the signer and the TSA)."""
    roots = list(load_certs_from_pemder_data(ca_pem))
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    timestamps = ValidationContext(trust_roots=roots, allow_fetching=False)
    return validate_pdf_signature(signature, signer_validation_context=context, ts_validation_context=timestamps)


def validate_with_cli(
    pdf: bytes, ca_pem: bytes, folder: Path, *, pretty: bool = False
) -> subprocess.CompletedProcess[str]:
    """``pyhanko sign validate --trust <ca.pem> --trust-replace`` on the document, as a third party runs it."""
    folder.mkdir(parents=True, exist_ok=True)
    document, trust = folder / "document.pdf", folder / "ca.pem"
    document.write_bytes(pdf)
    trust.write_bytes(ca_pem)
    options = ["--pretty-print"] if pretty else []
    command = [str(PYHANKO), "sign", "validate", *options, "--trust", str(trust), "--trust-replace", str(document)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@dataclass(frozen=True)
class SignedRange:
    """The two byte ranges a PDF signature covers: all of the file but the signature's own hex string."""

    first: range
    second: range

    @classmethod
    def of(cls, pdf: bytes) -> SignedRange:
        matches = list(_BYTE_RANGE.finditer(pdf))
        assert len(matches) == 1, "one signature"
        start, length, second_start, second_length = (int(value) for value in matches[0].groups())
        return cls(range(start, start + length), range(second_start, second_start + second_length))

    def __contains__(self, offset: object) -> bool:
        return offset in self.first or offset in self.second


def flipped(pdf: bytes, offset: int) -> bytes:
    """``pdf`` with the lowest bit of one byte changed (a digit stays a digit, a letter a letter)."""
    changed = bytearray(pdf)
    changed[offset] ^= 0x01
    return bytes(changed)


def tamperings(pdf: bytes) -> dict[str, int]:
    """Offsets of bytes inside the signed range whose change leaves the file readable, by where they are: in the
    header's binary comment, in the first page's content stream, in the seal's own signing time (the second range)."""
    signed = SignedRange.of(pdf)
    header = pdf.index(b"\n") + 2  # the comment line after %PDF-x.y: bytes only there to say the file is binary
    contents = _PAGE_CONTENTS.search(pdf)  # the first page's content stream: drawn, never parsed by a validator
    assert contents is not None
    stream = _STREAM_DATA.search(pdf, pdf.index(b"\n%s 0 obj" % contents.group(1)))
    assert stream is not None
    signing_time = _SIGNING_TIME.search(pdf, signed.second.start)
    assert signing_time is not None
    offsets = {
        "header comment": header,
        "page content": stream.end() + 8,
        "signing time": signing_time.start(1) + 12,  # the tens of the seconds (D:YYYYMMDDHHmmSS): still a time
    }
    assert all(offset in signed for offset in offsets.values()), offsets
    return offsets


def as_bytes(value: Any) -> bytes:
    """A pyHanko PDF value (stream data, string) as bytes."""
    return bytes(value)
