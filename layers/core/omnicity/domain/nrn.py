"""Belgian national register numbers (NRN, "numéro de registre national" / "rijksregisternummer").

An NRN has 11 digits, ``YYMMDD SSS CC``:

- ``YYMMDD`` is the birth date; month and/or day are ``00`` when the register does not know them. BIS numbers
  (people not in the national register) shift the month by 20 or 40.
- ``SSS`` is a sequence among the people born the same day: odd for men, even for women.
- ``CC`` is the check: ``97 - (int(YYMMDDSSS) % 97)``. For people born in 2000 or later it is computed on
  ``"2" + YYMMDDSSS``, which is also how the century of the birth date is told apart.

Error messages never repeat the number itself: an NRN is personal data and messages end up in logs.
"""

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

__all__ = [
    "InvalidNrnError",
    "Nrn",
    "birth_date",
    "format_nrn",
    "is_valid_nrn",
    "make_nrn",
    "normalize_nrn",
    "registered_sex",
]

NRN_LENGTH = 11
_SEPARATORS = re.compile(r"[\s.\-]")
_FIRST_SEQUENCE = 1
_LAST_SEQUENCE = 998
_FIRST_YEAR, _CENTURY_2000, _LAST_YEAR = 1900, 2000, 2099
_BIS_MONTH_OFFSETS = (40, 20, 0)


class InvalidNrnError(ValueError):
    """The value is not a valid national register number (``reason`` says why, without echoing the number)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"not a valid national register number ({reason})")
        self.reason = reason


def _check_digits(first_nine: str, *, born_2000_or_later: bool) -> int:
    base = int(("2" + first_nine) if born_2000_or_later else first_nine)
    return 97 - base % 97


def _century(digits: str) -> int | None:
    """The century (1900 or 2000) whose check rule matches the 11 digits, or None when neither does."""
    first_nine, check = digits[:9], int(digits[9:])
    if _check_digits(first_nine, born_2000_or_later=False) == check:
        return _FIRST_YEAR
    if _check_digits(first_nine, born_2000_or_later=True) == check:
        return _CENTURY_2000
    return None


def _parse(value: str) -> tuple[str, int]:
    """The 11 digits of ``value`` and the century their check digits belong to; raise InvalidNrnError otherwise."""
    digits = _SEPARATORS.sub("", value)
    if len(digits) != NRN_LENGTH or not (digits.isascii() and digits.isdigit()):
        raise InvalidNrnError(f"expected {NRN_LENGTH} digits")
    century = _century(digits)
    if century is None:
        raise InvalidNrnError("checksum")
    return digits, century


def normalize_nrn(value: str) -> str:
    """Return the 11 digits of ``value`` without separators (spaces, dots, dashes); raise InvalidNrnError otherwise."""
    return _parse(value)[0]


def is_valid_nrn(value: str) -> bool:
    """True when ``value`` (with or without separators) is a valid national register number."""
    try:
        normalize_nrn(value)
    except InvalidNrnError:
        return False
    return True


def birth_date(nrn: str) -> date | None:
    """The birth date encoded in ``nrn``, or None when the register does not know it (month or day ``00``).

    The century comes from the check rule that matched. Raises InvalidNrnError when ``nrn`` is not valid.
    """
    digits, century = _parse(nrn)
    year, month, day = century + int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    month = next(month - offset for offset in _BIS_MONTH_OFFSETS if month >= offset)
    if month == 0 or day == 0:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def registered_sex(nrn: str) -> Literal["F", "M"]:
    """The sex recorded by the sequence of ``nrn``: odd for men, even for women. Raises InvalidNrnError when invalid."""
    return "M" if int(normalize_nrn(nrn)[6:9]) % 2 else "F"


def make_nrn(birth: date, sequence: int) -> str:
    """Build the NRN for ``birth`` and ``sequence`` (1 to 998; odd for men, even for women), check digits included."""
    if not _FIRST_YEAR <= birth.year <= _LAST_YEAR:
        raise ValueError(f"birth year must be between {_FIRST_YEAR} and {_LAST_YEAR}, got {birth.year}")
    if not _FIRST_SEQUENCE <= sequence <= _LAST_SEQUENCE:
        raise ValueError(f"sequence must be between {_FIRST_SEQUENCE} and {_LAST_SEQUENCE}, got {sequence}")
    first_nine = f"{birth:%y%m%d}{sequence:03d}"
    check = _check_digits(first_nine, born_2000_or_later=birth.year >= _CENTURY_2000)
    return f"{first_nine}{check:02d}"


def format_nrn(nrn: str) -> str:
    """Format ``nrn`` the way it is printed on the identity card: ``85.07.30-033.28``. Raises InvalidNrnError."""
    d = normalize_nrn(nrn)
    return f"{d[0:2]}.{d[2:4]}.{d[4:6]}-{d[6:9]}.{d[9:11]}"


def _validate_nrn(value: str) -> str:
    try:
        return normalize_nrn(value)
    except InvalidNrnError as exc:
        raise PydanticCustomError(
            "national_register_number",
            "not a valid national register number ({reason})",
            {"reason": exc.reason},
        ) from exc


Nrn = Annotated[str, AfterValidator(_validate_nrn)]
"""A national register number in a pydantic model: accepts separators, stores the 11 digits."""
