"""The project's documentation as the tests read it: README.md and the pages under docs/.

Documented shell examples are marked in the markdown (``<!-- walkthrough:start -->`` ... ``<!-- walkthrough:end
-->``, ``<!-- open311:start -->`` ...) around one ```bash fence; the tests run each marked block verbatim, wherever
it lives, and pick it by what it holds (never by its position, so a block can move between pages).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"


def documentation_files() -> list[Path]:
    """README.md, then every markdown page under docs/, in a stable order."""
    return [README, *sorted(DOCS.rglob("*.md"))]


@dataclass(frozen=True)
class MarkedBlock:
    """One marked ```bash block: the page it lives in and its script, as written."""

    page: Path
    script: str


def marked_blocks(marker: str) -> list[MarkedBlock]:
    """Every ``<!-- <marker>:start -->`` ```bash ... ``` ``<!-- <marker>:end -->`` block of the documentation."""
    pattern = re.compile(
        rf"<!-- {re.escape(marker)}:start -->\s*```bash\n(.*?)```\s*<!-- {re.escape(marker)}:end -->", re.S
    )
    return [
        MarkedBlock(page, script)
        for page in documentation_files()
        for script in pattern.findall(page.read_text(encoding="utf-8"))
    ]


# The marked blocks the tests run, by marker and name: each is picked by what it alone holds. A marked block that
# none of these picks fails tests/unit/test_docs.py, so a documented example cannot go untested.
RUN_BY_TESTS: Final[dict[str, dict[str, str]]] = {
    "walkthrough": {
        "certificate": '"procedure_id": "residence-certificate"',  # README.md
        "alert": '"procedure_id": "public-space-alert"',  # docs/procedures.md
        "bulky_items": '"procedure_id": "bulky-items-removal"',  # docs/procedures.md
        "agents_day": "/claim",  # docs/agents.md
        "seal": "/local/seal/ca.pem",  # docs/seal.md
    },
    "open311": {"session": "$O311/requests.json"},  # docs/open311.md
}


def marked_block(marker: str, name: str) -> str:
    """The one ``marker`` block holding what ``RUN_BY_TESTS[marker][name]`` names, wherever it lives: fails when the
    documentation lost it or holds it twice."""
    containing = RUN_BY_TESTS[marker][name]
    found = [block for block in marked_blocks(marker) if containing in block.script]
    pages = ", ".join(str(block.page.relative_to(ROOT)) for block in found) or "none"
    assert len(found) == 1, f"expected one {marker!r} block holding {containing!r} in README.md or docs/: {pages}"
    return found[0].script


DOCUMENTED_API: Final = "API=http://127.0.0.1:3000\n"  # how each marked block names the API it talks to


def run_block(
    script: str, api_url: str, folder: Path, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a marked block as written, pointed at ``api_url`` (the only change: its ``API=`` line), in ``folder``
    (not the repository); ``environment``: variables the block reads with a default."""
    assert DOCUMENTED_API in script
    script = script.replace(DOCUMENTED_API, f"API={api_url}\n", 1)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(environment or {})},
    )


# --- Links and anchors, as GitHub renders them ------------------------------------------------------------------

FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.I)
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto: ... are not checked


def prose_lines(text: str) -> list[str]:
    """The lines of a markdown text outside fenced code blocks (a ``# comment`` in a bash block is no heading)."""
    lines, fence = [], ""
    for line in text.splitlines():
        opening = FENCE.match(line)
        if fence:
            if opening and opening.group(1) == fence and not line.strip()[3:].strip("`~").strip():
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        lines.append(line)
    return lines


def heading_slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: rendered text lower-cased, punctuation but '-' and '_' removed, spaces
    to '-'. Letters keep their accents; code spans keep their text, links keep their label."""
    text = CODE_SPAN.sub(lambda match: match.group(2).strip(), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|\*)(.+?)\1", r"\2", text)
    text = re.sub(r"<[^>]+>", "", text)
    return "".join(char for char in text.lower() if char.isalnum() or char in "-_ ").replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a markdown page offers: its headings' slugs (a repeated slug gets -1, -2, ...) and HTML ids."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(text):
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if not heading:
            continue
        slug = heading_slug(heading.group(2))
        if slug in seen:
            seen[slug] += 1
            slug = f"{slug}-{seen[slug]}"
        else:
            seen[slug] = 0
        found.add(slug)
    return found


def relative_links(text: str) -> list[str]:
    """The link targets of a markdown text that point inside the repository (inline, images and reference style)."""
    targets: list[str] = []
    for line in prose_lines(text):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            targets.append(definition.group(1))
            continue
        targets.extend(LINK.findall(CODE_SPAN.sub("", line)))
    return [target for target in targets if not EXTERNAL.match(target)]


def broken_links(page: Path) -> list[str]:
    """The relative links of one page whose file, or anchor in a markdown page, does not exist (``target: why``).

    An anchor into another kind of file (``template.yaml#L10``) is not checked."""
    broken = []
    for target in relative_links(page.read_text(encoding="utf-8")):
        path_part, _, anchor = target.partition("#")
        anchor = unquote(anchor)
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination.read_text(encoding="utf-8")):
            broken.append(f"{target}: no such anchor in {destination.name}")
    return broken
