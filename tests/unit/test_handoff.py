"""Hand-off codes: short, unambiguous, typed back however people type them."""

from __future__ import annotations

import pytest

from omnicity.handoff import ALPHABET, new_code, normalize, qr_payload


def test_codes_are_two_groups_of_four_unambiguous_characters_and_differ() -> None:
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert code[4] == "-"
        assert set(code.replace("-", "")) <= set(ALPHABET)
    assert not set("ILOU01") & set(ALPHABET)


@pytest.mark.parametrize("typed", ["K7QM-3XPD", "k7qm3xpd", " K7QM 3XPD ", "k7qm-3xpd"])
def test_what_people_type_is_read_back(typed: str) -> None:
    assert normalize(typed) == "K7QM-3XPD"


@pytest.mark.parametrize("typed", ["K7QM-3XP", "K7QM-3XPDD", "K7QM-3XP0", "K7QM-3XPI", "", "../../etc"])
def test_anything_else_is_no_code(typed: str) -> None:
    assert normalize(typed) is None


def test_the_qr_payload_points_at_the_portal() -> None:
    assert qr_payload("K7QM-3XPD", "https://my.brussels.example/") == "https://my.brussels.example/continue/K7QM-3XPD"
