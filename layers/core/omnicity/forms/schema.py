"""A procedure's form as JSON Schema (draft 2020-12), for the portal and the kiosks to render any form generically.

The schema is built from the same field definitions, limits and patterns ``omnicity.forms.validation`` checks, so a
value the schema accepts is one the server accepts, with these exceptions, where the server checks more than JSON
Schema can say (each is also given to renderers under a vendor keyword where it helps):

- a national register number's check digits (``x-format: nrn``);
- dates relative to today (``x-min-days-ahead``/``x-max-days-ahead``, days from today in Brussels);
- the total volume of ``items`` (``x-max-total-m3``, with each item's ``x-volumes-m3``) and an item listed twice;
- that photos are the signed-in person's own uploads (and that an anonymous form has none);
- cross-field rules (``x-rules``: name, fields, description in fr/nl/en);
- the server also reads a surrounding-whitespace string as its stripped value, and ``null``, ``""``, ``[]`` or ``{}``
  as "not given" (fine for an optional field); the schema describes the canonical values a client sends.

Labels: JSON Schema has one ``title`` and one ``description``; they are in French, and every label is also given in
fr/nl/en under ``x-labels`` (help under ``x-help``, choice labels under ``x-enum-labels`` next to each ``enum``).
``x-field-type`` is the field's type in the catalogue, for a renderer to pick a widget; ``x-order`` lists the fields
in the catalogue's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omnicity.domain.city import City, Section, get_city
from omnicity.domain.models import Choice, FieldType, FormField, LocalizedText, Procedure
from omnicity.domain.text import TEXT_PATTERN
from omnicity.forms.validation import (
    BOX_MAX_LENGTH,
    DATE_PATTERN,
    EMAIL_PATTERN,
    FORM_RULES,
    HOUSE_NUMBER_PATTERN,
    MAX_SAFE_INTEGER,
    MAX_TEXT_LENGTH,
    NRN_PATTERN,
    STREET_MAX_LENGTH,
    UPLOAD_KEY_PATTERN,
    postal_codes,
)

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

_SUB_LABELS = {
    "lat": LocalizedText(fr="Latitude", nl="Breedtegraad", en="Latitude"),
    "lon": LocalizedText(fr="Longitude", nl="Lengtegraad", en="Longitude"),
    "street": LocalizedText(fr="Rue", nl="Straat", en="Street"),
    "number": LocalizedText(fr="Numéro", nl="Huisnummer", en="Number"),
    "box": LocalizedText(fr="Boîte", nl="Bus", en="Box"),
    "postal_code": LocalizedText(fr="Code postal", nl="Postcode", en="Postal code"),
    "item": LocalizedText(fr="Objet", nl="Voorwerp", en="Item"),
    "quantity": LocalizedText(fr="Quantité", nl="Aantal", en="Quantity"),
}


def form_schema(procedure: Procedure, *, rules: Sequence[str] = ()) -> Schema:
    """The JSON Schema of ``procedure``'s form; ``rules`` are its cross-field rules (names in ``FORM_RULES``)."""
    unknown = [name for name in rules if name not in FORM_RULES]
    if unknown:
        raise ValueError(f"unknown form rule(s): {', '.join(unknown)}")
    city = get_city()
    schema: Schema = {
        "$schema": DRAFT_2020_12,
        **_labelled(procedure.title),
        "type": "object",
        "properties": {field.name: _field(field, city) for field in procedure.fields},
        "required": [field.name for field in procedure.fields if field.required],
        "additionalProperties": False,
        "x-order": [field.name for field in procedure.fields],
    }
    if rules:
        schema["x-rules"] = [
            {
                "name": name,
                "fields": list(FORM_RULES[name].fields),
                "description": FORM_RULES[name].description.model_dump(),
            }
            for name in rules
        ]
    return schema


def _labelled(label: LocalizedText, help_text: LocalizedText | None = None) -> Schema:
    labels: Schema = {"title": label.fr, "x-labels": label.model_dump()}
    if help_text is not None:
        labels |= {"description": help_text.fr, "x-help": help_text.model_dump()}
    return labels


def _enum(choices: Sequence[Choice]) -> Schema:
    return {
        "enum": [choice.value for choice in choices],
        "x-enum-labels": {choice.value: choice.label.model_dump() for choice in choices},
    }


def _field(field: FormField, city: City) -> Schema:
    return {**_labelled(field.label, field.help), "x-field-type": field.type.value, **_type(field, city)}


def _type(field: FormField, city: City) -> Schema:  # noqa: PLR0911 - one return per field type reads best
    match field.type:
        case FieldType.TEXT | FieldType.EMAIL:
            return _text(field)
        case FieldType.INTEGER:
            return {
                "type": "integer",
                "minimum": -MAX_SAFE_INTEGER if field.minimum is None else field.minimum,
                "maximum": MAX_SAFE_INTEGER if field.maximum is None else field.maximum,
            }
        case FieldType.BOOLEAN:
            return {"type": "boolean"}
        case FieldType.DATE:
            return _without_none(
                {
                    "type": "string",
                    "format": "date",
                    "pattern": DATE_PATTERN,
                    "x-min-days-ahead": field.min_days_ahead,
                    "x-max-days-ahead": field.max_days_ahead,
                }
            )
        case FieldType.CHOICE:
            return {"type": "string", **_enum(field.choices or [])}
        case FieldType.MULTI_CHOICE:
            return _list(field, {"type": "string", **_enum(field.choices or [])})
        case FieldType.NRN:
            return {"type": "string", "pattern": NRN_PATTERN, "x-format": "nrn"}
        case FieldType.LOCATION:
            return _location(city)
        case FieldType.ADDRESS:
            return _address(city)
        case FieldType.PHOTOS:
            return {
                **_list(field, {"type": "string", "pattern": UPLOAD_KEY_PATTERN}),
                "x-content-types": ["image/jpeg", "image/png"],
            }
        case FieldType.ITEMS:
            return _items(field)
    raise ValueError(f"unsupported field type {field.type}")  # pragma: no cover - every type is handled


def _without_none(schema: Schema) -> Schema:
    return {key: value for key, value in schema.items() if value is not None}


def _text(field: FormField) -> Schema:
    schema: Schema = {
        "type": "string",
        "minLength": max(field.min_length or 0, 1),
        "maxLength": field.max_length or MAX_TEXT_LENGTH,
        # A given text has something besides spaces (only spaces is "not given"); a field's own pattern is anchored,
        # as the server matches it against the whole text.
        "pattern": f"^(?:{field.pattern})$" if field.pattern is not None else r"\S",
        # no control, separator or invisible formatting character (omnicity.domain.text)
        "allOf": [{"pattern": TEXT_PATTERN}],
    }
    if field.type is FieldType.EMAIL:
        schema["format"] = "email"
        schema["allOf"].append({"pattern": EMAIL_PATTERN})
    return schema


def _list(field: FormField, items: Schema) -> Schema:
    return _without_none(
        {
            "type": "array",
            "items": items,
            "uniqueItems": True,
            # a given list is not empty (an empty one is "not given")
            "minItems": max(field.min_items or 0, 1),
            "maxItems": field.max_items,
        }
    )


def _sub(name: str, schema: Schema) -> Schema:
    return {**_labelled(_SUB_LABELS[name]), **schema}


def _given_text(max_length: int) -> Schema:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": r"\S",
        "allOf": [{"pattern": TEXT_PATTERN}],
    }


def _location(city: City) -> Schema:
    bounds = city.bounds
    return {
        "type": "object",
        "properties": {
            "lat": _sub("lat", {"type": "number", "minimum": bounds.south, "maximum": bounds.north}),
            "lon": _sub("lon", {"type": "number", "minimum": bounds.west, "maximum": bounds.east}),
        },
        "required": ["lat", "lon"],
        "additionalProperties": False,
    }


def _address(city: City) -> Schema:
    codes = postal_codes(city)
    names: dict[str, Section] = {}
    for section in city.sections:
        for code in section.postal_codes:
            names.setdefault(code, section)
    return {
        "type": "object",
        "properties": {
            "street": _sub("street", _given_text(STREET_MAX_LENGTH)),
            "number": _sub("number", {"type": "string", "pattern": HOUSE_NUMBER_PATTERN}),
            "box": _sub("box", _given_text(BOX_MAX_LENGTH)),
            "postal_code": _sub(
                "postal_code",
                {
                    "type": "string",
                    "enum": codes,
                    "x-enum-labels": {
                        code: {
                            "fr": f"{code} {names[code].fr}",
                            "nl": f"{code} {names[code].nl}",
                            "en": f"{code} {names[code].fr}",
                        }
                        for code in codes
                    },
                },
            ),
        },
        "required": ["street", "number", "postal_code"],
        "additionalProperties": False,
    }


def _items(field: FormField) -> Schema:
    choices = field.choices or []
    line = {
        "type": "object",
        "properties": {
            "item": _sub("item", {"type": "string", **_enum(choices)}),
            "quantity": _sub("quantity", {"type": "integer", "minimum": 1, "maximum": field.maximum}),
        },
        "required": ["item", "quantity"],
        "additionalProperties": False,
    }
    schema = _list(field, line)
    schema["maxItems"] = min(field.max_items or len(choices), len(choices))  # each item once
    if field.max_total is not None:
        schema["x-max-total-m3"] = field.max_total
        schema["x-volumes-m3"] = {choice.value: choice.volume_m3 for choice in choices}
    return schema
