"""The layer's folders are its architecture, and every import points down (docs/architecture.md).

Ranks, lowest first: ``domain`` (the vocabulary and rules) < the platform modules at the root (``aws``, ``config``,
``families``, ``observability``) < ``adapters`` (the outside world) < ``capabilities`` < ``catalogue`` < ``forms`` <
``application`` (the use cases) < ``http`` (the edge). A module imports its own rank or lower, never higher; the layer
imports neither ``functions`` nor ``infra``. Every import counts, a lazy one inside a function too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "core" / "omnicity"
RANKS = {
    "domain": 0,
    "aws": 1,
    "config": 1,
    "families": 1,
    "observability": 1,
    "adapters": 2,
    "capabilities": 3,
    "catalogue": 4,
    "forms": 5,
    "application": 6,
    "http": 7,
}
MODULES = sorted(path for path in LAYER.rglob("*.py") if path.name != "__init__.py" or path.parent != LAYER)


def part_of(dotted: str) -> str:
    """The top-level part of ``omnicity.<part>...``."""
    return dotted.split(".")[1]


def imported(path: Path) -> set[str]:
    """Every ``omnicity...`` (and ``functions``/``infra``) module ``path`` imports, wherever the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "omnicity":
                names |= {f"omnicity.{alias.name}" for alias in node.names}
            else:
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return {name for name in names if name.split(".")[0] in {"omnicity", "functions", "infra"}}


def test_every_part_of_the_layer_has_a_rank() -> None:
    parts = {path.relative_to(LAYER).parts[0].removesuffix(".py") for path in MODULES}
    assert parts == set(RANKS)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(LAYER)))
def test_imports_point_down(path: Path) -> None:
    own = path.relative_to(LAYER).parts[0].removesuffix(".py")
    for name in imported(path):
        assert name.startswith("omnicity."), f"the layer imports {name}"
        assert RANKS[part_of(name)] <= RANKS[own], f"{own} (rank {RANKS[own]}) imports {name}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    # A domain module that reached up into the adapters would be found, a lazy import too
    module = tmp_path / "rule.py"
    module.write_text("def f():\n    from omnicity.adapters.cases import CaseRepository\n", encoding="utf-8")
    assert imported(module) == {"omnicity.adapters.cases"}
