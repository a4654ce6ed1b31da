"""Server-side form validation: what each field type accepts, how it is cleaned, and how problems are reported."""

from __future__ import annotations

from typing import Any

import pytest

from omnicity.errors import ValidationFailedError
from omnicity.forms import validate_form
from omnicity.models import Channel, Choice, FieldType, FormField, LocalizedText, Procedure

LABEL = LocalizedText(fr="Libellé", nl="Label", en="Label")


def _field(name: str, field_type: FieldType, **options: Any) -> FormField:
    return FormField(name=name, type=field_type, label=LABEL, **options)


def _procedure(*fields: FormField) -> Procedure:
    return Procedure(
        id="tiny-procedure",
        family="document_request",
        title=LABEL,
        summary=LABEL,
        help=LABEL,
        department="population",
        sla_business_days=0,
        channels=[Channel.PORTAL],
        eligibility=[],
        fields=list(fields),
    )


# One field per type, with the constraints each type supports.
FIELDS = {
    "postcode": _field("postcode", FieldType.TEXT, min_length=4, max_length=4, pattern=r"\d{4}"),
    "children": _field("children", FieldType.INTEGER, minimum=0, maximum=12),
    "consent": _field("consent", FieldType.BOOLEAN),
    "moved_on": _field("moved_on", FieldType.DATE),
    "purpose": _field(
        "purpose",
        FieldType.CHOICE,
        choices=[Choice(value="housing", label=LABEL), Choice(value="employment", label=LABEL)],
    ),
    "contact": _field("contact", FieldType.EMAIL),
}
ALL_TYPES = _procedure(*FIELDS.values())


def _reasons(error: ValidationFailedError) -> dict[str, str]:
    return {detail["field"]: detail["reason"] for detail in error.details}


def _only(name: str) -> Procedure:
    return _procedure(FIELDS[name])


# ---------------------------------------------------------------------------------------------------- good values
@pytest.mark.parametrize(
    ("name", "value", "cleaned"),
    [
        ("postcode", "1000", "1000"),
        ("postcode", "  1020\n", "1020"),  # stripped before its length and pattern are checked
        ("children", 0, 0),
        ("children", 12, 12),
        ("consent", True, True),
        ("consent", False, False),
        ("moved_on", "2024-02-29", "2024-02-29"),
        ("moved_on", "20240105", "2024-01-05"),  # normalised to YYYY-MM-DD
        ("purpose", "housing", "housing"),
        ("contact", " elise.exemplaire@example.be ", "elise.exemplaire@example.be"),
    ],
)
def test_a_good_value_is_accepted_and_cleaned(name: str, value: Any, cleaned: Any) -> None:
    # Given a procedure with one field / When a good value is submitted / Then it comes back cleaned
    assert validate_form(_only(name), {name: value}) == {name: cleaned}


def test_a_whole_form_of_good_values_is_accepted() -> None:
    # Given the procedure with one field of each type
    form = {
        "postcode": "1130",
        "children": 3,
        "consent": True,
        "moved_on": "2023-12-01",
        "purpose": "employment",
        "contact": "a@example.org",
    }

    # When the form is validated / Then every field is kept
    assert validate_form(ALL_TYPES, form) == form


# ---------------------------------------------------------------------------------------------------- bad values
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("postcode", "100"),  # too short
        ("postcode", "10000"),  # too long
        ("postcode", "10a0"),  # does not match the pattern
        ("postcode", 1000),  # not a string
        ("children", -1),
        ("children", 13),
        ("children", "3"),
        ("children", 2.0),
        ("children", True),  # a bool is not an integer, although Python says it is one
        ("consent", "true"),
        ("consent", 1),
        ("moved_on", "2023-02-29"),
        ("moved_on", "01/12/2023"),
        ("moved_on", 20231201),
        ("purpose", "holiday"),
        ("purpose", "HOUSING"),
        ("contact", "elise.exemplaire"),
        ("contact", "elise@example"),
        ("contact", "elise exemplaire@example.be"),
    ],
)
def test_a_bad_value_is_reported_with_its_field_and_a_reason(name: str, value: Any) -> None:
    # Given a procedure with one field
    # When a bad value is submitted
    with pytest.raises(ValidationFailedError) as raised:
        validate_form(_only(name), {name: value})

    # Then the error names form.<field> and says why
    assert list(_reasons(raised.value)) == [f"form.{name}"]
    assert _reasons(raised.value)[f"form.{name}"].strip()


def test_a_text_field_without_max_length_is_still_bounded() -> None:
    # Given a free text field with no declared maximum
    procedure = _procedure(_field("remark", FieldType.TEXT))

    # When a very long text is submitted / Then it is refused
    with pytest.raises(ValidationFailedError) as raised:
        validate_form(procedure, {"remark": "x" * 100_000})
    assert list(_reasons(raised.value)) == ["form.remark"]


def test_every_bad_field_is_reported_at_once() -> None:
    # Given a form where every field is wrong
    form = {
        "postcode": "abc",
        "children": 99,
        "consent": "yes",
        "moved_on": "tomorrow",
        "purpose": "holiday",
        "contact": "nobody",
    }

    # When it is validated
    with pytest.raises(ValidationFailedError) as raised:
        validate_form(ALL_TYPES, form)

    # Then all six are reported, not just the first
    assert set(_reasons(raised.value)) == {f"form.{name}" for name in FIELDS}
    assert raised.value.code == "validation_failed"


def test_unknown_fields_are_reported_together_with_bad_ones() -> None:
    # Given a form with a field the procedure does not have, and a bad known one
    form = {"purpose": "holiday", "nrn": "87031413235"}

    # When it is validated
    with pytest.raises(ValidationFailedError) as raised:
        validate_form(_only("purpose"), form)

    # Then both are reported
    assert set(_reasons(raised.value)) == {"form.purpose", "form.nrn"}


@pytest.mark.parametrize("missing", [{}, {"postcode": None}, {"postcode": ""}])
def test_a_missing_required_field_is_reported_as_required(missing: dict[str, Any]) -> None:
    # Given a required field left out, null or empty
    # When the form is validated / Then it is reported as required
    with pytest.raises(ValidationFailedError) as raised:
        validate_form(_only("postcode"), missing)
    assert _reasons(raised.value) == {"form.postcode": "required"}


def test_a_required_text_field_of_only_spaces_is_reported_as_required() -> None:
    # Given a required text field without min_length
    procedure = _procedure(_field("name", FieldType.TEXT))

    # When only spaces are submitted
    with pytest.raises(ValidationFailedError) as raised:
        validate_form(procedure, {"name": "   "})

    # Then it is as missing as an empty string
    assert _reasons(raised.value) == {"form.name": "required"}


@pytest.mark.parametrize("missing", [{}, {"purpose": None}, {"purpose": ""}])
def test_a_missing_optional_field_is_fine(missing: dict[str, Any]) -> None:
    # Given an optional field left out, null or empty
    procedure = _procedure(FIELDS["purpose"].model_copy(update={"required": False}))

    # When the form is validated / Then it passes and the field is simply absent
    assert validate_form(procedure, missing) == {}


def test_an_optional_field_given_a_bad_value_is_still_checked() -> None:
    # Given an optional choice
    procedure = _procedure(FIELDS["purpose"].model_copy(update={"required": False}))

    # When a value outside the choices is given / Then it is refused
    with pytest.raises(ValidationFailedError) as raised:
        validate_form(procedure, {"purpose": "holiday"})
    assert list(_reasons(raised.value)) == ["form.purpose"]


def test_false_and_zero_are_values_not_missing() -> None:
    # Given a required boolean and a required integer
    procedure = _procedure(FIELDS["consent"], FIELDS["children"])

    # When they are given falsy values / Then they are accepted as given
    assert validate_form(procedure, {"consent": False, "children": 0}) == {"consent": False, "children": 0}
