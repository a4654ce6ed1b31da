"""Cold start: how long a fresh Python process takes to import each function's handler, against ``import boto3``.

The functions come from template.yaml (CodeUri + Handler, with the environment the template gives each, resolved
by the local runtime's template reader). For each, a new interpreter runs ``import <handler module>`` with that
environment, the function's code directory and the layer on ``PYTHONPATH``, and fake AWS credentials and region:
import must create no client, so nothing is called. The baseline is ``python -c "import boto3"`` in the same
conditions. Each run is timed in CPU time (user + system) of that process, and wall-clock. Runs are interleaved
(one run of every subject per round, the starting subject rotating), each ratio is taken within a round, and the
figure is the median over the rounds; a first round warms the byte-code and file caches and is not counted.

Besides the template's environment (where Powertools leaves tracing off: no ``LAMBDA_TASK_ROOT``), the API
function is also measured as Lambda starts it with ``Tracing: Active`` (``LAMBDA_TASK_ROOT`` and the other Lambda
variables set), which loads the X-Ray SDK and patches botocore; and a naive handler (``bench/naive_handler.py``:
Powertools' resolver, a boto3 client and a pydantic model, all created at import) shows where an unoptimised
function starts from.

A second, untimed, run of each handler lists what its import left in ``sys.modules`` (fpdf2, jinja2, boto3, the
X-Ray SDK...) and counts the botocore clients and boto3 sessions alive after it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import Figure, Section, at_most, median, number
from infra.local.template import FunctionSpec, describe

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "core"
TEMPLATE = ROOT / "template.yaml"
BENCH_DIR = Path(__file__).resolve().parent

API_FUNCTION = "ApiFunction"
# The API function within 1.6x of `import boto3`: the first target was 1.8, the layer's reshaping (issue 10) holds 1.6
API_LIMIT = 1.6
NAIVE_REFERENCE = 2.4  # what the issue measured for a naive handler on this kind of machine
RENDERS_DOCUMENTS = frozenset({"RenderDocumentFunction"})  # the only function that may load fpdf2
REGION = "eu-west-1"

# Modules whose presence after the import is reported: name in sys.modules -> what to call it. (The botocore package
# alone is always there: Powertools imports it to set its user agent; botocore.client is what costs.)
WATCHED: Mapping[str, str] = {
    "fpdf": "fpdf2",
    "jinja2": "jinja2",
    "yaml": "PyYAML",
    "boto3": "boto3",
    "botocore.client": "botocore.client",
    "aws_xray_sdk": "X-Ray SDK",
}

# Runs in the audited process right after the handler's import; prints what the import left behind as JSON.
_AUDIT = """
import gc, json, sys
import {module}
loaded = set(sys.modules)
clients, sessions = [], 0
if "botocore.client" in loaded:
    from botocore.client import BaseClient
    clients = sorted(o.meta.service_model.service_name for o in gc.get_objects() if isinstance(o, BaseClient))
if "boto3.session" in loaded:
    from boto3.session import Session
    sessions = sum(1 for o in gc.get_objects() if isinstance(o, Session))
print(json.dumps({{"packages": sorted(loaded), "clients": clients, "sessions": sessions}}))
"""


@dataclass(frozen=True)
class Subject:
    """One thing to import in a fresh process: ``module`` with ``path`` on PYTHONPATH and ``env`` as environment."""

    label: str
    module: str
    path: tuple[Path, ...]
    env: Mapping[str, str]
    cwd: Path = ROOT

    def command(self, *options: str) -> list[str]:
        return [sys.executable, *options, "-c", f"import {self.module}"]

    def environment(self) -> dict[str, str]:
        return {**self.env, "PYTHONPATH": os.pathsep.join(str(p) for p in self.path)}


@dataclass
class Audit:
    packages: frozenset[str]  # every module in sys.modules after the import
    clients: list[str]
    sessions: int


@dataclass
class Timings:
    """Per subject: CPU and wall-clock milliseconds of each counted run, and its CPU time over the baseline's in the
    same round."""

    cpu: dict[str, list[float]] = field(default_factory=dict)
    wall: dict[str, list[float]] = field(default_factory=dict)
    ratios: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def base_environment() -> dict[str, str]:
    """What every measured process gets besides its function's variables: a fake but valid AWS setup."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only a fallback for HOME
        "LANG": "C.UTF-8",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",  # a fake credential: nothing is called at import
    }


def lambda_environment(spec: FunctionSpec) -> dict[str, str]:
    """The variables Lambda adds to a function's own (those Powertools and the X-Ray SDK read at import)."""
    return {
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": spec.handler,
    }


def function_subject(spec: FunctionSpec, *, on_lambda: bool = False) -> Subject:
    env = {**base_environment(), **spec.environment, **(lambda_environment(spec) if on_lambda else {})}
    label = f"{spec.logical_id} (Lambda, Tracing Active)" if on_lambda else spec.logical_id
    return Subject(label, spec.module_name, (spec.code_dir, LAYER), env, spec.code_dir)


def subjects(functions: Mapping[str, FunctionSpec]) -> tuple[Subject, list[Subject]]:
    """The baseline, then every function, the API function on Lambda with tracing, and the naive handler."""
    api = functions[API_FUNCTION]
    baseline = Subject("import boto3", "boto3", (LAYER,), base_environment())
    measured = [function_subject(spec) for spec in functions.values()]
    measured.append(function_subject(api, on_lambda=True))
    measured.append(
        Subject("naive handler", "naive_handler", (BENCH_DIR, LAYER), {**base_environment(), **api.environment})
    )
    return baseline, measured


def run_once(subject: Subject) -> tuple[float, float]:
    """Milliseconds from starting the interpreter to its exit after the import: wall-clock, and CPU (user + system,
    of that process alone: what the wall-clock time would be on an idle machine, the import being single-threaded
    and its files cached)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        subject.command(),
        env=subject.environment(),
        cwd=subject.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = (time.perf_counter() - began) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"import failed: {last}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def measure(baseline: Subject, measured: Sequence[Subject], rounds: int) -> Timings:
    """``rounds`` counted rounds after one warm-up round; in each round every subject runs once, the order rotating."""
    timings = Timings()
    everyone = [baseline, *measured]
    for index in range(rounds + 1):
        shift = index % len(everyone)
        results: dict[str, tuple[float, float]] = {}
        for subject in everyone[shift:] + everyone[:shift]:
            if subject.label in timings.failures:
                continue
            try:
                results[subject.label] = run_once(subject)
            except RuntimeError as exc:
                timings.failures[subject.label] = str(exc)
        if index == 0 or baseline.label not in results:
            continue  # the warm-up round (byte-code compiled, files cached)
        for label, (wall, cpu) in results.items():
            timings.wall.setdefault(label, []).append(wall)
            timings.cpu.setdefault(label, []).append(cpu)
            timings.ratios.setdefault(label, []).append(cpu / results[baseline.label][1])
    if baseline.label in timings.failures:
        raise RuntimeError(f"the baseline `import boto3` failed: {timings.failures[baseline.label]}")
    return timings


def audit(subject: Subject) -> Audit:
    done = subprocess.run(
        [sys.executable, "-c", _AUDIT.format(module=subject.module)],
        env=subject.environment(),
        cwd=subject.cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return Audit(frozenset(found["packages"]), list(found["clients"]), int(found["sessions"]))


def direct_imports(subject: Subject) -> list[tuple[str, float]]:
    """The handler module's own imports with their cumulative import time (ms), slowest first, from one run with
    ``-X importtime`` (a module shared by two imports is charged to the first)."""
    done = subprocess.run(
        subject.command("-X", "importtime"),
        env=subject.environment(),
        cwd=subject.cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    pending: list[tuple[int, str, float]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, raw_name = line.removeprefix("import time:").split("|", 2)
        if not cumulative.strip().isdigit():
            continue  # the header line
        name = raw_name.rstrip()
        indent = len(name) - len(name.lstrip())
        entry = (indent, name.strip(), int(cumulative) / 1000)
        if indent > 1:
            pending.append(entry)
            continue
        if entry[1] == subject.module:
            children = [(child, millis) for level, child, millis in pending if level == indent + 2]
            return sorted(children, key=lambda item: item[1], reverse=True)
        pending.clear()
    return []


def run(quick: bool) -> Section:
    functions = dict(describe(TEMPLATE).functions)
    baseline, measured = subjects(functions)
    rounds = 5 if quick else 15
    timings = measure(baseline, measured, rounds)
    base_ms = median(timings.cpu[baseline.label])

    section = Section(
        title="Cold start",
        method=(
            f"Each function of template.yaml ({len(functions)}, from CodeUri + Handler) is imported in a fresh "
            "interpreter with the environment the template gives it (resolved by `infra/local/template.py`), its code "
            "directory and the layer on PYTHONPATH, and a fake region and credentials. Figure: the CPU time (user + "
            'system) of that process over that of `python -c "import boto3"` in the same conditions (CPU time is what '
            "the wall-clock time is on an idle machine, the import being single-threaded and its files cached, and is "
            "far less disturbed by other work on the machine), the ratio taken within each round "
            f"and the median over {rounds} interleaved rounds (after one warm-up round, so byte-code is compiled as "
            "`sam build` does not). Outside Lambda (no `LAMBDA_TASK_ROOT`) Powertools keeps tracing off: the API "
            "function is also measured with Lambda's variables set, where `Tracing: Active` makes Powertools load the "
            "X-Ray SDK and patch botocore. A further untimed import of each handler lists what it loaded and counts "
            "the botocore clients and boto3 sessions alive after it."
        ),
    )
    audits = {s.label: audit(s) for s in measured if s.label not in timings.failures}

    def ratio(label: str) -> float:
        return median(timings.ratios[label])

    def millis_note(label: str) -> str:
        return f"CPU {number(median(timings.cpu[label]))} ms against {number(base_ms)} ms"

    for label, reason in timings.failures.items():
        section.figures.append(
            Figure(f"{label}: init / import boto3", float("nan"), "x", note=f"not measured: {reason}")
        )

    api_imports = direct_imports(function_subject(functions[API_FUNCTION]))
    if API_FUNCTION in timings.ratios:
        api_ratio = ratio(API_FUNCTION)
        why = "" if api_ratio <= API_LIMIT else _why_slow(api_imports)
        section.figures.append(
            at_most(f"{API_FUNCTION}: init / import boto3", api_ratio, "x", API_LIMIT, millis_note(API_FUNCTION) + why)
        )
    on_lambda = f"{API_FUNCTION} (Lambda, Tracing Active)"
    lambda_clients = ", ".join(audits[on_lambda].clients) if on_lambda in audits else ""
    references = {
        on_lambda: "X-Ray SDK loaded, botocore patched"
        + (f", the SDK's own clients created ({lambda_clients})" if lambda_clients else ""),
        "naive handler": f"resolver, boto3 client and pydantic model at import; the issue measured {NAIVE_REFERENCE}x",
    }
    for label, text in references.items():
        if label in timings.ratios:
            note = f"{text}; {millis_note(label)}"
            section.figures.append(Figure(f"{label}: init / import boto3", ratio(label), "x", note=note))

    spec_labels = [spec.logical_id for spec in functions.values() if spec.logical_id in audits]
    with_fpdf = sorted(label for label in spec_labels if "fpdf" in audits[label].packages)  # module names
    section.figures.append(
        Figure(
            "functions that load fpdf2 at init",
            len(with_fpdf),
            "",
            target="only " + ", ".join(sorted(RENDERS_DOCUMENTS)),
            holds=set(with_fpdf) == set(RENDERS_DOCUMENTS),
            note=", ".join(with_fpdf) or "none",
        )
    )
    client_count = sum(len(audits[label].clients) + audits[label].sessions for label in spec_labels)
    section.figures.append(
        Figure(
            "botocore clients and boto3 sessions alive after import (all functions)",
            client_count,
            "",
            target="= 0",
            holds=client_count == 0,
            note=_clients_note(audits, spec_labels),
        )
    )
    section.details.append(_per_function_table(functions, timings, audits, base_ms))
    openapi_models = "aws_lambda_powertools.event_handler.openapi.models"
    if API_FUNCTION in audits and openapi_models in audits[API_FUNCTION].packages:
        cost = dict(api_imports).get(openapi_models)
        section.remarks.append(
            "The API function loads Powertools' OpenAPI models at init"
            + (f" ({number(cost)} ms wall-clock in the `-X importtime` run)" if cost else "")
            + ": `app.enable_swagger(...)` and the `HTTPBearer` import in functions/api/app.py need them, and only "
            "GET /swagger uses them. Registering Swagger UI when the first request for it arrives, with the security "
            "scheme written as a plain mapping, keeps them out of every other cold start."
        )
    if api_imports:
        slowest = ", ".join(f"`{name}` {number(millis)} ms" for name, millis in api_imports[:8])
        section.details.append(
            f"The API handler's own imports, slowest first (one run with `-X importtime`, wall-clock, a module shared "
            f"by two imports charged to the first): {slowest}."
        )
    section.remarks += [
        "The figure is the init phase only (Lambda's Init Duration). The first request of a new instance then imports "
        "boto3 and creates the one client it needs (`omnicity.aws`, lazily): roughly the baseline's cost, paid by "
        "every function, naive or not. Making an import lazy shortens the cold start only when some requests never "
        "need it.",
        "`omnicity.observability` builds Powertools' Tracer only where Powertools traces (in Lambda, unless "
        "POWERTOOLS_TRACE_DISABLED or SAM local), and patches botocore only: elsewhere a Tracer still loads the X-Ray "
        "SDK, which creates botocore clients of its own at import. In Lambda with `Tracing: Active` that cost remains "
        "(the Lambda figure above).",
        "The botocore package itself (not its clients) is loaded by every function: Powertools imports it to set its "
        "user agent.",
        "Machine load: CPU time is far less sensitive to other work on the machine than wall-clock time, and ratios "
        "are taken within a round, but a loaded machine (other engineers' tests on the same 2 cores) still adds noise "
        "of a few hundredths to a tenth of a ratio.",
    ]
    return section


def _why_slow(imports: Sequence[tuple[str, float]]) -> str:
    top = ", ".join(f"{name} {number(millis)} ms" for name, millis in imports[:5])
    return f"; slowest imports of the handler: {top}" if top else ""


def _clients_note(audits: Mapping[str, Audit], labels: Sequence[str]) -> str:
    found = [
        f"{label}: {', '.join(audits[label].clients) or 'no client'}"
        + (f" + {audits[label].sessions} boto3 session(s)" if audits[label].sessions else "")
        for label in labels
        if audits[label].clients or audits[label].sessions
    ]
    return "; ".join(found) or "none: every client is created at first use (omnicity.aws)"


def _per_function_table(
    functions: Mapping[str, FunctionSpec], timings: Timings, audits: Mapping[str, Audit], base_ms: float
) -> str:
    lines = [
        f"Per function (medians; the baseline `import boto3` took {number(base_ms)} ms of CPU, "
        f"{number(median(timings.wall['import boto3']))} ms wall-clock):",
        "",
        "| Function | Handler | Init CPU (ms) | Init wall-clock (ms) | CPU / import boto3 | Loads at init "
        "| Clients alive |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for spec in functions.values():
        label = spec.logical_id
        if label not in timings.ratios:
            lines.append(f"| {label} | {spec.code_dir.name}/{spec.handler} | - | - | - | failed | - |")
            continue
        found = audits[label]
        loaded = ", ".join(name for package, name in WATCHED.items() if package in found.packages) or "-"
        clients = ", ".join(found.clients) or "0"
        lines.append(
            f"| {label} | {spec.code_dir.name}/{spec.handler} | {number(median(timings.cpu[label]))} "
            f"| {number(median(timings.wall[label]))} "
            f"| {number(median(timings.ratios[label]))}x | {loaded} | {clients} |"
        )
    return "\n".join(lines)
