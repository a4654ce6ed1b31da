"""The documentation holds together: a README read in five minutes, pages it lists, and no link that leads nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omnicity.catalogue import get_catalogue
from tests.conftest import ROOT
from tests.documentation import (
    DOCS,
    README,
    RUN_BY_TESTS,
    anchors,
    broken_links,
    documentation_files,
    heading_slug,
    marked_blocks,
    relative_links,
)

README_MAX_CHARACTERS = 12_000


def test_the_readme_is_read_in_five_minutes() -> None:
    # Given the README as a newcomer opens it
    characters = len(README.read_text(encoding="utf-8"))
    # Then it is at most 12,000 characters (the rest lives in docs/)
    assert characters <= README_MAX_CHARACTERS, f"README.md has {characters} characters: move some to docs/"


@pytest.mark.parametrize("page", documentation_files(), ids=lambda page: str(page.relative_to(ROOT)))
def test_no_relative_link_leads_nowhere(page: Path) -> None:
    # Given a page of the documentation (README.md or any page under docs/)
    # When its links to files of the repository and to headings are followed
    broken = broken_links(page)
    # Then each file exists, and each anchor is a heading of the page it names
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_readme_lists_every_page_of_docs() -> None:
    # Given the README's links and the pages under docs/
    listed = {(README.parent / target.partition("#")[0]).resolve() for target in relative_links(README.read_text())}
    pages = [page for page in documentation_files() if page != README]
    # Then every page is reachable from the README's table of contents
    assert pages
    assert [page.relative_to(ROOT) for page in pages if page.resolve() not in listed] == []


@pytest.mark.parametrize("page", [page for page in documentation_files() if page != README], ids=lambda page: page.name)
def test_every_page_leads_back_to_the_readme(page: Path) -> None:
    # Given a page of docs/
    targets = relative_links(page.read_text(encoding="utf-8"))
    # Then it links back to the README
    assert any((page.parent / target.partition("#")[0]).resolve() == README for target in targets), page.name


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("The city's figures", "the-citys-figures"),
        ("The embedded local runtime (`infra/local/`)", "the-embedded-local-runtime-infralocal"),
        ("Open311 (GeoReport v2)", "open311-georeport-v2"),
        ("Express vs. Standard: why two machines?", "express-vs-standard-why-two-machines"),
        ("Déclaration d'arrivée à Bruxelles", "déclaration-darrivée-à-bruxelles"),
        ("snake_case and kebab-case", "snake_case-and-kebab-case"),
        ("A [linked](https://example.org) **bold** word", "a-linked-bold-word"),
        ("Retention → TTL", "retention--ttl"),
    ],
)
def test_heading_anchors_follow_githubs_rules(heading: str, slug: str) -> None:
    assert heading_slug(heading) == slug


def test_repeated_headings_are_numbered_and_code_comments_are_no_headings() -> None:
    # Given a page with a heading repeated three times and a bash comment in a fence
    text = "# Usage\n\n## Example\n\n```bash\n# Example\n```\n\n## Example\n\n### Example\n"
    # Then GitHub's anchors are the first, then -1, -2; the comment adds none
    assert anchors(text) == {"usage", "example", "example-1", "example-2"}


def test_a_broken_link_or_anchor_is_found(tmp_path: Path) -> None:
    # Given two pages: one links to the other's heading, to a missing heading, a missing file, and the web
    (tmp_path / "other.md").write_text("# Other\n\n## The API\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n## Here\n\n"
        "[ok](other.md#the-api), [ok too](#here), [web](https://example.org/nowhere#x), `[code](nowhere.md)`\n"
        "[gone](other.md#the-apis), [lost](missing.md), [self](#there)\n\n"
        "```bash\necho '[in a fence](nowhere.md)'\n```\n\n"
        "[defined]: elsewhere.md\n",
        encoding="utf-8",
    )
    # When its links are checked
    broken = broken_links(page)
    # Then exactly the missing heading, the missing files and the missing local heading are reported
    assert broken == [
        "other.md#the-apis: no such anchor in other.md",
        "missing.md: no such file",
        "#there: no such anchor in page.md",
        "elsewhere.md: no such file",
    ]


def test_every_marked_block_is_run_by_a_test() -> None:
    # Given every block the documentation marks as runnable (<!-- <marker>:start --> ... <!-- <marker>:end -->)
    markers = {
        marker
        for page in documentation_files()
        for marker in re.findall(r"<!-- ([\w-]+):start -->", page.read_text(encoding="utf-8"))
    }
    assert markers == set(RUN_BY_TESTS), "a marker no test runs, or a marker the tests expect that no page has"
    for marker, picks in RUN_BY_TESTS.items():
        blocks = marked_blocks(marker)
        # Then each block is the one block a test picks by what it holds, and each test's block is there once
        picked = [[name for name, holds in picks.items() if holds in block.script] for block in blocks]
        where = [f"{block.page.relative_to(ROOT)}: {names}" for block, names in zip(blocks, picked, strict=True)]
        assert all(len(names) == 1 for names in picked), where
        assert sorted(name for names in picked for name in names) == sorted(picks), where


def test_the_catalogue_table_is_the_catalogue() -> None:
    # Given the catalogue's table in docs/procedures.md: procedure | family | department | decided by | SLA | kept
    rows = re.findall(
        r"^\| `([a-z0-9-]+)` \| `(\w+)` \| (\w+)[^|]* \|[^|]*\| (\d+) \| (\d+) \|$",
        (DOCS / "procedures.md").read_text(encoding="utf-8"),
        re.M,
    )
    catalogue = get_catalogue().all()
    # Then it lists every procedure once, with its family, department, SLA and retention
    assert sorted(rows) == sorted(
        (p.id, p.family, p.department, str(p.sla_business_days), str(p.retention_days)) for p in catalogue
    )
    # And what the page says of them all holds: open on every channel, free
    assert all(set(p.channels) == {"portal", "kiosk", "counter"} and p.fee_cents == 0 for p in catalogue)
