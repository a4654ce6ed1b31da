"""Server-side form validation: what each field type accepts, how it is cleaned, and how problems are reported."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from omnicity.domain.errors import ValidationFailedError
from omnicity.domain.models import Channel, Choice, FieldType, FormField, LocalizedText, Procedure, today_in_brussels
from omnicity.forms.validation import FORM_RULES, validate_form

LABEL = LocalizedText(fr="Libellé", nl="Label", en="Label")
TODAY = date(2026, 3, 2)  # a Monday; every check relative to today is given this day
OWNER = "owner-7f3a"  # the opaque id of the signed-in person whose uploads a form may reference
OTHER = "owner-91bc"
ELISE = "87031413235"  # fictional; printed 87.03.14-132.35


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
    "zones": _field(
        "zones",
        FieldType.MULTI_CHOICE,
        choices=[Choice(value=zone, label=LABEL) for zone in ("grand-place", "sablon", "dansaert")],
        max_items=2,
    ),
    "spot": _field("spot", FieldType.LOCATION),
    "address": _field("address", FieldType.ADDRESS),
    "photos": _field("photos", FieldType.PHOTOS),  # at most 3 by default
    "bulky": _field(
        "bulky",
        FieldType.ITEMS,
        choices=[
            Choice(value="sofa", label=LABEL, volume_m3=1.5),
            Choice(value="mattress", label=LABEL, volume_m3=0.5),
            Choice(value="chair", label=LABEL, volume_m3=0.1),
        ],
        maximum=5,
        max_total=3,
    ),
    "person": _field("person", FieldType.NRN),
    "visit_on": _field("visit_on", FieldType.DATE, min_days_ahead=2, max_days_ahead=60),
}
ALL_TYPES = _procedure(*FIELDS.values())


def _reasons(error: ValidationFailedError) -> dict[str, str]:
    return {detail["field"]: detail["reason"] for detail in error.details}


def _only(name: str) -> Procedure:
    return _procedure(FIELDS[name])


def _check(procedure: Procedure, form: dict[str, Any], **options: Any) -> dict[str, Any]:
    """validate_form on TODAY, signed in as OWNER unless told otherwise."""
    return validate_form(procedure, form, **{"today": TODAY, "uploads_owner": OWNER, **options})


def _errors(procedure: Procedure, form: dict[str, Any], **options: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailedError) as raised:
        _check(procedure, form, **options)
    return _reasons(raised.value)


def _photo(owner: str = OWNER, name: str = "3f2a9c", extension: str = "jpg") -> str:
    return f"uploads/{owner}/{name}.{extension}"


def _days(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}
TOWN_HALL = {"street": "Grand-Place", "number": "1", "postal_code": "1000"}


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
        ("moved_on", " 2024-01-05 ", "2024-01-05"),
        ("purpose", "housing", "housing"),
        ("contact", " elise.exemplaire@example.be ", "elise.exemplaire@example.be"),
        ("zones", ["sablon"], ["sablon"]),
        ("zones", ["dansaert", " grand-place "], ["dansaert", "grand-place"]),  # in the order given, stripped
        ("spot", GRAND_PLACE, GRAND_PLACE),
        ("spot", {"lat": 50.85, "lon": 4.35}, {"lat": 50.85, "lon": 4.35}),
        ("spot", {"lat": 50.79, "lon": 4.44}, {"lat": 50.79, "lon": 4.44}),  # the bounds are inside
        ("address", TOWN_HALL, TOWN_HALL),
        (
            "address",
            {"street": " Rue de la Loi ", "number": "16A", "box": " 3 ", "postal_code": "1040"},
            {"street": "Rue de la Loi", "number": "16A", "box": "3", "postal_code": "1040"},
        ),
        ("address", {**TOWN_HALL, "box": "  "}, TOWN_HALL),  # a blank box is no box
        ("address", {**TOWN_HALL, "box": None}, TOWN_HALL),
        ("photos", [_photo()], [_photo()]),
        (
            "photos",
            [_photo(name="a"), _photo(name="b", extension="png"), _photo(name="c")],
            [_photo(name="a"), _photo(name="b", extension="png"), _photo(name="c")],
        ),
        ("bulky", [{"item": "sofa", "quantity": 2}], [{"item": "sofa", "quantity": 2}]),  # 3 m3: the cap
        (
            "bulky",
            [{"item": " chair ", "quantity": 5}, {"quantity": 1, "item": "mattress"}],
            [{"item": "chair", "quantity": 5}, {"item": "mattress", "quantity": 1}],
        ),
        ("person", ELISE, ELISE),
        ("person", " 87.03.14-132.35 ", ELISE),  # as printed on the card: cleaned to the 11 digits
        ("visit_on", _days(2), _days(2)),
        ("visit_on", _days(60), _days(60)),
    ],
)
def test_a_good_value_is_accepted_and_cleaned(name: str, value: Any, cleaned: Any) -> None:
    # Given a procedure with one field / When a good value is submitted / Then it comes back cleaned
    assert _check(_only(name), {name: value}) == {name: cleaned}


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

    form |= {
        "zones": ["grand-place", "sablon"],
        "spot": GRAND_PLACE,
        "address": TOWN_HALL,
        "photos": [_photo()],
        "bulky": [{"item": "mattress", "quantity": 2}],
        "person": ELISE,
        "visit_on": _days(14),
    }

    # When the form is validated / Then every field is kept
    assert _check(ALL_TYPES, form) == form


def test_a_cleaned_form_passes_again_unchanged() -> None:
    # Given a form cleaned at submission (the workflow validates the stored form again)
    form = {
        "postcode": " 1000 ",
        "children": 1,
        "consent": True,
        "moved_on": "2020-01-31",
        "purpose": "housing",
        "contact": "a@example.org",
        "zones": [" sablon "],
        "spot": {"lat": 50.85, "lon": 4.35},
        "address": {**TOWN_HALL, "street": " Grand-Place ", "box": ""},
        "photos": [_photo()],
        "bulky": [{"item": "chair", "quantity": 3}],
        "person": "87.03.14-132.35",
        "visit_on": _days(3),
    }
    cleaned = _check(ALL_TYPES, form)

    # When the cleaned form is validated again / Then it comes back the same
    assert _check(ALL_TYPES, cleaned) == cleaned


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
        ("moved_on", "20231201"),  # ISO 8601 but not YYYY-MM-DD: not normalised behind the citizen's back
        ("moved_on", "2023-W48-5"),
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


@pytest.mark.parametrize(
    ("name", "value", "path", "reason"),
    [
        # multi_choice: the list, then each entry by its index
        ("zones", "sablon", "form.zones", "must be a list of choices"),
        ("zones", ["sablon", "marolles"], "form.zones[1]", "must be one of: grand-place, sablon, dansaert"),
        ("zones", [1], "form.zones[0]", "must be one of: grand-place, sablon, dansaert"),
        ("zones", ["sablon", "sablon"], "form.zones[1]", "chosen twice"),
        ("zones", ["sablon", "dansaert", "grand-place"], "form.zones", "at most 2 choices"),
        # location: WGS84 numbers inside the city's bounds
        ("spot", [50.85, 4.35], "form.spot", "must be an object with lat and lon"),
        ("spot", {"lat": 50.85}, "form.spot.lon", "required"),
        ("spot", {"lat": "50.85", "lon": 4.35}, "form.spot.lat", "must be a number (WGS84 degrees)"),
        ("spot", {"lat": 50.85, "lon": True}, "form.spot.lon", "must be a number (WGS84 degrees)"),
        ("spot", {"lat": float("nan"), "lon": 4.35}, "form.spot.lat", "must be a number (WGS84 degrees)"),
        ("spot", {"lat": 51.2194, "lon": 4.35}, "form.spot.lat", "outside the city: must be between 50.79 and 50.92"),
        ("spot", {"lat": 50.85, "lon": 4.45}, "form.spot.lon", "outside the city: must be between 4.29 and 4.44"),
        ("spot", {**GRAND_PLACE, "alt": 13}, "form.spot.alt", "unknown field"),
        # address: strings, a postal code of the city
        ("address", "Grand-Place 1, 1000 Bruxelles", "form.address", "must be an address object"),
        ("address", {**TOWN_HALL, "street": "   "}, "form.address.street", "required"),
        ("address", {**TOWN_HALL, "number": 1}, "form.address.number", "must be a string"),
        ("address", {**TOWN_HALL, "number": "one"}, "form.address.number", "must be a house number such as 12 or 12A"),
        ("address", {**TOWN_HALL, "box": "x" * 11}, "form.address.box", "at most 10 characters"),
        ("address", {**TOWN_HALL, "street": "x" * 121}, "form.address.street", "at most 120 characters"),
        (
            "address",
            {**TOWN_HALL, "postal_code": "1030"},  # Schaerbeek, a neighbouring municipality
            "form.address.postal_code",
            "not a postal code of the city (1000, 1040, 1050, 1020, 1120, 1130)",
        ),
        ("address", {**TOWN_HALL, "postal_code": 1000}, "form.address.postal_code", "must be a string"),
        ("address", {**TOWN_HALL, "city": "Bruxelles"}, "form.address.city", "unknown field"),
        # photos: the signed-in person's own uploads, at most 3
        ("photos", _photo(), "form.photos", "must be a list of upload keys"),
        ("photos", [_photo(owner=OTHER)], "form.photos[0]", "not one of your uploads"),
        ("photos", [_photo(), _photo()], "form.photos[1]", "listed twice"),
        ("photos", [_photo(extension="gif")], "form.photos[0]", "not an upload key (uploads/<owner>/<id>.jpg or .png)"),
        (
            "photos",
            [f"uploads/{OWNER}/../{OTHER}/a.jpg"],
            "form.photos[0]",
            "not an upload key (uploads/<owner>/<id>.jpg or .png)",
        ),
        (
            "photos",
            [f"documents/{OWNER}/a.jpg"],
            "form.photos[0]",
            "not an upload key (uploads/<owner>/<id>.jpg or .png)",
        ),
        ("photos", [{"key": _photo()}], "form.photos[0]", "not an upload key (uploads/<owner>/<id>.jpg or .png)"),
        ("photos", [_photo(name=str(n)) for n in range(4)], "form.photos", "at most 3 photos"),
        # items: each line's item and quantity, then the total volume
        ("bulky", {"sofa": 1}, "form.bulky", "must be a list of {item, quantity}"),
        ("bulky", ["sofa"], "form.bulky[0]", "must be {item, quantity}"),
        ("bulky", [{"item": "piano", "quantity": 1}], "form.bulky[0].item", "must be one of: sofa, mattress, chair"),
        ("bulky", [{"item": "sofa"}], "form.bulky[0].quantity", "required"),
        ("bulky", [{"item": "sofa", "quantity": "1"}], "form.bulky[0].quantity", "must be an integer"),
        ("bulky", [{"item": "sofa", "quantity": 0}], "form.bulky[0].quantity", "must be at least 1"),
        ("bulky", [{"item": "chair", "quantity": 6}], "form.bulky[0].quantity", "must be at most 5"),
        ("bulky", [{"item": "sofa", "quantity": 1, "colour": "red"}], "form.bulky[0].colour", "unknown field"),
        (
            "bulky",
            [{"item": "chair", "quantity": 1}, {"item": "chair", "quantity": 2}],
            "form.bulky[1].item",
            "listed twice: give one line per item with its quantity",
        ),
        (
            "bulky",
            [{"item": "sofa", "quantity": 1}, {"item": "mattress", "quantity": 3}, {"item": "chair", "quantity": 1}],
            "form.bulky",
            "3.1 m3 in all: at most 3 m3",
        ),
        # nrn: the check digits, never echoing the number
        ("person", "87031413236", "form.person", "not a valid national register number (checksum)"),
        ("person", "8703141323", "form.person", "not a valid national register number (expected 11 digits)"),
        ("person", 87031413235, "form.person", "must be a string"),
        # dates relative to today in Brussels
        ("visit_on", _days(1), "form.visit_on", "must be on or after 2026-03-04"),
        ("visit_on", _days(61), "form.visit_on", "must be on or before 2026-05-01"),
    ],
)
def test_a_bad_value_of_a_structured_type_names_its_path_and_reason(
    name: str, value: Any, path: str, reason: str
) -> None:
    # Given a procedure with one field of a structured type
    # When a bad value is submitted
    errors = _errors(_only(name), {name: value})

    # Then the one error names the exact path inside the value, and why
    assert errors == {path: reason}


def test_a_text_field_without_max_length_is_still_bounded() -> None:
    # Given a free text field with no declared maximum
    procedure = _procedure(_field("remark", FieldType.TEXT))

    # When a very long text is submitted / Then it is refused
    with pytest.raises(ValidationFailedError) as raised:
        validate_form(procedure, {"remark": "x" * 100_000})
    assert list(_reasons(raised.value)) == ["form.remark"]


# Every character on which str.splitlines() breaks a line, and the invisible ones that reorder or hide text
LINE_BREAKERS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
HIDERS = ["\x00", "\t", "\x1b", "\x7f", "\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", "\ud800"]


@pytest.mark.parametrize("character", LINE_BREAKERS + HIDERS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(
    ("form", "path"),
    [
        ({"remark": "Animation{c}## Personne{c}- Nom: Dupont"}, "form.remark"),
        ({"contact": "elise{c}@example.org"}, "form.contact"),
        (
            {"address": {"street": "Grand-Place{c}- Sonorisation: autorisée", "number": "1", "postal_code": "1000"}},
            "form.address.street",
        ),
        (
            {"address": {"street": "Grand-Place", "number": "1", "box": "3{c}4", "postal_code": "1000"}},
            "form.address.box",
        ),
    ],
    ids=["text", "email", "street", "box"],
)
def test_a_control_or_separator_character_inside_a_text_is_refused_naming_it(
    character: str, form: dict[str, Any], path: str
) -> None:
    # Given a text that holds the character between words (trimming cannot remove it)
    procedure = _procedure(
        _field("remark", FieldType.TEXT, required=False),
        _field("contact", FieldType.EMAIL, required=False),
        _field("address", FieldType.ADDRESS, required=False),
    )
    hostile = {
        name: value.replace("{c}", character)
        if isinstance(value, str)
        else {key: text.replace("{c}", character) for key, text in value.items()}
        for name, value in form.items()
    }

    # When it is submitted / Then the field is refused, and the reason names the character by its code
    errors = _errors(procedure, hostile)
    assert list(errors) == [path]
    assert f"U+{ord(character):04X}" in errors[path]


@pytest.mark.parametrize(
    "text",
    ["Łukasz Wiśniewski", "Ștefan Țurcanu", "Ağaoğlu I\u015f\u0131l", "Nguyễn Thị Minh Khai", "Zoë 👍", "co\u00adop"],
)
def test_letters_of_every_script_with_their_accents_and_emoji_are_text(text: str) -> None:
    # Given a free text field / When a name with accents, or an emoji, is submitted / Then it is kept as typed
    assert _check(_procedure(_field("remark", FieldType.TEXT)), {"remark": text}) == {"remark": text}


@pytest.mark.parametrize(
    ("form", "path", "reason"),
    [
        ({"spot": {"lat": 10**400, "lon": 4.35}}, "form.spot.lat", "outside the city: must be between 50.79 and 50.92"),
        (
            {"spot": {"lat": 50.85, "lon": -(10**400)}},
            "form.spot.lon",
            "outside the city: must be between 4.29 and 4.44",
        ),
        (
            {"spot": {"lat": float("inf"), "lon": 4.35}},
            "form.spot.lat",
            "outside the city: must be between 50.79 and 50.92",
        ),
        ({"children": 10**400}, "form.children", "must be at most 12"),
        ({"count": 10**400}, "form.count", "must be at most 9007199254740991"),
        ({"count": -(2**53)}, "form.count", "must be at least -9007199254740991"),
        ({"count": 1e400}, "form.count", "must be an integer"),
        ({"bulky": [{"item": "sofa", "quantity": 10**400}]}, "form.bulky[0].quantity", "must be at most 5"),
    ],
    ids=["lat-huge", "lon-huge-negative", "lat-infinite", "bounded", "unbounded", "unbounded-negative", "1e400", "qty"],
)
def test_a_number_no_float_can_hold_is_refused_naming_the_field(form: dict[str, Any], path: str, reason: str) -> None:
    # Given fields that take numbers, one without bounds of its own
    procedure = _procedure(
        *(FIELDS[name].model_copy(update={"required": False}) for name in ("spot", "children", "bulky")),
        _field("count", FieldType.INTEGER, required=False),
    )
    # When a number too large for a float (valid JSON) is submitted / Then a clear problem names the field, no crash
    assert _errors(procedure, form) == {path: reason}


def test_every_bad_field_is_reported_at_once() -> None:
    # Given a form where every field is wrong, some in several places
    form = {
        "postcode": "abc",
        "children": 99,
        "consent": "yes",
        "moved_on": "tomorrow",
        "purpose": "holiday",
        "contact": "nobody",
        "zones": ["marolles", "sablon", "sablon"],
        "spot": {"lat": 48.8566, "lon": "2.3522"},
        "address": {"street": "", "number": "1", "postal_code": "1210", "floor": 2},
        "photos": [_photo(owner=OTHER), "uploads/x.jpg"],
        "bulky": [{"item": "sofa", "quantity": 1.5}, {"item": "fridge", "quantity": 1}],
        "person": "12345678901",
        "visit_on": _days(0),
    }

    # When it is validated
    with pytest.raises(ValidationFailedError) as raised:
        _check(ALL_TYPES, form)

    # Then every problem is reported, not just the first, each at its own path
    assert set(_reasons(raised.value)) == {
        "form.postcode",
        "form.children",
        "form.consent",
        "form.moved_on",
        "form.purpose",
        "form.contact",
        "form.zones",  # three for at most two
        "form.zones[0]",
        "form.zones[2]",
        "form.spot.lat",
        "form.spot.lon",
        "form.address.street",
        "form.address.postal_code",
        "form.address.floor",
        "form.photos[0]",
        "form.photos[1]",
        "form.bulky[0].quantity",
        "form.bulky[1].item",
        "form.person",
        "form.visit_on",
    }
    assert raised.value.code == "validation_failed"
    # and the national register number is never repeated in a reason (it ends up in logs)
    assert all("12345678901" not in detail["reason"] for detail in raised.value.details)


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


@pytest.mark.parametrize("name", ["zones", "spot", "address", "photos", "bulky", "person", "visit_on"])
@pytest.mark.parametrize("empty", [None, "", "  ", [], {}])
def test_an_empty_structured_value_is_not_given(name: str, empty: Any) -> None:
    # Given a required field of a structured type
    # When it is null, blank, an empty list or an empty object
    # Then it is reported as required, not as a wrong shape
    assert _errors(_only(name), {name: empty}) == {f"form.{name}": "required"}

    # and an optional one is simply left out
    optional = _procedure(FIELDS[name].model_copy(update={"required": False}))
    assert _check(optional, {name: empty}) == {}


@pytest.mark.parametrize("form", [{"address": {"number": "1"}}, {"address": {"street": " ", "number": " "}}])
def test_every_missing_part_of_an_address_is_reported(form: dict[str, Any]) -> None:
    # Given an address missing its street and postal code (and maybe its number)
    # When it is validated / Then each missing part is named
    errors = _errors(_only("address"), form)
    assert errors["form.address.street"] == "required"
    assert errors["form.address.postal_code"] == "required"


def test_a_multi_choice_can_require_a_minimum_of_choices() -> None:
    # Given a multi_choice asking for at least two
    procedure = _procedure(FIELDS["zones"].model_copy(update={"min_items": 2}))

    # When one is chosen / Then it is too few
    assert _errors(procedure, {"zones": ["sablon"]}) == {"form.zones": "at least 2 choices"}
    assert _check(procedure, {"zones": ["sablon", "dansaert"]}) == {"zones": ["sablon", "dansaert"]}


# ---------------------------------------------------------------------------------------------------- photos
def test_an_anonymous_form_cannot_carry_photos() -> None:
    # Given an anonymous submission (no uploads owner)
    # When it references a photo, even one whose key looks right
    errors = _errors(_only("photos"), {"photos": [_photo()]}, uploads_owner=None)

    # Then the field is refused
    assert errors == {"form.photos": "only a signed-in person can attach photos"}


def test_an_anonymous_form_without_photos_is_fine() -> None:
    # Given an optional photos field and an anonymous submission
    procedure = _procedure(FIELDS["photos"].model_copy(update={"required": False}), FIELDS["purpose"])

    # When no photo is given / Then the form passes
    assert _check(procedure, {"purpose": "housing"}, uploads_owner=None) == {"purpose": "housing"}


def test_a_photo_key_of_an_owner_whose_id_extends_mine_is_not_mine() -> None:
    # Given my uploads live under uploads/owner-7f3a/
    # When the key is under uploads/owner-7f3a0/ (a prefix check would let it through)
    errors = _errors(_only("photos"), {"photos": [_photo(owner=OWNER + "0")]})

    # Then it is not one of mine
    assert errors == {"form.photos[0]": "not one of your uploads"}


def test_a_photos_field_may_allow_more_or_fewer_than_three() -> None:
    # Given a photos field allowing one photo
    procedure = _procedure(_field("photos", FieldType.PHOTOS, max_items=1))

    # When two are sent / Then it is one too many
    assert _errors(procedure, {"photos": [_photo(name="a"), _photo(name="b")]}) == {"form.photos": "at most 1 photo"}


# ---------------------------------------------------------------------------------------------------- items
def test_the_total_volume_is_computed_exactly() -> None:
    # Given items of 0.1 m3 and a cap of 0.3 m3 (in binary floating point 3 x 0.1 > 0.3)
    procedure = _procedure(
        _field(
            "bulky",
            FieldType.ITEMS,
            choices=[Choice(value="chair", label=LABEL, volume_m3=0.1)],
            maximum=10,
            max_total=0.3,
        )
    )

    # When three chairs are asked for / Then they fit exactly; four do not
    assert _check(procedure, {"bulky": [{"item": "chair", "quantity": 3}]}) == {
        "bulky": [{"item": "chair", "quantity": 3}]
    }
    assert _errors(procedure, {"bulky": [{"item": "chair", "quantity": 4}]}) == {
        "form.bulky": "0.4 m3 in all: at most 0.3 m3"
    }


def test_items_without_a_total_cap_only_check_each_line() -> None:
    # Given an items field without max_total (and choices without volumes)
    procedure = _procedure(_field("bulky", FieldType.ITEMS, choices=[Choice(value="sofa", label=LABEL)], maximum=3))

    # When the most of one item is asked for / Then it is accepted
    assert _check(procedure, {"bulky": [{"item": "sofa", "quantity": 3}]}) == {
        "bulky": [{"item": "sofa", "quantity": 3}]
    }


def test_the_total_volume_is_not_checked_while_a_line_is_wrong() -> None:
    # Given a line that is wrong and others far over the cap
    form = {"bulky": [{"item": "sofa", "quantity": 5}, {"item": "mattress", "quantity": "5"}]}

    # When it is validated / Then the wrong line is reported, not a total made of a guess
    assert _errors(_only("bulky"), form) == {"form.bulky[1].quantity": "must be an integer"}


# ---------------------------------------------------------------------------------------------------- dates
def test_dates_relative_to_today_use_the_day_given() -> None:
    # Given a date at least 2 days ahead / When checked on two different days
    # Then the same date is fine on the first day and too early on the next
    assert _check(_only("visit_on"), {"visit_on": "2026-03-04"}, today=date(2026, 3, 2)) == {"visit_on": "2026-03-04"}
    assert _errors(_only("visit_on"), {"visit_on": "2026-03-04"}, today=date(2026, 3, 3)) == {
        "form.visit_on": "must be on or after 2026-03-05"
    }


def test_a_date_in_the_past_can_be_refused() -> None:
    # Given a date that may not be in the future (max_days_ahead 0), such as a date of birth
    procedure = _procedure(_field("born_on", FieldType.DATE, max_days_ahead=0))

    # When today and tomorrow are given / Then today passes and tomorrow does not
    assert _check(procedure, {"born_on": TODAY.isoformat()}) == {"born_on": TODAY.isoformat()}
    assert _errors(procedure, {"born_on": _days(1)}) == {"form.born_on": "must be on or before 2026-03-02"}


def test_without_a_day_given_today_is_today_in_brussels() -> None:
    # Given a date that must be today or later
    procedure = _procedure(_field("on", FieldType.DATE, min_days_ahead=0))

    # When today in Brussels is given without telling validate_form the day / Then it passes
    today = today_in_brussels().isoformat()
    assert validate_form(procedure, {"on": today}) == {"on": today}


# ---------------------------------------------------------------------------------------------------- rules
PERIOD = _procedure(_field("start_date", FieldType.DATE), _field("end_date", FieldType.DATE))
RULE = ["period_at_most_12_months"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-06-01", "2026-06-01"),  # one day
        ("2026-06-01", "2027-06-01"),  # 12 months later
        ("2028-02-29", "2029-02-28"),  # 12 months after a 29 February
        ("2026-08-31", "2027-08-31"),
    ],
)
def test_a_period_of_at_most_12_months_passes_the_rule(start: str, end: str) -> None:
    # Given the period rule / When a period up to 12 months is given / Then it passes
    assert _check(PERIOD, {"start_date": start, "end_date": end}, rules=RULE) == {"start_date": start, "end_date": end}


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("2026-06-01", "2026-05-31", "must be on or after the start date"),
        ("2026-06-01", "2027-06-02", "at most 12 months after the start date (on or before 2027-06-01)"),
        ("2028-02-29", "2029-03-01", "at most 12 months after the start date (on or before 2029-02-28)"),
    ],
)
def test_a_period_that_ends_too_early_or_too_late_is_refused_on_its_end(start: str, end: str, reason: str) -> None:
    # Given the period rule / When the end is before the start or more than 12 months later
    errors = _errors(PERIOD, {"start_date": start, "end_date": end}, rules=RULE)

    # Then the end date is named, with why
    assert errors == {"form.end_date": reason}


def test_the_rule_is_reported_together_with_field_errors() -> None:
    # Given a procedure with a period and another field
    procedure = _procedure(*PERIOD.fields, FIELDS["children"])

    # When the period is too long and another field is wrong
    errors = _errors(procedure, {"start_date": "2026-01-01", "end_date": "2028-01-01", "children": -1}, rules=RULE)

    # Then both are reported at once
    assert set(errors) == {"form.end_date", "form.children"}


def test_the_rule_does_not_run_on_a_field_that_already_failed() -> None:
    # Given a start date that is not a date / When validated with the rule
    errors = _errors(PERIOD, {"start_date": "soon", "end_date": "2026-01-01"}, rules=RULE)

    # Then only the start date is reported
    assert errors == {"form.start_date": "must be a date (YYYY-MM-DD)"}


@pytest.mark.parametrize(
    ("form", "rule", "reported"),
    [
        (
            {"model": "596.2", "purpose": "Animation\u2028## Personne"},
            "purpose_required_for_article_596",
            "form.purpose",
        ),
        ({"location": {"lat": 10**400, "lon": 4.35}}, "location_or_address", "form.location.lat"),
    ],
    ids=["purpose", "part-of-a-location"],
)
def test_a_rule_never_reports_again_a_field_that_was_refused(form: dict[str, Any], rule: str, reported: str) -> None:
    # Given a field refused on its own (the rule then finds it missing from the cleaned form)
    procedure = _procedure(
        _field("model", FieldType.CHOICE, required=False, choices=[Choice(value="596.2", label=LABEL)]),
        _field("purpose", FieldType.TEXT, required=False),
        _field("location", FieldType.LOCATION, required=False),
    )
    # When validated with the rule / Then only the field's own problem is reported, not "required" again
    assert list(_errors(procedure, form, rules=[rule])) == [reported]


def test_rules_apply_only_when_asked_for() -> None:
    # Given a period of two years / When validated without the rule / Then it passes
    form = {"start_date": "2026-01-01", "end_date": "2028-01-01"}
    assert _check(PERIOD, form) == form


def test_an_unknown_rule_is_a_catalogue_error_not_the_citizens() -> None:
    # Given a rule name that is not in FORM_RULES / When the form is validated
    # Then a ValueError (a misconfigured procedure), not a 422
    with pytest.raises(ValueError, match="no_such_rule"):
        _check(PERIOD, {"start_date": "2026-01-01", "end_date": "2026-02-01"}, rules=["no_such_rule"])


def test_every_rule_names_its_fields_and_is_described_in_three_languages() -> None:
    # Given the registry / Then each rule knows its name, its fields and a description in fr, nl and en
    for name, rule in FORM_RULES.items():
        assert rule.name == name
        assert rule.fields
        assert all(text.strip() for text in (rule.description.fr, rule.description.nl, rule.description.en))


# ---------------------------------------------------------------------------------------------------- definitions
def test_a_photos_field_allows_three_photos_unless_told_otherwise() -> None:
    # Given photos fields with and without max_items / Then the default is 3
    assert FormField.model_validate({"name": "p", "type": "photos", "label": LABEL}).max_items == 3
    assert FormField.model_validate({"name": "p", "type": "photos", "label": LABEL, "max_items": 5}).max_items == 5


@pytest.mark.parametrize(
    ("definition", "complaint"),
    [
        ({"type": "choice"}, "needs choices"),
        ({"type": "multi_choice", "choices": []}, "needs choices"),
        ({"type": "choice", "choices": [{"value": "a", "label": LABEL}] * 2}, "distinct values"),
        ({"type": "text", "choices": [{"value": "a", "label": LABEL}]}, "choices does not apply to a text field"),
        ({"type": "date", "maximum": 3}, "maximum does not apply to a date field"),
        ({"type": "text", "min_days_ahead": 1}, "min_days_ahead does not apply to a text field"),
        ({"type": "location", "max_items": 1}, "max_items does not apply to a location field"),
        ({"type": "integer", "minimum": 5, "maximum": 1}, "minimum is greater than maximum"),
        ({"type": "date", "min_days_ahead": 10, "max_days_ahead": 2}, "min_days_ahead is greater than max_days_ahead"),
        ({"type": "text", "pattern": "(unclosed"}, "pattern does not compile"),
        ({"type": "items", "choices": [{"value": "a", "label": LABEL}]}, "needs maximum"),
        (
            {"type": "items", "choices": [{"value": "a", "label": LABEL}], "maximum": 2, "max_total": 5},
            "every choice needs volume_m3",
        ),
        ({"type": "choice", "choices": [{"value": " a", "label": LABEL}]}, "value"),
        ({"type": "photos", "max_items": 0}, "max_items"),
        ({"type": "sketch"}, "type"),
    ],
)
def test_a_field_definition_that_makes_no_sense_is_refused(definition: dict[str, Any], complaint: str) -> None:
    # Given a field definition from the catalogue / When it is loaded / Then it is refused, saying why
    with pytest.raises(ValidationError, match=complaint):
        FormField.model_validate({"name": "f", "label": LABEL, **definition})
