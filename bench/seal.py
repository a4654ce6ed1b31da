"""Seal: what the city's seal costs per document, apart from rendering (docs/seal.md).

The residence certificate of the Documents section is rendered once, then sealed as RenderDocument seals it
(``omnicity.adapters.sealing``: pyHanko, PAdES B-T), on the in-process local runtime: KMS ``Sign`` answered by moto,
the certificate chain read from its SSM parameter, the RFC 3161 timestamp asked of the runtime's timestamp authority
(``POST /local/tsa``, answered in-process). After one warm-up seal (which also reads the chain and asks one timestamp
to size the signature), each round seals the same rendered bytes; each seal is timed in wall-clock and CPU time, and
its KMS call and timestamp round trip are timed apart. Figures: medians over the rounds.

The first document an execution environment seals also pays pyHanko's import: measured apart, in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._instrument import local_runtime
from bench.report import Figure, Section, at_most, median, number

SEAL_LIMIT_MS = 30.0  # seal plus timestamp, per document, locally (issue 11)
ROOT = Path(__file__).resolve().parent.parent

_IMPORT_PADES = """
import time
started = time.perf_counter()
import omnicity.adapters.pades
print((time.perf_counter() - started) * 1000)
"""


class _TimedKms:
    """The KMS client, its ``sign`` calls timed (wall-clock milliseconds)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.spent: list[float] = []

    def sign(self, **request: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._client.sign(**request)
        finally:
            self.spent.append((time.perf_counter() - started) * 1000)


def _pades_import_ms() -> float:
    """pyHanko's import (through ``omnicity.adapters.pades``) in a fresh interpreter, milliseconds."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])}
    samples = []
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", _IMPORT_PADES], env=environment, capture_output=True, text=True, check=True
        )
        samples.append(float(done.stdout.strip()))
    return median(samples)


def run(quick: bool) -> Section:
    import boto3

    from bench.documents import LANGUAGE, TEMPLATE_ID, certificate_context
    from omnicity.adapters.pades import HttpTimestamper, KmsSigner, certificate_chain
    from omnicity.adapters.rendering import render_document
    from omnicity.adapters.sealing import PadesSealer, ParameterStoreChain
    from omnicity.config import SealSettings, load_settings

    rounds = 20 if quick else 100
    document = render_document(TEMPLATE_ID, LANGUAGE, certificate_context())
    timestamps: list[float] = []

    class TimedTimestamper(HttpTimestamper):
        async def async_request_tsa_response(self, req: Any) -> Any:
            started = time.perf_counter()
            try:
                return await super().async_request_tsa_response(req)
            finally:
                timestamps.append((time.perf_counter() - started) * 1000)

    with local_runtime() as runtime:
        settings = load_settings(SealSettings)
        kms = _TimedKms(boto3.client("kms"))
        chain = ParameterStoreChain(settings.seal_certificate_parameter, client=boto3.client("ssm"))
        sealer = PadesSealer(
            lambda: KmsSigner(kms, settings.seal_key_id, certificate_chain(chain.pem(), source=chain.name)),
            lambda: TimedTimestamper(settings.seal_timestamp_url),
        )
        sealed = sealer.seal(document)  # warm-up: the chain read, a timestamp asked to size the signature
        kms.spent.clear()
        timestamps.clear()
        wall: list[float] = []
        cpu: list[float] = []
        for _ in range(rounds):
            started_cpu, started = time.process_time(), time.perf_counter()
            sealed = sealer.seal(document)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        timestamp_url = runtime.timestamp_url
    assert sealed.startswith(document)
    per_document = median(wall)
    section = Section(
        title="Seal",
        method=(
            f"The residence certificate of the Documents section (`{TEMPLATE_ID}`, {LANGUAGE}, {len(document):,} "
            "bytes) rendered once, then sealed as RenderDocument seals it (`omnicity.adapters.sealing`: pyHanko, "
            "PAdES baseline B-T, ECDSA P-256) on the in-process local runtime: KMS `Sign` (MessageType RAW) answered "
            "by moto, the chain read from its SSM parameter, the timestamp asked of the runtime's RFC 3161 authority "
            f"({timestamp_url}, answered in-process). One warm-up seal, then {rounds} seals of the same bytes, each "
            "timed in wall-clock and CPU time, its KMS call and its timestamp round trip apart. Figures: medians. "
            "pyHanko's import, paid by the first document an execution environment seals, is timed in a fresh "
            "interpreter (median of 3)."
        ),
    )
    section.figures += [
        at_most(
            "Seal + timestamp per document (wall-clock)",
            per_document,
            "ms",
            SEAL_LIMIT_MS,
            f"CPU {number(median(cpu))} ms; rendering is measured apart (Documents)",
        ),
        Figure("of which KMS Sign (moto, in-process)", median(kms.spent), "ms"),
        Figure("of which the timestamp round trip (local TSA, in-process)", median(timestamps), "ms"),
        Figure("Bytes the seal adds to the document", len(sealed) - len(document), "bytes"),
        Figure(
            "pyHanko's import (first document sealed by an execution environment)",
            _pades_import_ms(),
            "ms",
            note="never at a cold start: tests/unit/test_import_footprint.py",
        ),
    ]
    section.remarks.append(
        "On AWS the KMS call and the timestamp round trip are network calls (KMS in the region; the TSA where the city "
        "contracted it): add their latency to the CPU time above; the timestamp client keeps its connection alive."
    )
    return section
