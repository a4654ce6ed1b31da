"""What every benchmark hands back: figures, each a measured value against a target, written to bench/RESULTS.md.

A benchmark module (``bench/<name>.py``) exposes ``run(quick: bool) -> Section``; ``python -m bench`` runs them all
and writes the report. Figures are ratios or counts measured in one run (medians of several), never absolute
timings asserted anywhere.

A figure's ``target`` is text such as ``"<= 1.8"`` or ``">= 30"`` (in the figure's unit): :func:`shortfall` reads
those two forms to say by how much a missed target is missed; :func:`at_most` and :func:`at_least` build such a figure
with ``holds`` computed. Any other target text is shown as it is, and its ``holds`` is whatever the module says.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One measured figure: ``value`` in ``unit``, and whether it holds against ``target`` (None: no target)."""

    name: str
    value: float
    unit: str
    target: str | None = None
    holds: bool | None = None
    note: str = ""


@dataclass
class Section:
    """One benchmark's part of the report: a title, how it was measured, its figures and free-form remarks.

    ``details`` are Markdown blocks (a table, a list) printed as they are after the figures.
    """

    title: str
    method: str
    figures: list[Figure] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @classmethod
    def not_measured(cls, title: str, reason: str) -> Section:
        """The section of a benchmark that could not run (missing module, crash): the report says so and why."""
        return cls(title=title, method=f"Not measured: {reason}")


def median(samples: Sequence[float]) -> float:
    """The median of several runs (the figure every benchmark reports)."""
    return statistics.median(samples)


def at_most(name: str, value: float, unit: str, limit: float, note: str = "") -> Figure:
    """A figure whose target is ``value <= limit``."""
    return Figure(name, value, unit, target=f"<= {number(limit)}", holds=value <= limit, note=note)


def at_least(name: str, value: float, unit: str, limit: float, note: str = "") -> Figure:
    """A figure whose target is ``value >= limit``."""
    return Figure(name, value, unit, target=f">= {number(limit)}", holds=value >= limit, note=note)


def number(value: float) -> str:
    """A value written for people: integers as integers, thousands separated; others with one decimal from 10,
    two below (trailing zeros dropped), three significant digits below 0.01."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.01:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


_BOUND = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*\$?([-+]?[\d_,]*\.?\d+(?:[eE][-+]?\d+)?)")


def shortfall(figure: Figure) -> str | None:
    """How far a missed figure is from its target ("1.8 over the limit of 1.8 (+22%)"); None when it holds, has no
    target, or its target is not of the form ``<= X`` / ``>= X``."""
    if figure.holds is not False or figure.target is None:
        return None
    match = _BOUND.match(figure.target)
    if match is None:
        return None
    limit = float(match.group(2).replace(",", "").replace("_", ""))
    gap = abs(figure.value - limit)
    relative = f" ({(figure.value - limit) / abs(limit):+.0%})" if limit else ""
    side = "over the limit" if match.group(1) in ("<=", "<", "≤") else "short of the minimum"
    return f"{with_unit(gap, figure.unit)} {side} of {with_unit(limit, figure.unit)}{relative}"


def with_unit(value: float, unit: str) -> str:
    """``2.4x``, ``12 ms``: a number and its unit (ratios and percentages without a space)."""
    if unit in ("x", "%", ""):
        return f"{number(value)}{unit}"
    return f"{number(value)} {unit}"
