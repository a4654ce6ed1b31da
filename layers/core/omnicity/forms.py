"""Server-side validation of a submitted form against its procedure's field definitions.

The same definitions drive the portal's and the kiosks' forms, so what a client can render is what is checked.
Each problem is reported with the field's path (``form.<name>``) and the reason, all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from omnicity.errors import ValidationFailedError, field_error
from omnicity.models import FieldType, FormField, Procedure

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_TEXT = 2000


def validate_form(procedure: Procedure, form: Mapping[str, Any]) -> dict[str, Any]:
    """Return the cleaned form or raise ValidationFailedError naming every bad field."""
    errors: list[dict[str, str]] = []
    cleaned: dict[str, Any] = {}
    known = {field.name for field in procedure.fields}
    for name in form:
        if name not in known:
            errors.append(field_error(f"form.{name}", "unknown field for this procedure"))
    for field in procedure.fields:
        value = form.get(field.name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if field.required:
                errors.append(field_error(f"form.{field.name}", "required"))
            continue
        try:
            cleaned[field.name] = _clean(field, value)
        except ValueError as exc:
            errors.append(field_error(f"form.{field.name}", str(exc)))
    if errors:
        raise ValidationFailedError("the form has invalid fields", errors)
    return cleaned


def _clean(field: FormField, value: Any) -> Any:
    match field.type:
        case FieldType.TEXT | FieldType.EMAIL:
            return _clean_text(field, value)
        case FieldType.INTEGER:
            return _clean_integer(field, value)
        case FieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
            return value
        case FieldType.DATE:
            return _clean_date(value)
        case FieldType.CHOICE:
            allowed = [choice.value for choice in field.choices or []]
            if value not in allowed:
                raise ValueError(f"must be one of: {', '.join(allowed)}")
            return value
    raise ValueError(f"unsupported field type {field.type}")  # pragma: no cover - exhaustive match above


def _clean_text(field: FormField, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    text = value.strip()
    limit = field.max_length or _MAX_TEXT
    if len(text) > limit:
        raise ValueError(f"at most {limit} characters")
    if field.min_length is not None and len(text) < field.min_length:
        raise ValueError(f"at least {field.min_length} characters")
    if field.type is FieldType.EMAIL and not _EMAIL.match(text):
        raise ValueError("not a valid email address")
    if field.pattern is not None and not re.fullmatch(field.pattern, text):
        raise ValueError("does not have the expected format")
    return text


def _clean_integer(field: FormField, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    if field.minimum is not None and value < field.minimum:
        raise ValueError(f"must be at least {field.minimum}")
    if field.maximum is not None and value > field.maximum:
        raise ValueError(f"must be at most {field.maximum}")
    return value


def _clean_date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD)") from None
