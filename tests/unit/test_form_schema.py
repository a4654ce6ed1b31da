"""The form as JSON Schema (draft 2020-12): a valid schema, labelled in fr/nl/en, and saying what the server checks.

jsonschema is a test dependency only: it checks the schema against the metaschema and plays the portal's validator,
so that each example value is accepted or refused by the schema and by ``validate_form`` alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from omnicity.catalogue import get_catalogue
from omnicity.domain.city import get_city
from omnicity.domain.errors import ValidationFailedError
from omnicity.domain.models import Channel, Choice, FieldType, FormField, LocalizedText, Procedure
from omnicity.forms.schema import DRAFT_2020_12, form_schema
from omnicity.forms.validation import FORM_RULES, validate_form

TODAY = date(2026, 3, 2)
OWNER = "owner-7f3a"
OTHER = "owner-91bc"
LABEL = LocalizedText(fr="Libellé", nl="Label", en="Label")
HELP = LocalizedText(fr="Aide", nl="Hulp", en="Help")


def _choices(*values: str, volumes: tuple[float, ...] = ()) -> list[Choice]:
    labels = [LocalizedText(fr=f"{v} (fr)", nl=f"{v} (nl)", en=f"{v} (en)") for v in values]
    if volumes:
        return [Choice(value=v, label=lab, volume_m3=vol) for v, lab, vol in zip(values, labels, volumes, strict=True)]
    return [Choice(value=v, label=lab) for v, lab in zip(values, labels, strict=True)]


def _field(name: str, field_type: FieldType, **options: Any) -> FormField:
    return FormField(name=name, type=field_type, label=LABEL, **options)


def _procedure(*fields: FormField) -> Procedure:
    return Procedure(
        id="every-field-type",
        family="document_request",
        title=LocalizedText(fr="Démarche", nl="Procedure", en="Procedure"),
        summary=LABEL,
        help=LABEL,
        department="population",
        sla_business_days=0,
        channels=[Channel.PORTAL],
        eligibility=[],
        fields=list(fields),
    )


# One field per type (and per kind of text), with the options each type supports.
FIELDS = {
    "code": _field("code", FieldType.TEXT, min_length=2, max_length=5, pattern=r"[A-Z]{2}[0-9]*", help=HELP),
    "remark": _field("remark", FieldType.TEXT),
    "contact": _field("contact", FieldType.EMAIL),
    "children": _field("children", FieldType.INTEGER, minimum=0, maximum=12),
    "consent": _field("consent", FieldType.BOOLEAN),
    "moved_on": _field("moved_on", FieldType.DATE),
    "visit_on": _field("visit_on", FieldType.DATE, min_days_ahead=2, max_days_ahead=60),
    "purpose": _field("purpose", FieldType.CHOICE, choices=_choices("housing", "employment")),
    "zones": _field("zones", FieldType.MULTI_CHOICE, choices=_choices("a", "b", "c"), max_items=2),
    "spot": _field("spot", FieldType.LOCATION),
    "address": _field("address", FieldType.ADDRESS),
    "photos": _field("photos", FieldType.PHOTOS),
    "bulky": _field(
        "bulky",
        FieldType.ITEMS,
        choices=_choices("sofa", "mattress", "chair", volumes=(1.5, 0.5, 0.1)),
        maximum=5,
        max_total=3,
    ),
    "person": _field("person", FieldType.NRN),
}
EVERY_TYPE = _procedure(*FIELDS.values())


def _photo(owner: str = OWNER, name: str = "3f2a9c", extension: str = "jpg") -> str:
    return f"uploads/{owner}/{name}.{extension}"


def _days(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}
TOWN_HALL = {"street": "Grand-Place", "number": "1", "postal_code": "1000"}

# Every character on which str.splitlines() breaks a line (omnicity.domain.text refuses each in a citizen's text)
SEPARATORS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]

# Values each field's schema and the server must both accept, and values both must refuse. Accepted values are
# canonical (what a client sends after trimming); see test_the_known_differences_are_exactly_the_documented_ones.
EXAMPLES: dict[str, tuple[list[Any], list[Any]]] = {
    "code": (["AB", "AB123"], ["A", "AB1234", "ab", "A1", "", "  ", 12, None, True, ["AB"]]),
    "remark": (
        [
            "Bonjour",
            "x",
            "x" * 2000,
            "deux  mots",
            "Łukasz Wiśniewski",
            "Nguyễn Thị Minh Khai",
            "café ☕ 👍",
            "a\u00adb",
        ],
        [
            "",
            "   ",
            "\t\n",
            "x" * 2001,
            3,
            None,
            {"text": "x"},
            *(f"Animation{separator}## Personne" for separator in SEPARATORS),
            "x\u202eevil",  # a right-to-left override
            "x\u200by",  # a zero-width space
            "x\ud800y",  # a lone surrogate, which JSON can spell
        ],
    ),
    "contact": (
        ["a@example.org", "elise.exemplaire@example.be"],
        ["a@example", "a b@example.org", "@example.org", "a@@example.org", "", 1, None],
    ),
    "children": ([0, 5, 12], [-1, 13, "3", True, False, 3.5, None, [3], 10**400, -(10**400), float("inf")]),
    "consent": ([True, False], ["true", 1, 0, None, "yes"]),
    "moved_on": (
        ["2024-02-29", "1999-12-31"],
        ["2023-02-29", "2024-13-01", "20240105", "2024-1-5", "2024-W01-1", "01/12/2023", 20240105, "", None],
    ),
    "visit_on": ([_days(2), _days(30), _days(60)], ["2026-3-10", "tomorrow", 3, ""]),
    "purpose": (["housing", "employment"], ["HOUSING", "holiday", "", 1, None, ["housing"]]),
    "zones": (
        [["a"], ["a", "b"], ["c", "a"]],
        [[], ["a", "a"], ["a", "b", "c"], ["x"], "a", [1], [None], None, {"a": True}],
    ),
    "spot": (
        [GRAND_PLACE, {"lat": 50.79, "lon": 4.29}, {"lat": 50.92, "lon": 4.44}],
        [
            {"lat": 50.7899, "lon": 4.35},
            {"lat": 50.85, "lon": 4.4401},
            {"lat": 51.2194, "lon": 4.4025},  # Antwerp
            {"lat": 4.35, "lon": 50.85},  # swapped
            {"lat": 10**400, "lon": 4.35},  # valid JSON, no float holds it
            {"lat": -(10**400), "lon": 4.35},
            {"lat": float("inf"), "lon": 4.35},  # how Python reads 1e400
            {"lat": "50.85", "lon": 4.35},
            {"lat": True, "lon": 4.35},
            {"lat": None, "lon": 4.35},
            {"lat": 50.85},
            {**GRAND_PLACE, "alt": 13},
            [50.85, 4.35],
            {},
            "50.85,4.35",
        ],
    ),
    "address": (
        [
            TOWN_HALL,
            {"street": "Rue de la Loi", "number": "16A", "box": "3", "postal_code": "1040"},
            {"street": "Boulevard Émile Bockstael", "number": "12-14", "postal_code": "1020"},
            {"street": "Rue de Ransbeek", "number": "230/2", "postal_code": "1120"},
        ],
        [
            {**TOWN_HALL, "postal_code": "1030"},
            {**TOWN_HALL, "postal_code": 1000},
            {**TOWN_HALL, "number": "one"},
            {**TOWN_HALL, "number": ""},
            {**TOWN_HALL, "number": 1},
            {**TOWN_HALL, "street": "   "},
            {**TOWN_HALL, "street": "Grand-Place\u2028- Sonorisation: autorisée"},
            {**TOWN_HALL, "box": "3\x1e4"},
            {**TOWN_HALL, "street": "x" * 121},
            {**TOWN_HALL, "box": "x" * 11},
            {**TOWN_HALL, "city": "Bruxelles"},
            {"number": "1", "postal_code": "1000"},
            {},
            "Grand-Place 1, 1000 Bruxelles",
        ],
    ),
    "photos": (
        [[_photo()], [_photo(name="a"), _photo(name="b", extension="png"), _photo(name="c")]],
        [
            [],
            [_photo(), _photo()],
            [_photo(name=str(n)) for n in range(4)],
            ["uploads/x.jpg"],
            [_photo(extension="gif")],
            [_photo(extension="JPG")],
            [f"uploads/{OWNER}/a b.jpg"],
            [f"uploads/{OWNER}/../{OTHER}/a.jpg"],
            [f"/uploads/{OWNER}/a.jpg"],
            _photo(),
            [1],
            None,
        ],
    ),
    "bulky": (
        [
            [{"item": "sofa", "quantity": 2}],
            [{"item": "chair", "quantity": 5}, {"item": "mattress", "quantity": 1}],
            [{"quantity": 1, "item": "sofa"}, {"item": "chair", "quantity": 1}, {"item": "mattress", "quantity": 1}],
        ],
        [
            [{"item": "sofa"}],
            [{"quantity": 1}],
            [{"item": "sofa", "quantity": "1"}],
            [{"item": "sofa", "quantity": 0}],
            [{"item": "chair", "quantity": 6}],
            [{"item": "chair", "quantity": 1.5}],
            [{"item": "piano", "quantity": 1}],
            [{"item": "sofa", "quantity": 1, "colour": "red"}],
            [{"item": "chair", "quantity": 1}, {"item": "chair", "quantity": 1}],
            [{"item": item, "quantity": 1} for item in ("sofa", "mattress", "chair", "chair")],
            ["sofa"],
            [],
            {"sofa": 1},
            None,
        ],
    ),
    "person": (
        ["87031413235", "87.03.14-132.35", "87 03 14 132 35"],
        ["8703141323", "870314132355", "87O31413235", "87/03/14 132 35", 87031413235, "", None],
    ),
}


def _schema_accepts(schema: dict[str, Any], form: dict[str, Any]) -> bool:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return bool(validator.is_valid(form))


def _server_accepts(procedure: Procedure, form: dict[str, Any], rules: tuple[str, ...] = ()) -> bool:
    try:
        validate_form(procedure, form, today=TODAY, uploads_owner=OWNER, rules=rules)
    except ValidationFailedError:
        return False
    return True


def _cases(accepted: bool) -> Iterator[Any]:
    for name, (good, bad) in EXAMPLES.items():
        for index, value in enumerate(good if accepted else bad):
            yield pytest.param(name, value, id=f"{name}-{index}")


# ---------------------------------------------------------------------------------------------------- a valid schema
def test_the_schema_of_every_field_type_is_valid_draft_2020_12() -> None:
    # Given a procedure with one field of each type / When its form schema is made
    schema = form_schema(EVERY_TYPE, rules=["period_at_most_12_months"])

    # Then it is valid against the draft 2020-12 metaschema and says so
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT_2020_12 == "https://json-schema.org/draft/2020-12/schema"
    # and it is plain JSON (the API returns it as is)
    assert json.loads(json.dumps(schema)) == schema


def test_every_procedure_of_the_catalogue_has_a_valid_form_schema() -> None:
    # Given the bundled catalogue / Then every procedure's form schema is valid draft 2020-12
    for procedure in get_catalogue().all():
        Draft202012Validator.check_schema(form_schema(procedure))


def test_the_schema_is_a_closed_object_with_the_required_fields_in_order() -> None:
    # Given a procedure with a required and an optional field
    procedure = _procedure(FIELDS["purpose"].model_copy(update={"required": False}), FIELDS["consent"])

    # When its form schema is made
    schema = form_schema(procedure)

    # Then only the known fields are allowed, the required one is required, and the catalogue's order is kept
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == ["purpose", "consent"] == schema["x-order"]
    assert schema["required"] == ["consent"]


# ---------------------------------------------------------------------------------------------------- labels
def _subschemas(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property schema, nested ones included (object properties, array items), with its path."""
    for name, sub in schema.get("properties", {}).items():
        yield name, sub
        for path, nested in _subschemas(sub):
            yield f"{name}.{path}", nested
        items = sub.get("items")
        if isinstance(items, dict):
            for path, nested in _subschemas(items):
                yield f"{name}[].{path}", nested


def _enums(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        if "enum" in schema:
            yield schema
        for value in schema.values():
            yield from _enums(value)


def test_every_field_and_every_part_of_one_is_labelled_in_french_dutch_and_english() -> None:
    # Given the schema of every field type
    schema = form_schema(EVERY_TYPE)
    paths = [path for path, _ in _subschemas(schema)]
    assert "address.postal_code" in paths
    assert "bulky[].quantity" in paths

    # Then every property, nested ones too, has a French title and its label in the three languages
    for path, sub in _subschemas(schema):
        labels = sub["x-labels"]
        assert set(labels) == {"fr", "nl", "en"}, path
        assert all(text.strip() for text in labels.values()), path
        assert sub["title"] == labels["fr"], path
    # and the form itself is titled the same way
    assert schema["x-labels"] == {"fr": "Démarche", "nl": "Procedure", "en": "Procedure"}
    assert schema["title"] == "Démarche"


def test_help_is_given_in_three_languages_when_the_field_has_some() -> None:
    # Given a field with help and one without / When the schema is made
    properties = form_schema(EVERY_TYPE)["properties"]

    # Then the help is the description (French) and x-help (fr, nl, en); no help, no description
    assert properties["code"]["description"] == "Aide"
    assert properties["code"]["x-help"] == {"fr": "Aide", "nl": "Hulp", "en": "Help"}
    assert "description" not in properties["remark"]
    assert "x-help" not in properties["remark"]


def test_every_enum_value_has_its_labels_in_three_languages() -> None:
    # Given the schema of every field type (choice, multi_choice, items, the address's postal code)
    enums = list(_enums(form_schema(EVERY_TYPE)))
    assert len(enums) == 4

    # Then each enum carries exactly its values' labels, in fr, nl and en
    for enum in enums:
        labels = enum["x-enum-labels"]
        assert list(labels) == enum["enum"]
        for label in labels.values():
            assert set(label) == {"fr", "nl", "en"}
            assert all(text.strip() for text in label.values())
    purpose = form_schema(EVERY_TYPE)["properties"]["purpose"]
    assert purpose["x-enum-labels"]["housing"] == {"fr": "housing (fr)", "nl": "housing (nl)", "en": "housing (en)"}


def test_the_residence_certificate_form_is_published_with_its_choices() -> None:
    # Given the bundled residence certificate / When its form schema is made
    schema = form_schema(get_catalogue().get("residence-certificate"))

    # Then its optional purpose is an enum of the catalogue's choices, labelled in three languages
    purpose = schema["properties"]["purpose"]
    assert schema["required"] == []
    assert purpose["type"] == "string"
    assert purpose["x-field-type"] == "choice"
    assert purpose["enum"] == ["administration", "employment", "education", "housing", "other"]
    assert purpose["x-enum-labels"]["employment"] == {"fr": "Employeur", "nl": "Werkgever", "en": "Employer"}
    assert purpose["x-labels"]["nl"] == "Gebruik van het attest"


# ---------------------------------------------------------------------------------------------------- what it says
def test_a_location_is_bounded_by_the_city() -> None:
    # Given the city's bounds in city.yaml / When a location field's schema is made
    bounds = get_city().bounds
    spot = form_schema(EVERY_TYPE)["properties"]["spot"]

    # Then lat and lon are numbers within them
    assert spot["required"] == ["lat", "lon"]
    assert spot["properties"]["lat"] | {"title": None, "x-labels": None} == {
        "type": "number",
        "minimum": bounds.south,
        "maximum": bounds.north,
        "title": None,
        "x-labels": None,
    }
    assert (spot["properties"]["lon"]["minimum"], spot["properties"]["lon"]["maximum"]) == (bounds.west, bounds.east)


def test_an_address_postal_code_is_one_of_the_city_and_named_after_its_section() -> None:
    # Given the city's sections / When an address field's schema is made
    postal_code = form_schema(EVERY_TYPE)["properties"]["address"]["properties"]["postal_code"]

    # Then the postal codes are the city's, each labelled with its section's name
    assert postal_code["enum"] == ["1000", "1040", "1050", "1020", "1120", "1130"]
    assert postal_code["x-enum-labels"]["1020"] == {"fr": "1020 Laeken", "nl": "1020 Laken", "en": "1020 Laeken"}


def test_what_json_schema_cannot_say_is_given_to_renderers_as_vendor_keywords() -> None:
    # Given the schema of every field type and the period rule
    schema = form_schema(EVERY_TYPE, rules=["period_at_most_12_months"])
    properties = schema["properties"]

    # Then relative dates, the volume cap, the NRN's check digits and the rule are described
    assert properties["visit_on"]["x-min-days-ahead"] == 2
    assert properties["visit_on"]["x-max-days-ahead"] == 60
    assert properties["bulky"]["x-max-total-m3"] == 3
    assert properties["bulky"]["x-volumes-m3"] == {"sofa": 1.5, "mattress": 0.5, "chair": 0.1}
    assert properties["person"]["x-format"] == "nrn"
    assert properties["photos"]["maxItems"] == 3
    assert properties["photos"]["x-content-types"] == ["image/jpeg", "image/png"]
    rule = FORM_RULES["period_at_most_12_months"]
    assert schema["x-rules"] == [
        {"name": rule.name, "fields": ["start_date", "end_date"], "description": rule.description.model_dump()}
    ]
    # and each field says which catalogue type it is, for a renderer to pick its widget
    assert {name: sub["x-field-type"] for name, sub in properties.items()} == {
        name: field.type.value for name, field in FIELDS.items()
    }


def test_no_rules_no_x_rules_and_an_unknown_rule_is_refused() -> None:
    # Given a procedure / When its schema is made without rules / Then there is no x-rules
    assert "x-rules" not in form_schema(EVERY_TYPE)

    # When an unknown rule is named / Then it is a catalogue error
    with pytest.raises(ValueError, match="no_such_rule"):
        form_schema(EVERY_TYPE, rules=["no_such_rule"])


# ---------------------------------------------------------------------------------------------------- agreement
@pytest.mark.parametrize(("name", "value"), list(_cases(accepted=True)))
def test_a_value_the_server_accepts_the_schema_accepts(name: str, value: Any) -> None:
    # Given a procedure with the one (required) field, and its schema
    procedure = _procedure(FIELDS[name])
    schema = form_schema(procedure)

    # When a good value is checked by both / Then both accept it
    assert _server_accepts(procedure, {name: value})
    assert _schema_accepts(schema, {name: value})


@pytest.mark.parametrize(("name", "value"), list(_cases(accepted=False)))
def test_a_value_the_server_refuses_the_schema_refuses(name: str, value: Any) -> None:
    # Given a procedure with the one (required) field, and its schema
    procedure = _procedure(FIELDS[name])
    schema = form_schema(procedure)

    # When a bad value is checked by both / Then both refuse it
    assert not _server_accepts(procedure, {name: value})
    assert not _schema_accepts(schema, {name: value})


def test_a_whole_form_is_judged_alike() -> None:
    # Given the procedure with every field type, and one good value for each
    schema = form_schema(EVERY_TYPE)
    good = {name: values[0] for name, (values, _) in EXAMPLES.items()}

    # Then the whole form passes both; without a required field, or with an unknown one, it fails both
    assert _server_accepts(EVERY_TYPE, good)
    assert _schema_accepts(schema, good)
    missing = {name: value for name, value in good.items() if name != "consent"}
    assert not _server_accepts(EVERY_TYPE, missing)
    assert not _schema_accepts(schema, missing)
    assert not _server_accepts(EVERY_TYPE, good | {"nickname": "Lili"})
    assert not _schema_accepts(schema, good | {"nickname": "Lili"})


def test_optional_fields_left_out_are_fine_for_both() -> None:
    # Given every field type, optional
    procedure = _procedure(*(field.model_copy(update={"required": False}) for field in FIELDS.values()))

    # When nothing is given / Then both accept the empty form
    assert _server_accepts(procedure, {})
    assert _schema_accepts(form_schema(procedure), {})


PERIOD = _procedure(_field("start_date", FieldType.DATE), _field("end_date", FieldType.DATE))


@pytest.mark.parametrize(
    ("procedure", "form", "rules", "server", "schema", "why"),
    [
        (FIELDS["person"], {"person": "87031413236"}, (), False, True, "an NRN's check digits"),
        (FIELDS["visit_on"], {"visit_on": _days(1)}, (), False, True, "a date relative to today"),
        (FIELDS["bulky"], {"bulky": [{"item": "sofa", "quantity": 3}]}, (), False, True, "the total volume"),
        (
            FIELDS["bulky"],
            {"bulky": [{"item": "chair", "quantity": 1}, {"item": "chair", "quantity": 2}]},
            (),
            False,
            True,
            "an item listed twice with different quantities",
        ),
        (FIELDS["photos"], {"photos": [_photo(owner=OTHER)]}, (), False, True, "another person's upload"),
        (
            None,
            {"start_date": "2026-06-01", "end_date": "2026-05-01"},
            ("period_at_most_12_months",),
            False,
            True,
            "a cross-field rule",
        ),
        (FIELDS["children"], {"children": 2.0}, (), False, True, "JSON Schema counts 2.0 as an integer"),
        (FIELDS["purpose"], {"purpose": " housing "}, (), True, False, "the server trims strings"),
        (
            FIELDS["purpose"].model_copy(update={"required": False}),
            {"purpose": None},
            (),
            True,
            False,
            "null is 'not given' for an optional field",
        ),
        (FIELDS["address"], {"address": {**TOWN_HALL, "box": ""}}, (), True, False, "a blank optional box"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_known_differences_are_exactly_the_documented_ones(
    procedure: FormField | None,
    form: dict[str, Any],
    rules: tuple[str, ...],
    server: bool,
    schema: bool,
    why: str,
) -> None:
    # Given a value on one of the documented differences (see omnicity.forms.schema's docstring)
    subject = PERIOD if procedure is None else _procedure(procedure)

    # When it is checked by both / Then each answers as documented: the server checks more than JSON Schema can say,
    # and reads surrounding whitespace and blanks more kindly than the canonical schema does
    assert _server_accepts(subject, form, rules) is server, why
    assert _schema_accepts(form_schema(subject, rules=rules), form) is schema, why
