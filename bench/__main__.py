"""``python -m bench [--quick] [--only NAME...]``: run the benchmarks and write bench/RESULTS.md.

The modules run one after the other in a fixed order (:data:`MODULES`). A module that does not exist yet, fails to
import or raises is reported as "not measured" with the reason: the other sections are still measured and written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import cast

from bench.report import Figure, Section, shortfall, with_unit

# Module name -> the title of its section (used as is when the module could not say it itself).
MODULES: dict[str, str] = {
    "cold_start": "Cold start",
    "documents": "Documents",
    "seal": "Seal",
    "throughput": "Throughput",
    "cost": "Cost per product",
    "scale": "Scale",
}
PACKAGES = (
    "boto3",
    "botocore",
    "aws-lambda-powertools",
    "aws-xray-sdk",
    "pydantic",
    "jinja2",
    "fpdf2",
    "reportlab",
    "weasyprint",
    "pyHanko",
    "moto",
)
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def run_module(name: str, quick: bool) -> Section:
    """The section of ``bench.<name>``: what its ``run(quick)`` returns, or a "not measured" one saying why not."""
    title = MODULES.get(name, name)
    try:
        module = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"bench.{name}":
            return Section.not_measured(title, f"`bench/{name}.py` does not exist yet.")
        traceback.print_exc()
        return Section.not_measured(title, f"`bench/{name}.py` needs a module that is not installed ({exc.name}).")
    except Exception as exc:  # a broken module must not stop the others
        traceback.print_exc()
        return Section.not_measured(title, f"`bench/{name}.py` failed to import: {type(exc).__name__}: {exc}")
    return _run(title, name, getattr(module, "run", None), quick)


def _run(title: str, name: str, run: object, quick: bool) -> Section:
    if not callable(run):
        return Section.not_measured(title, f"`bench/{name}.py` has no `run(quick: bool) -> Section`.")
    try:
        section = cast(Callable[[bool], object], run)(quick)
    except Exception as exc:  # report the failure and go on with the next benchmark
        traceback.print_exc()
        return Section.not_measured(title, f"`bench/{name}.py` raised {type(exc).__name__}: {exc}")
    if not isinstance(section, Section):
        return Section.not_measured(title, f"`bench/{name}.py` returned {type(section).__name__}, not a Section.")
    return section


# ------------------------------------------------------------------------------------------------ the machine
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def os_name() -> str:
    try:
        release = dict(
            line.split("=", 1)
            for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines()
            if "=" in line
        )
        pretty = release.get("PRETTY_NAME", "").strip('"')
    except OSError:
        pretty = ""
    kernel = f"{platform.system()} {platform.release()}"
    return f"{pretty} ({kernel})" if pretty else kernel


def load_average() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


# ------------------------------------------------------------------------------------------------ the report
def cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def holds_text(figure: Figure) -> str:
    if figure.holds is None:
        return "-"
    return "yes" if figure.holds else "**no**"


def figure_table(figures: Sequence[Figure]) -> list[str]:
    lines = ["| Figure | Value | Target | Holds | Note |", "| --- | ---: | --- | --- | --- |"]
    lines += [
        f"| {cell(f.name)} | {cell(with_unit(f.value, f.unit))} | {cell(f.target or '-')} | {holds_text(f)} "
        f"| {cell(f.note)} |"
        for f in figures
    ]
    return lines


def missed(figure: Figure) -> str:
    by = shortfall(figure)
    how = f": {by}" if by else f" (target {figure.target})"
    why = f" Why: {figure.note}" if figure.note else ""
    return f"- **{figure.name}** is {with_unit(figure.value, figure.unit)}{how}.{why}"


def render(sections: Sequence[Section], *, quick: bool, only: Sequence[str], started: datetime, load: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand. Every figure is a ratio or a count "
        "measured in this one run (the median of several runs where timed); absolute times are shown only to "
        "explain a ratio and depend on the machine and its load.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Mode: {'quick (`--quick`: fewer runs per figure)' if quick else 'full'}"
        + (f"; only {', '.join(only)}" if only else ""),
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores, {os_name()}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        f"- Load average (1, 5, 15 min) at the start: {load}; at the end: {load_average()}",
        "",
        "## Package versions",
        "",
        "| Package | Version |",
        "| --- | --- |",
        *(f"| {package} | {version(package)} |" for package in PACKAGES),
        "",
        "## Summary",
        "",
        "| Section | Figure | Value | Target | Holds |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for section in sections:
        targeted = [f for f in section.figures if f.target is not None]
        if not section.figures:
            lines.append(f"| {cell(section.title)} | not measured | - | - | - |")
        lines += [
            f"| {cell(section.title)} | {cell(f.name)} | {cell(with_unit(f.value, f.unit))} | {cell(f.target or '-')}"
            f" | {holds_text(f)} |"
            for f in targeted
        ]
    misses = [(s, f) for s in sections for f in s.figures if f.holds is False]
    lines += ["", "Targets missed: " + (str(len(misses)) if misses else "none") + ".", ""]
    for section in sections:
        lines += [f"## {section.title}", "", section.method, ""]
        if section.figures:
            lines += [*figure_table(section.figures), ""]
        section_misses = [f for s, f in misses if s is section]
        if section_misses:
            lines += ["Missed:", "", *(missed(f) for f in section_misses), ""]
        for block in section.details:
            lines += [block, ""]
        if section.remarks:
            lines += ["Remarks:", "", *(f"- {remark}" for remark in section.remarks), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="fewer runs per figure (a rough figure in less time)")
    parser.add_argument("--only", nargs="+", choices=list(MODULES), default=[], metavar="NAME", help="run these only")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"where to write the report (default: {RESULTS})")
    args = parser.parse_args(argv)

    started, load = datetime.now(UTC), load_average()
    sections = []
    for name in [name for name in MODULES if not args.only or name in args.only]:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        section = run_module(name, args.quick)
        print(f"bench: {name} done in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
        sections.append(section)
    report = render(sections, quick=args.quick, only=args.only, started=started, load=load)
    args.output.write_text(report, encoding="utf-8")
    print(f"bench: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
