from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from omnicity.domain.nrn import (
    InvalidNrnError,
    Nrn,
    birth_date,
    format_nrn,
    is_valid_nrn,
    make_nrn,
    normalize_nrn,
    registered_sex,
)


class _Applicant(BaseModel):
    nrn: Nrn


# Expected values below are computed by hand from the rule CC = 97 - (n mod 97), n = YYMMDDSSS ("2" + it from 2000).
@pytest.mark.parametrize(
    ("birth", "sequence", "expected"),
    [
        (date(1985, 7, 30), 33, "85073003328"),
        (date(1987, 3, 14), 132, "87031413235"),
        (date(1912, 4, 23), 124, "12042312448"),
        (date(2012, 4, 23), 124, "12042312477"),
        (date(2005, 2, 28), 163, "05022816318"),
    ],
)
def test_make_nrn_computes_the_check_digits_of_each_century(birth: date, sequence: int, expected: str) -> None:
    # Given a birth date and a sequence
    # When the number is built
    nrn = make_nrn(birth, sequence)

    # Then its check digits follow the rule of the birth's century, and it is valid
    assert nrn == expected
    assert is_valid_nrn(nrn)


@pytest.mark.parametrize(
    "birth", [date(1900, 1, 1), date(1999, 12, 31), date(2000, 1, 1), date(2000, 2, 29), date(2024, 6, 30)]
)
def test_make_nrn_round_trips_the_birth_date(birth: date) -> None:
    # Given a number built for a birth date on either side of 2000
    nrn = make_nrn(birth, 998)

    # When its birth date is read back
    # Then the century is resolved by the check digits
    assert birth_date(nrn) == birth


def test_birth_date_tells_the_century_by_the_check_digits() -> None:
    # Given two numbers with the same first nine digits, one per century
    born_1912, born_2012 = "12042312448", "12042312477"

    # When their birth dates are read
    # Then each gets the century whose check rule matched
    assert birth_date(born_1912) == date(1912, 4, 23)
    assert birth_date(born_2012) == date(2012, 4, 23)


@pytest.mark.parametrize("first_nine", ["850000033", "850700033", "850030033"])
def test_birth_date_is_none_when_the_register_does_not_know_it(first_nine: str) -> None:
    # Given a valid number whose month or day is 00
    nrn = f"{first_nine}{97 - int(first_nine) % 97:02d}"

    # When its birth date is read
    # Then it is unknown rather than an error
    assert is_valid_nrn(nrn)
    assert birth_date(nrn) is None


def test_birth_date_reads_a_bis_number() -> None:
    # Given a BIS number: month shifted by 40 (sex known), born 1985-07-30
    nrn = f"854730033{97 - 854730033 % 97:02d}"

    # When its birth date is read
    # Then the shift is removed
    assert birth_date(nrn) == date(1985, 7, 30)


@pytest.mark.parametrize("wrong", ["85073003329", "85073003327", "12042312449", "00000000000"])
def test_a_wrong_checksum_is_rejected(wrong: str) -> None:
    # Given a number whose check digits match neither century
    # When it is normalised
    # Then it is rejected for its checksum
    with pytest.raises(InvalidNrnError, match="checksum"):
        normalize_nrn(wrong)
    assert not is_valid_nrn(wrong)


@pytest.mark.parametrize("written", ["85.07.30-033.28", "85 07 30 033 28", "850730-033-28", " 85073003328 "])
def test_separators_are_stripped(written: str) -> None:
    # Given a valid number written with dots, dashes or spaces
    # When it is normalised
    # Then only its 11 digits remain
    assert normalize_nrn(written) == "85073003328"


@pytest.mark.parametrize(
    "wrong", ["", "8507300332", "850730033280", "85O73003328", "85/07/30-033.28", "\uff185073003328"]
)
def test_anything_but_11_digits_is_rejected(wrong: str) -> None:
    # Given a value that is not 11 ASCII digits once separators are removed
    # When it is normalised
    # Then it is rejected for its length or characters
    with pytest.raises(InvalidNrnError, match="11 digits"):
        normalize_nrn(wrong)


def test_invalid_nrn_is_a_value_error_that_does_not_echo_the_number() -> None:
    # Given an invalid number
    # When it is rejected
    with pytest.raises(ValueError, match="not a valid national register number") as caught:
        normalize_nrn("85073003329")

    # Then the message (which may reach logs) does not contain it
    assert "85073003329" not in str(caught.value)


def test_format_nrn_prints_the_card_layout() -> None:
    # Given a number in any accepted shape
    # When it is formatted
    # Then it reads like on the identity card
    assert format_nrn("85073003328") == "85.07.30-033.28"
    assert format_nrn("85 07 30 033 28") == "85.07.30-033.28"


def test_registered_sex_follows_the_parity_of_the_sequence() -> None:
    # Given numbers with odd and even sequences
    # When the recorded sex is read
    # Then odd is male and even is female
    assert registered_sex(make_nrn(date(1985, 7, 30), 33)) == "M"
    assert registered_sex(make_nrn(date(1985, 7, 30), 34)) == "F"


@pytest.mark.parametrize(
    ("birth", "sequence"), [(date(1899, 12, 31), 1), (date(1985, 7, 30), 0), (date(1985, 7, 30), 999)]
)
def test_make_nrn_refuses_what_cannot_be_encoded(birth: date, sequence: int) -> None:
    # Given a birth date or sequence outside what the register encodes
    # When a number is built
    # Then it is refused
    with pytest.raises(ValueError, match="must be between"):
        make_nrn(birth, sequence)


def test_the_pydantic_type_stores_the_normalised_number() -> None:
    # Given a model with an Nrn field
    # When it is given a formatted number
    applicant = _Applicant(nrn="85.07.30-033.28")

    # Then it holds the 11 digits
    assert applicant.nrn == "85073003328"


def test_the_pydantic_type_rejects_a_bad_checksum() -> None:
    # Given a model with an Nrn field
    # When it is given a number with a wrong checksum
    with pytest.raises(ValidationError) as caught:
        _Applicant(nrn="85.07.30-033.29")

    # Then validation fails on that field with a message a client can read
    [error] = caught.value.errors()
    assert error["loc"] == ("nrn",)
    assert error["type"] == "national_register_number"
    assert error["msg"] == "not a valid national register number (checksum)"


@pytest.mark.parametrize("wrong", ["1234", 85073003328])
def test_the_pydantic_type_rejects_other_shapes(wrong: object) -> None:
    # Given a model with an Nrn field
    # When it is given a short string or a number instead of a string
    # Then validation fails
    with pytest.raises(ValidationError):
        _Applicant.model_validate({"nrn": wrong})
