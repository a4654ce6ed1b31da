"""Hand-off codes: too many to guess, unambiguous, typed back however people type them, typing mistakes caught."""

from __future__ import annotations

import math
import re

import pytest

from omnicity.domain.handoff import ALPHABET, check_character, new_code, normalize, qr_payload

CODE = "K7QMF-3XPDA-HC5RN"  # a valid code: N checks the 14 characters before it


def test_a_code_carries_more_than_64_random_bits_in_three_groups_of_five() -> None:
    # Given many new codes
    codes = [new_code() for _ in range(2000)]
    # Then each is three groups of five characters of the alphabet, which has none of the ambiguous ones
    assert all(re.fullmatch(rf"[{ALPHABET}]{{5}}(-[{ALPHABET}]{{5}}){{2}}", code) for code in codes)
    assert not set("ILOU01") & set(ALPHABET)
    # And 14 of the 15 characters are random: at least 64 bits, every character of the alphabet used at each place
    assert len(ALPHABET) == 30
    assert 14 * math.log2(len(ALPHABET)) >= 64
    assert len(set(codes)) == len(codes)
    for position in range(14):
        assert {code.replace("-", "")[position] for code in codes} == set(ALPHABET)
    # And the 15th is their check character
    assert all(normalize(code) == code for code in codes)


@pytest.mark.parametrize(
    "typed", [CODE, "k7qmf3xpdahc5rn", " K7QMF 3XPDA HC5RN ", "k7qmf-3xpda-hc5rn", "K7QM-F3XP-DAHC-5RN"]
)
def test_what_people_type_is_read_back(typed: str) -> None:
    assert normalize(typed) == CODE


@pytest.mark.parametrize(
    "typed",
    [
        "K7QMF-3XPDA-HC5R",  # a character short
        "K7QMF-3XPDA-HC5RNN",  # one too many
        "K7QMF-3XPDA-HC5R0",  # a character outside the alphabet
        "K7QMF-3XPDA-HC5RI",
        "K7QM-3XPD",  # the 8-character codes of before
        "",
        "../../etc/passwd/x",
    ],
)
def test_anything_else_is_no_code(typed: str) -> None:
    assert normalize(typed) is None


def test_every_single_mistyped_character_is_caught_by_the_check_character() -> None:
    raw = CODE.replace("-", "")
    for position in range(len(raw)):
        for other in set(ALPHABET) - {raw[position]}:
            assert normalize(raw[:position] + other + raw[position + 1 :]) is None, (position, other)


def test_swapped_neighbours_are_caught_but_for_the_alphabets_first_and_last() -> None:
    # Luhn mod N misses one swap only: the values 0 and N-1 (A and 9) next to each other
    for first in ALPHABET:
        for second in set(ALPHABET) - {first}:
            payload = f"K7QMF3XPDAHC{first}{second}"
            swapped = f"K7QMF3XPDAHC{second}{first}"
            caught = check_character(payload) != check_character(swapped)
            assert caught is ({first, second} != {"A", "9"}), (first, second)


def test_the_qr_payload_points_at_the_portal() -> None:
    assert qr_payload(CODE, "https://my.brussels.example/") == f"https://my.brussels.example/continue/{CODE}"
