"""Server-side validation of a submitted form against its procedure's field definitions.

The same definitions drive the portal's and the kiosks' forms (``omnicity.forms.schema`` publishes them as JSON
Schema), so what a client can render is what is checked. Each problem is reported with its path and the reason, all
at once: ``form.<name>``, ``form.<name>.<sub>`` (location, address), ``form.<name>[<i>]`` (multi_choice, photos),
``form.<name>[<i>].<sub>`` (items).

What each type accepts (JSON), once strings are stripped of surrounding whitespace; nothing else is converted (``"3"``
is not an integer, ``1`` is not ``true``, ``1000`` is not the postal code ``"1000"``):

- ``text``, ``email``: a string (at most ``max_length``, 2000 by default); ``email`` looks like ``a@b.c``.
- ``integer``: an integer (not a float, not a boolean), within ``minimum``/``maximum``.
- ``boolean``: ``true`` or ``false``.
- ``date``: ``YYYY-MM-DD``, a day of the calendar, within ``min_days_ahead``/``max_days_ahead`` of today in Brussels.
- ``choice``: one of the ``choices``' values; ``multi_choice``: a list of distinct ones, ``min_items``..``max_items``.
- ``location``: ``{"lat", "lon"}``, numbers in WGS84 degrees inside the city's bounds (``catalogue/city.yaml``).
- ``address``: ``{"street", "number", "box"?, "postal_code"}``, strings; the postal code is one of the city's.
- ``photos``: a list of distinct upload keys ``uploads/<owner>/<id>.jpg|png`` (at most ``max_items``, 3 by default),
  each an upload of the signed-in person (``uploads_owner``); an anonymous form cannot carry photos.
- ``items``: a list of ``{"item": one of the choices, "quantity": 1..maximum}``, each item once; with ``max_total``
  the sum of the choices' ``volume_m3`` x quantity must not exceed it.
- ``nrn``: a Belgian national register number (separators allowed), cleaned to its 11 digits.

A value that is ``null``, an empty or blank string, an empty list or an empty object is "not given": ``required`` when
the field is, left out of the cleaned form when it is optional (an optional address's blank ``box`` likewise).

Cross-field rules (``FORM_RULES``) run after the per-field checks, on the fields that passed them.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from omnicity.domain.city import City, get_city
from omnicity.domain.errors import ValidationFailedError, field_error
from omnicity.domain.models import FieldType, FormField, LocalizedText, Procedure, today_in_brussels
from omnicity.domain.text import text_problem

FieldError = dict[str, str]

# Shared with omnicity.forms.schema, so the published schema says exactly what is checked here. The patterns are
# written in the subset of regular expressions that Python and ECMA-262 (the portal's JSON Schema validator) share.
MAX_TEXT_LENGTH = 2000
MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer a JSON reader holds exactly (ECMA-262's Number.MAX_SAFE_INTEGER)
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
NRN_PATTERN = r"^[\s.\-]*(?:[0-9][\s.\-]*){11}$"
UPLOAD_KEY_PATTERN = r"^uploads/([A-Za-z0-9_-]{1,128})/[A-Za-z0-9_-]{1,128}\.(?:jpg|png)$"
STREET_MAX_LENGTH = 120
HOUSE_NUMBER_PATTERN = r"^[0-9][0-9A-Za-z/-]{0,9}$"
BOX_MAX_LENGTH = 10

_DATE = re.compile(DATE_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_UPLOAD_KEY = re.compile(UPLOAD_KEY_PATTERN)
_HOUSE_NUMBER = re.compile(HOUSE_NUMBER_PATTERN)
_INVALID = object()  # what a cleaner returns when it reported a problem


class _BadValueError(ValueError):
    """One value is wrong; the message is the reason."""


def validate_form(
    procedure: Procedure,
    form: Mapping[str, Any],
    *,
    uploads_owner: str | None = None,
    rules: Sequence[str] = (),
    today: date | None = None,
) -> dict[str, Any]:
    """Return the cleaned form or raise ValidationFailedError naming every problem.

    ``uploads_owner`` is the opaque id of the signed-in person whose uploads photos may reference (None: anonymous,
    no photos). ``rules`` names cross-field rules of ``FORM_RULES`` (the procedure's); an unknown name is a catalogue
    error (ValueError), not the citizen's. ``today`` defaults to today in Brussels (pass the submission day when
    validating again later).
    """
    unknown = [name for name in rules if name not in FORM_RULES]
    if unknown:
        raise ValueError(f"unknown form rule(s): {', '.join(unknown)}")
    checker = _Checker(get_city(), today or today_in_brussels(), uploads_owner)
    known = {field.name for field in procedure.fields}
    for name in form:
        if name not in known:
            checker.fail(f"form.{name}", "unknown field for this procedure")
    cleaned: dict[str, Any] = {}
    for field in procedure.fields:
        path = f"form.{field.name}"
        value = _stripped(form.get(field.name))
        if _is_blank(value):
            if field.required:
                checker.fail(path, "required")
            continue
        result = checker.clean(field, value, path)
        if result is not _INVALID:
            cleaned[field.name] = result
    failed = [error["field"] for error in checker.errors]
    for name in rules:
        # a field already refused (or a part of it) is not reported again by a rule that finds it missing
        checker.errors.extend(error for error in FORM_RULES[name](cleaned) if not _reported(error["field"], failed))
    if checker.errors:
        raise ValidationFailedError("the form has invalid fields", checker.errors)
    return cleaned


def _reported(path: str, failed: Sequence[str]) -> bool:
    return any(other == path or other.startswith((f"{path}.", f"{path}[")) for other in failed)


def upload_key_problem(key: Any, owner: str, earlier: Collection[str]) -> str | None:
    """Why ``key`` cannot be attached by the person whose uploads are ``owner``'s, after ``earlier`` (None: it can).
    Whether the upload exists, and is an image, is S3's to say (``omnicity.adapters.documents.Uploads.unusable``)."""
    match = _UPLOAD_KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        return "not an upload key (uploads/<owner>/<id>.jpg or .png)"
    if match[1] != owner:
        return "not one of your uploads"
    if key in earlier:
        return "listed twice"
    return None


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _is_number(value: Any) -> bool:
    """A JSON number (not NaN). Never converted: JSON allows ``1`` followed by 400 zeros, which no float can hold
    (converting it raises), and Python reads ``1e400`` as infinity; such numbers are compared exactly with bounds
    and found out of them."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def postal_codes(city: City) -> list[str]:
    """The city's postal codes, in the order city.yaml lists them (each once)."""
    return list(dict.fromkeys(code for section in city.sections for code in section.postal_codes))


class _Checker:
    def __init__(self, city: City, today: date, uploads_owner: str | None) -> None:
        self.city = city
        self.today = today
        self.uploads_owner = uploads_owner
        self.errors: list[FieldError] = []

    def fail(self, path: str, reason: str) -> None:
        self.errors.append(field_error(path, reason))

    def clean(self, field: FormField, value: Any, path: str) -> Any:
        cleaners: dict[FieldType, Callable[[FormField, Any, str], Any]] = {
            FieldType.MULTI_CHOICE: self._multi_choice,
            FieldType.LOCATION: self._location,
            FieldType.ADDRESS: self._address,
            FieldType.PHOTOS: self._photos,
            FieldType.ITEMS: self._items,
        }
        compound = cleaners.get(field.type)
        if compound is not None:
            return compound(field, value, path)
        try:
            return self._scalar(field, value)
        except _BadValueError as bad:
            self.fail(path, str(bad))
            return _INVALID

    # -------------------------------------------------------------------------------------- one value, one reason
    def _scalar(self, field: FormField, value: Any) -> Any:
        match field.type:
            case FieldType.TEXT | FieldType.EMAIL:
                return _text(field, value)
            case FieldType.INTEGER:
                return _integer(value, field.minimum, field.maximum)
            case FieldType.BOOLEAN:
                if not isinstance(value, bool):
                    raise _BadValueError("must be true or false")
                return value
            case FieldType.DATE:
                return self._date(field, value)
            case FieldType.CHOICE:
                return _choice(field, value)
            case FieldType.NRN:
                return _nrn(value)
        raise ValueError(f"unsupported field type {field.type}")  # pragma: no cover - every type is handled

    def _date(self, field: FormField, value: Any) -> str:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise _BadValueError("must be a date (YYYY-MM-DD)")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _BadValueError("must be a date (YYYY-MM-DD)") from None
        if field.min_days_ahead is not None:
            earliest = self.today + timedelta(days=field.min_days_ahead)
            if day < earliest:
                raise _BadValueError(f"must be on or after {earliest.isoformat()}")
        if field.max_days_ahead is not None:
            latest = self.today + timedelta(days=field.max_days_ahead)
            if day > latest:
                raise _BadValueError(f"must be on or before {latest.isoformat()}")
        return day.isoformat()

    # -------------------------------------------------------------------------------------- lists and objects
    def _multi_choice(self, field: FormField, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            self.fail(path, "must be a list of choices")
            return _INVALID
        count_ok = self._count(field, len(value), path, "choice")
        chosen: list[str] = []
        for index, entry in enumerate(value):
            try:
                choice = _choice(field, _stripped(entry))
            except _BadValueError as bad:
                self.fail(f"{path}[{index}]", str(bad))
                continue
            if choice in chosen:
                self.fail(f"{path}[{index}]", "chosen twice")
                continue
            chosen.append(choice)
        return chosen if count_ok and len(chosen) == len(value) else _INVALID

    def _location(self, field: FormField, value: Any, path: str) -> Any:
        bounds = self.city.bounds
        axes = {"lat": (bounds.south, bounds.north), "lon": (bounds.west, bounds.east)}
        before = len(self.errors)
        entries = self._object(value, path, required=list(axes), what="an object with lat and lon")
        if entries is None:
            return _INVALID
        for axis, (low, high) in axes.items():
            number = entries.get(axis)
            if number is None:
                continue
            if not _is_number(number):
                self.fail(f"{path}.{axis}", "must be a number (WGS84 degrees)")
            elif not low <= number <= high:
                self.fail(f"{path}.{axis}", f"outside the city: must be between {low} and {high}")
        return entries if len(self.errors) == before else _INVALID

    def _address(self, field: FormField, value: Any, path: str) -> Any:
        before = len(self.errors)
        required = ["street", "number", "postal_code"]
        entries = self._object(value, path, required=required, optional=["box"], what="an address object")
        if entries is None:
            return _INVALID
        codes = postal_codes(self.city)
        for key in ("street", "number", "box", "postal_code"):
            text = entries.get(key)
            if text is None:
                continue
            reason = "must be a string" if not isinstance(text, str) else _address_problem(key, text, codes)
            if reason is not None:
                self.fail(f"{path}.{key}", reason)
        return entries if len(self.errors) == before else _INVALID

    def _photos(self, field: FormField, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            self.fail(path, "must be a list of upload keys")
            return _INVALID
        if self.uploads_owner is None:
            self.fail(path, "only a signed-in person can attach photos")
            return _INVALID
        before = len(self.errors)
        self._count(field, len(value), path, "photo")
        keys: list[str] = []
        for index, entry in enumerate(value):
            key = _stripped(entry)
            reason = upload_key_problem(key, self.uploads_owner, keys)
            if reason is not None:
                self.fail(f"{path}[{index}]", reason)
            else:
                keys.append(key)
        return keys if len(self.errors) == before else _INVALID

    def _items(self, field: FormField, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            self.fail(path, "must be a list of {item, quantity}")
            return _INVALID
        before = len(self.errors)
        self._count(field, len(value), path, "item")
        volumes = {choice.value: choice.volume_m3 for choice in field.choices or []}
        lines: list[dict[str, Any]] = []
        for index, entry in enumerate(value):
            where = f"{path}[{index}]"
            entries = self._object(entry, where, required=["item", "quantity"], what="{item, quantity}")
            if entries is None:
                continue
            item, quantity = entries.get("item"), entries.get("quantity")
            if item is not None:
                try:
                    item = _choice(field, item)
                except _BadValueError as bad:
                    self.fail(f"{where}.item", str(bad))
                else:
                    if any(line["item"] == item for line in lines):
                        self.fail(f"{where}.item", "listed twice: give one line per item with its quantity")
            if quantity is not None:
                try:
                    _integer(quantity, 1, field.maximum)
                except _BadValueError as bad:
                    self.fail(f"{where}.quantity", str(bad))
            lines.append({"item": item, "quantity": quantity})
        if len(self.errors) != before:
            return _INVALID
        if field.max_total is not None:
            total = sum(
                (Decimal(str(volumes[line["item"]])) * line["quantity"] for line in lines),
                start=Decimal(0),
            )
            limit = Decimal(str(field.max_total))
            if total > limit:
                self.fail(path, f"{_decimal_text(total)} m3 in all: at most {_decimal_text(limit)} m3")
                return _INVALID
        return lines

    # -------------------------------------------------------------------------------------- helpers
    def _count(self, field: FormField, count: int, path: str, noun: str) -> bool:
        if field.min_items is not None and count < field.min_items:
            self.fail(path, f"at least {_plural(field.min_items, noun)}")
            return False
        if field.max_items is not None and count > field.max_items:
            self.fail(path, f"at most {_plural(field.max_items, noun)}")
            return False
        return True

    def _object(
        self,
        value: Any,
        path: str,
        *,
        required: Sequence[str],
        optional: Sequence[str] = (),
        what: str,
    ) -> dict[str, Any] | None:
        """The object's entries, stripped, blank optional ones left out; reports missing and unknown keys.

        Returns None (after reporting) when ``value`` is not an object at all.
        """
        if not isinstance(value, dict):
            self.fail(path, f"must be {what}")
            return None
        entries: dict[str, Any] = {}
        for key in value:
            if key not in required and key not in optional:
                self.fail(f"{path}.{key}", "unknown field")
        for key in [*required, *optional]:
            entry = _stripped(value.get(key))
            if _is_blank(entry):
                if key in required:
                    self.fail(f"{path}.{key}", "required")
                continue
            entries[key] = entry
        return entries


def _text(field: FormField, value: Any) -> str:
    if not isinstance(value, str):
        raise _BadValueError("must be a string")
    limit = field.max_length or MAX_TEXT_LENGTH
    if len(value) > limit:
        raise _BadValueError(f"at most {limit} characters")
    problem = text_problem(value)
    if problem is not None:
        raise _BadValueError(problem)
    if field.min_length is not None and len(value) < field.min_length:
        raise _BadValueError(f"at least {field.min_length} characters")
    if field.type is FieldType.EMAIL and not _EMAIL.match(value):
        raise _BadValueError("not a valid email address")
    if field.pattern is not None and not re.fullmatch(field.pattern, value):
        raise _BadValueError("does not have the expected format")
    return value


def _address_problem(key: str, text: str, codes: Sequence[str]) -> str | None:
    problem = text_problem(text)
    if problem is not None:
        return problem
    if key == "street" and len(text) > STREET_MAX_LENGTH:
        return f"at most {STREET_MAX_LENGTH} characters"
    if key == "number" and not _HOUSE_NUMBER.fullmatch(text):
        return "must be a house number such as 12 or 12A"
    if key == "box" and len(text) > BOX_MAX_LENGTH:
        return f"at most {BOX_MAX_LENGTH} characters"
    if key == "postal_code" and text not in codes:
        return f"not a postal code of the city ({', '.join(codes)})"
    return None


def _integer(value: Any, minimum: int | None, maximum: int | None) -> int:
    """An integer within the bounds, which default to the integers every JSON reader holds exactly (a JavaScript
    number, a float): ``1`` followed by 400 zeros is valid JSON, and no store or client could take it."""
    if not _is_integer(value):
        raise _BadValueError("must be an integer")
    low = -MAX_SAFE_INTEGER if minimum is None else minimum
    high = MAX_SAFE_INTEGER if maximum is None else maximum
    if value < low:
        raise _BadValueError(f"must be at least {low}")
    if value > high:
        raise _BadValueError(f"must be at most {high}")
    return int(value)


def _choice(field: FormField, value: Any) -> str:
    allowed = [choice.value for choice in field.choices or []]
    if not isinstance(value, str) or value not in allowed:
        raise _BadValueError(f"must be one of: {', '.join(allowed)}")
    return value


def _nrn(value: Any) -> str:
    from omnicity.domain.nrn import InvalidNrnError, normalize_nrn

    if not isinstance(value, str):
        raise _BadValueError("must be a string")
    try:
        return normalize_nrn(value)
    except InvalidNrnError as exc:
        raise _BadValueError(str(exc)) from None


# ---------------------------------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class FormRule:
    """A named rule across fields, run on the cleaned form (fields that failed their own checks are absent)."""

    name: str
    fields: tuple[str, ...]
    description: LocalizedText
    check: Callable[[Mapping[str, Any]], list[FieldError]]

    def __call__(self, form: Mapping[str, Any]) -> list[FieldError]:
        return self.check(form)


def _months_later(day: date, months: int) -> date:
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _period_at_most_12_months(form: Mapping[str, Any]) -> list[FieldError]:
    if "start_date" not in form or "end_date" not in form:
        return []  # absent or already reported
    start, end = date.fromisoformat(form["start_date"]), date.fromisoformat(form["end_date"])
    if end < start:
        return [field_error("form.end_date", "must be on or after the start date")]
    latest = _months_later(start, 12)
    if end > latest:
        return [field_error("form.end_date", f"at most 12 months after the start date (on or before {latest})")]
    return []


def _purpose_required_for_article_596(form: Mapping[str, Any]) -> list[FieldError]:
    # Which models name their activity is the register's rule (ExtractModel.needs_purpose), said once there
    from omnicity.adapters.registries.criminal_record import ExtractModel

    try:
        model = ExtractModel(form.get("model", ExtractModel.GENERAL))
    except ValueError:
        return []  # not a model: the field's own choices already refuse it
    if model.needs_purpose and not form.get("purpose"):
        return [field_error("form.purpose", "required for the models 596.1 and 596.2: name the activity")]
    return []


def _location_or_address(form: Mapping[str, Any]) -> list[FieldError]:
    if "location" in form or "address" in form:
        return []
    return [field_error("form.location", "give the location on the map, or an address")]


QUIET_ZONES = ("ilot_sacre", "sablon")
"""Street artist zones (values of the ``zones`` choices) where amplified sound is never allowed."""


def _no_amplified_sound_in_quiet_zones(form: Mapping[str, Any]) -> list[FieldError]:
    quiet = [zone for zone in form.get("zones", []) if zone in QUIET_ZONES]
    if form.get("amplified") is True and quiet:
        return [field_error("form.amplified", f"amplified sound is not allowed in: {', '.join(quiet)}")]
    return []


def _owner_consent_given(form: Mapping[str, Any]) -> list[FieldError]:
    if form.get("owner_consent") is False:  # absent: already reported as required
        return [field_error("form.owner_consent", "the owner's consent is required")]
    return []


FORM_RULES: dict[str, FormRule] = {
    rule.name: rule
    for rule in (
        FormRule(
            name="purpose_required_for_article_596",
            fields=("model", "purpose"),
            description=LocalizedText(
                fr="Pour les modèles 596.1 et 596.2, l'activité visée est obligatoire.",
                nl="Voor de modellen 596.1 en 596.2 is de beoogde activiteit verplicht.",
                en="For models 596.1 and 596.2, the intended activity is required.",
            ),
            check=_purpose_required_for_article_596,
        ),
        FormRule(
            name="location_or_address",
            fields=("location", "address"),
            description=LocalizedText(
                fr="Indiquez le lieu sur la carte, ou une adresse.",
                nl="Duid de plaats aan op de kaart, of geef een adres.",
                en="Give the location on the map, or an address.",
            ),
            check=_location_or_address,
        ),
        FormRule(
            name="period_at_most_12_months",
            fields=("start_date", "end_date"),
            description=LocalizedText(
                fr="La date de fin n'est pas avant la date de début, et au plus 12 mois plus tard.",
                nl="De einddatum ligt niet voor de begindatum, en hoogstens 12 maanden later.",
                en="The end date is not before the start date, and at most 12 months later.",
            ),
            check=_period_at_most_12_months,
        ),
        FormRule(
            name="no_amplified_sound_in_quiet_zones",
            fields=("amplified", "zones"),
            description=LocalizedText(
                fr="Pas de sonorisation aux abords de la Grand-Place (Îlot Sacré) ni au Sablon.",
                nl="Geen geluidsversterking in de omgeving van de Grote Markt (Ilot Sacré) en op de Zavel.",
                en="No amplified sound around the Grand-Place (Îlot Sacré) or at the Sablon.",
            ),
            check=_no_amplified_sound_in_quiet_zones,
        ),
        FormRule(
            name="owner_consent_given",
            fields=("owner_consent",),
            description=LocalizedText(
                fr="L'accord du propriétaire de l'immeuble est obligatoire.",
                nl="De toestemming van de eigenaar van het gebouw is verplicht.",
                en="The consent of the building's owner is required.",
            ),
            check=_owner_consent_given,
        ),
    )
}
"""Cross-field rules by name: each takes the cleaned form and returns its errors (``{"field", "reason"}``)."""
