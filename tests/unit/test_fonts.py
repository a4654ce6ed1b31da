"""The documents' font: cut down once per process to the repertoire, cached on disk, the same bytes every time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fontTools import ttLib

from omnicity.adapters import fonts


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty font cache directory, and no prepared file remembered by this process."""
    monkeypatch.setenv("OMNICITY_FONT_CACHE", str(tmp_path))
    fonts.prepared_file.cache_clear()
    yield tmp_path
    fonts.prepared_file.cache_clear()  # later tests find the default cache again


def test_a_prepared_file_holds_the_repertoire_and_nothing_for_layout(fresh_cache: Path) -> None:
    # When the regular style is prepared
    path = fonts.prepared_file("")

    # Then it is written in the cache directory, named by a digest of its source
    assert path.parent == fresh_cache / f"omnicity-fonts-{os.getuid()}"
    assert path.name.startswith("FiraSans-Regular-")
    # and it maps every character of the repertoire the package's font has, and no other
    prepared = ttLib.TTFont(str(path))
    source = ttLib.TTFont(str(fonts.source_file("")), lazy=True)
    assert set(prepared.getBestCmap()) == fonts.REPERTOIRE & set(source.getBestCmap())
    # without the layout tables, kerning or hinting programs (the layout places precomposed letters)
    assert not {"GSUB", "GPOS", "GDEF", "kern", "fpgm", "prep"} & set(prepared.keys())
    # and it keeps the font's licence and copyright notices
    assert prepared["name"].getDebugName(13) == source["name"].getDebugName(13)


def test_cutting_down_is_deterministic() -> None:
    source = fonts.source_file("B").read_bytes()
    assert fonts._cut_down(source) == fonts._cut_down(source)


def test_a_file_already_in_the_cache_is_used_as_it_is(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a process that prepared the italic style into the cache
    path = fonts.prepared_file("I")
    fonts.prepared_file.cache_clear()

    # When it is asked for again with nothing remembered in memory, as a new process finds the file on disk
    def refuse(source: bytes) -> bytes:
        raise AssertionError("the cached file should have been used")

    monkeypatch.setattr(fonts, "_cut_down", refuse)

    # Then it gets the file from the cache, without cutting the font again
    assert fonts.prepared_file("I") == path


def test_a_cache_directory_others_can_write_to_is_not_trusted(fresh_cache: Path) -> None:
    # Given a cache directory anyone may write to (a font planted there would be embedded in official documents)
    planted = fresh_cache / f"omnicity-fonts-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)

    # When a style is prepared
    path = fonts.prepared_file("")

    # Then it is written to, and read from, a private directory of the process instead
    assert path.parent != planted
    assert not path.parent.stat().st_mode & 0o077
    assert list(planted.iterdir()) == []
