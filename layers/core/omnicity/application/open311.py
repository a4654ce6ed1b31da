"""The Open311 GeoReport v2 face of a procedure open to anonymous reports (the public-space alerts).

Existing Open311 apps (FixMyStreet-style clients, city dashboards) talk to the city in the standard's own terms; this
module maps them onto omnicity's and back: :class:`Open311` takes a request's parameters as the spec names them, with
the language of the reply, and answers with the spec's documents as plain data (lists of records, records as dicts).
What is HTTP, and no concern of this module, is ``omnicity.http.open311``'s: the format a path asks for (JSON or XML)
and writing a document in it, the form-encoded body, ``Accept-Language``, the HTTP status of an error and the spec's
list of errors. So the use case stays free of the wire, and a reply's format never changes what it says. The Lambda
(``functions/open311``) only routes HTTP to the service wrapped in ``omnicity.http.open311.Open311Endpoint``.

- **services** are the choices of the procedure's routing field (an alert's ``category``): ``service_code`` is the
  choice's value, ``service_name`` its label in the language asked, ``group`` the department that handles a request
  of that category (``omnicity.capabilities.departments``). Form fields beyond the standard ones would be published as
  attributes (the alert has none: ``metadata`` is false and the definition lists no attribute).
- **POST requests** file an anonymous report through :meth:`Submissions.report`, so the form's validation, the
  references and the workflow are the portal's. ``lat``/``long`` become the form's ``location``; ``address_string``
  its ``address`` when it reads ``<street> <number>[ bte|bus|box <box>], <postal code>[ <municipality>]``, otherwise
  it is refused (400) or, next to ``lat``/``long``, kept at the end of the description; ``address_id`` alone
  is refused (the city has no address ids to offer). ``email`` is where the reporter is told how it was handled.
  ``media_url`` is never fetched: it ends the description, a link for the field agent. The standard lets a
  ``description`` hold line breaks: they are read as spaces (the platform's texts are one line,
  ``omnicity.domain.text``); any other control or separator character in a text is a 400 naming the parameter.
  ``first_name``, ``last_name``, ``phone``, ``device_id`` and ``account_id`` are accepted and not stored.
- **requests** are the procedure's cases (every alert, signed in or not, is public), newest first: ``open`` until the
  case is completed, rejected, cancelled or failed, then ``closed`` with the outcome as ``status_notes``;
  ``service_request_id`` is the case reference; ``agency_responsible`` the department that handles it
  (``omnicity.capabilities.departments``). What a request publishes of an alert: its category, its description, its
  place (``lat``/``long``, or the address it was given) and its dates and status, as the alert's form tells the
  reporter. Its photos are not public until an agent of the department that handles it publishes one (the back office,
  ``omnicity.application.back_office``: a photo can show a face or a number plate); ``media_url`` is then a short-lived
  link to the first published photo in the form's order, and absent until then. No name, email, agent's comment or
  national register number is ever published.
- **errors** are named errors (``omnicity.domain.errors``): a refused parameter is a MalformedRequestError (400),
  a missing or wrong ``api_key`` a ForbiddenError (403), what does not exist a NotFoundError (404), a client over its
  limit of anonymous reports (per api_key and source address, ``omnicity.adapters.throttle``) a 429;
  :meth:`Open311.parameter_name` tells which parameter a form field of an error came from.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import islice
from typing import Any, Final, Protocol

from pydantic import ValidationError

from omnicity.application.views import CaseCreated, ReportRequest
from omnicity.capabilities.anonymous_reports import AnonymousReports
from omnicity.capabilities.departments import handling_department
from omnicity.capabilities.routing import Routing, RoutingSettings
from omnicity.domain.city import get_city, get_messages
from omnicity.domain.errors import ForbiddenError, MalformedRequestError, NotFoundError, field_error
from omnicity.domain.models import Case, FieldType, FormField, Language, LocalizedText, Procedure
from omnicity.domain.text import text_problem
from omnicity.forms.validation import EMAIL_PATTERN

Params = Mapping[str, Sequence[str]]
"""Request parameters as sent: each name with its values in order (query string and form-encoded body)."""
Record = dict[str, Any]
"""One record of a GeoReport document (a service, a definition, a request), as the spec names its fields."""

PROCEDURE_ID: Final = "public-space-alert"  # the procedure the city offers through Open311
JURISDICTIONS: Final = frozenset({"bruxelles.be", "brussel.be", "brussels.be", "brussels"})
MAX_REQUESTS: Final = 1000  # the spec's default query limit
WINDOW: Final = timedelta(days=90)  # the spec's default and largest date range
MAX_REQUEST_IDS: Final = 100
MAX_MEDIA_URL_LENGTH: Final = 1000

_REFERENCE = re.compile(r"[A-Z]{2,5}-\d{4}-\d{6}")
_EMAIL = re.compile(EMAIL_PATTERN)
_MEDIA_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
NOTE_SEPARATOR: Final = " — "
"""Between the description and what ends it (the reporter's address_string next to lat/long, the media_url)."""
_W3_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?")
_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]{1,64})\](\[\])?")
_ADDRESS = re.compile(
    r"(?P<street>[^,]*?\S)\s+(?P<number>\d[0-9A-Za-z/-]{0,9})"
    r"(?:\s+(?:bte|bus|box|b)\.?\s*(?P<box>[0-9A-Za-z/-]{1,10}))?"
    r"\s*,\s*(?P<postal_code>\d{4})(?:\s.*)?",
    re.IGNORECASE | re.DOTALL,
)
_BOX_WORDS: Final = {Language.FR: "bte", Language.NL: "bus", Language.EN: "box"}
_DATATYPES: Final = {
    FieldType.TEXT: "text",
    FieldType.EMAIL: "string",
    FieldType.INTEGER: "number",
    FieldType.DATE: "datetime",
    FieldType.CHOICE: "singlevaluelist",
    FieldType.BOOLEAN: "singlevaluelist",
    FieldType.MULTI_CHOICE: "multivaluelist",
}
_YES_NO: Final = (
    ("true", LocalizedText(fr="Oui", nl="Ja", en="Yes")),
    ("false", LocalizedText(fr="Non", nl="Nee", en="No")),
)
_NOTICE = LocalizedText(
    fr="Merci. Votre signalement {reference} a été transmis au service compétent, qui le traite en {days} jours "
    "ouvrables au plus. Suivez-le avec sa référence.",
    nl="Bedankt. Uw melding {reference} is doorgestuurd naar de bevoegde dienst, die ze binnen {days} werkdagen "
    "behandelt. Volg ze op met haar referentie.",
    en="Thank you. Your report {reference} has been passed to the department in charge, which handles it within "
    "{days} working days. Follow it with its reference.",
)


class Reporter(Protocol):
    """Files an anonymous report (``omnicity.application.submissions.Submissions``)."""

    def report(self, request: ReportRequest, caller: str) -> CaseCreated: ...


class PublicCases(Protocol):
    """Reads public cases (``omnicity.adapters.cases.CaseRepository``)."""

    def get_by_reference(self, reference: str) -> Case: ...

    def iter_public(self, procedure_id: str, start: datetime, end: datetime) -> Iterator[Case]: ...


# ---------------------------------------------------------------------------------------------------- parsing
def single(params: Params, name: str) -> str | None:
    """A single-valued parameter: its last non-blank value, stripped; blank or absent is None (the spec's rule)."""
    values = [value.strip() for value in params.get(name, ()) if value.strip()]
    return values[-1] if values else None


def _check_text(name: str, text: str) -> None:
    problem = text_problem(text)
    if problem is not None:
        raise MalformedRequestError(f"invalid {name}", [field_error(name, problem)])


def _listed(params: Params, name: str) -> list[str]:
    """A parameter that may be comma-delimited and declared several times: its distinct values, in order."""
    values = (part.strip() for value in params.get(name, ()) for part in value.split(","))
    return list(dict.fromkeys(value for value in values if value))


def parse_w3_datetime(name: str, text: str) -> datetime:
    """A w3 date-time (``2026-07-01T08:00:00Z``, ``...+02:00``; a date alone is midnight UTC), or a 400."""
    text = re.sub(r" (\d{2}:\d{2})$", r"+\1", text.strip())  # an unencoded "+" of the query string arrives as " "
    if not _W3_DATETIME.fullmatch(text):
        raise MalformedRequestError(f"{name} must be a w3 date-time with its time zone, e.g. 2026-07-01T00:00:00Z")
    try:
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise MalformedRequestError(f"{name} is not a date-time of the calendar") from None


def parse_address(text: str) -> dict[str, str] | None:
    """``Rue Haute 120, 1000 Bruxelles`` -> the form's address object; None when it does not read so."""
    match = _ADDRESS.fullmatch(text.strip())
    if match is None:
        return None
    address = {"street": match["street"].strip(), "number": match["number"], "postal_code": match["postal_code"]}
    if match["box"]:
        address["box"] = match["box"]
    return address


# ---------------------------------------------------------------------------------------------------- the face
@dataclass(frozen=True)
class GeoReportForm:
    """What the GeoReport face reads of its procedure: the routed field's choices (the services), the standard fields
    (location, address, photos) and the others (attributes). ``of`` refuses a procedure Open311 cannot serve."""

    procedure: Procedure
    routing: RoutingSettings
    choices: dict[str, LocalizedText]
    location: str | None
    address: str | None
    photos: str | None
    attributes: list[FormField]

    @classmethod
    def of(cls, procedure: Procedure) -> GeoReportForm:
        routing = Routing.settings(procedure)
        if routing is None or not AnonymousReports.is_public(procedure):
            raise ValueError(f"{procedure.id}: an Open311 face needs a procedure routed by a field, open to anonymous")
        fields = {field.name: field for field in procedure.fields}
        category = fields.get(routing.field)
        if category is None or category.type is not FieldType.CHOICE:
            raise ValueError(f"{procedure.id}: the routing field must be a choice (the service codes)")
        location = _first(procedure.fields, FieldType.LOCATION)
        address = _first(procedure.fields, FieldType.ADDRESS)
        photos = _first(procedure.fields, FieldType.PHOTOS)
        standard = {routing.field, "description", location, address, photos}
        attributes = [field for field in procedure.fields if field.name not in standard]
        unpublishable = [f.name for f in attributes if f.type not in _DATATYPES and f.required]
        if unpublishable:
            raise ValueError(f"{procedure.id}: required fields Open311 cannot carry: {', '.join(unpublishable)}")
        return cls(
            procedure=procedure,
            routing=routing,
            choices={choice.value: choice.label for choice in category.choices or []},
            location=location,
            address=address,
            photos=photos,
            attributes=[field for field in attributes if field.type in _DATATYPES],
        )


class Open311:
    """One procedure's Open311 face: its services, definitions and requests, in the spec's terms, as the spec's
    documents (``omnicity.http.open311`` writes them as JSON or XML).

    ``procedure`` gives the procedure when the face first needs it: the function builds the face at cold start
    without reading the catalogue (the face's form is read, and checked, on the first request)."""

    def __init__(
        self,
        procedure: Callable[[], Procedure],
        service: Reporter,
        repository: PublicCases,
        api_keys: Sequence[str],
        media_link: Callable[[str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._procedure_of = procedure
        self._service = service
        self._cases = repository
        self._key_digests = [hashlib.sha256(key.encode()).digest() for key in api_keys if key]
        self._media_link = media_link
        self._clock = clock

    @cached_property
    def _geo(self) -> GeoReportForm:
        return GeoReportForm.of(self._procedure_of())

    # ------------------------------------------------------------------------------------------ GET services
    def services(self, params: Params, language: Language) -> list[Record]:
        """The services: one per choice of the routing field, named in ``language``."""
        self._check_jurisdiction(params)
        return [self._service_entry(code, label, language) for code, label in self._geo.choices.items()]

    def _service_entry(self, code: str, label: LocalizedText, language: Language) -> Record:
        keywords = dict.fromkeys(label.in_language(other) for other in Language)
        return {
            "service_code": code,
            "service_name": label.in_language(language),
            "description": self._geo.procedure.summary.in_language(language),
            "metadata": bool(self._geo.attributes),
            "type": "realtime",
            "keywords": ", ".join(keywords),
            "group": handling_department(self._geo.procedure, {self._geo.routing.field: code}),
        }

    def service_definition(self, code: str, params: Params, language: Language) -> Record:
        """The definition of service ``code``: the form's fields beyond the standard ones, as attributes."""
        self._check_jurisdiction(params)
        self._known_service(code)
        attributes = [self._attribute(field, order, language) for order, field in enumerate(self._geo.attributes, 1)]
        return {"service_code": code, "attributes": attributes}

    @staticmethod
    def _attribute(field: FormField, order: int, language: Language) -> Record:
        if field.type is FieldType.BOOLEAN:
            values = [{"key": key, "name": name.in_language(language)} for key, name in _YES_NO]
        else:
            values = [{"key": c.value, "name": c.label.in_language(language)} for c in field.choices or []]
        return {
            "variable": True,
            "code": field.name,
            "datatype": _DATATYPES[field.type],
            "required": field.required,
            "datatype_description": field.help.in_language(language) if field.help else None,
            "order": order,
            "description": field.label.in_language(language),
            "values": values,
        }

    # ------------------------------------------------------------------------------------------ POST requests
    def create_request(self, params: Params, language: Language, *, source: str) -> list[Record]:
        """File an anonymous report from a GeoReport POST; answers its reference (``service_request_id``).

        ``source`` is the caller the request's address stands for (``omnicity.adapters.throttle.caller_of_address``):
        the reports of one client app (its api_key) from one source count together against the report limit (429)."""
        client = self._check_api_key(single(params, "api_key"))
        self._check_jurisdiction(params)
        code = single(params, "service_code")
        if code is None:
            raise MalformedRequestError("service_code was not provided")
        self._known_service(code)
        form = self._form(code, params)
        email = single(params, "email")
        if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
            raise MalformedRequestError("invalid email", [field_error("email", "not a valid email address")])
        try:
            request = ReportRequest(procedure_id=self._geo.procedure.id, language=language, form=form, email=email)
        except ValidationError as exc:
            details = [field_error(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
            raise MalformedRequestError("invalid request", details) from None
        created = self._service.report(request, caller=f"open311:{client}:{source}")
        notice = _NOTICE.in_language(language).format(
            reference=created.reference, days=self._geo.procedure.sla_business_days
        )
        return [{"service_request_id": created.reference, "service_notice": notice, "account_id": None}]

    def _form(self, code: str, params: Params) -> dict[str, Any]:
        form: dict[str, Any] = {self._geo.routing.field: code}
        notes: list[str] = []
        lat, long = single(params, "lat"), single(params, "long")
        address_string = single(params, "address_string")
        if lat is not None or long is not None:
            if self._geo.location is None:
                raise MalformedRequestError("this service takes an address_string, not lat/long")
            form[self._geo.location] = {"lat": _coordinate("lat", lat), "lon": _coordinate("long", long)}
        if address_string is not None:
            _check_text("address_string", address_string)
            address = parse_address(address_string) if self._geo.address else None
            if address is not None and self._geo.address is not None:
                form[self._geo.address] = address
            elif self._geo.location in form:
                notes.append(address_string)  # where exactly, in the reporter's words: for the field agent
            else:
                raise MalformedRequestError(
                    "address_string must read '<street> <number>, <postal code>', "
                    "e.g. 'Rue Haute 120, 1000 Bruxelles'; or send lat and long"
                )
        if self._geo.location not in form and self._geo.address not in form:
            hint = "address_id is not supported: " if single(params, "address_id") else ""
            raise MalformedRequestError(f"{hint}a location is required: lat and long, or address_string")
        media_url = single(params, "media_url")
        if media_url is not None:
            if len(media_url) > MAX_MEDIA_URL_LENGTH or not _MEDIA_URL.fullmatch(media_url):
                raise MalformedRequestError("invalid media_url", [field_error("media_url", "not an http(s) URL")])
            notes.append(media_url)  # never fetched: a link for the field agent
        description = single(params, "description")
        if description is not None:
            # The standard lets a description hold line breaks; the platform's texts hold none (omnicity.domain.text):
            # they are read as spaces. Any other control or separator character is refused like everywhere else.
            description = _LINE_BREAKS.sub(" ", description)
            _check_text("description", description)
            form["description"] = NOTE_SEPARATOR.join([description, *notes])
        form.update(self._attribute_values(params))
        return form

    def _attribute_values(self, params: Params) -> dict[str, Any]:
        """``attribute[code]=value`` (``attribute[code][]=`` for several) for the published attributes; others are
        ignored, as clients may send their own."""
        fields = {field.name: field for field in self._geo.attributes}
        values: dict[str, Any] = {}
        for name, given in params.items():
            match = _ATTRIBUTE.fullmatch(name)
            if match is None or match[1] not in fields:
                continue
            field = fields[match[1]]
            entries = [value.strip() for value in given if value.strip()]
            if not entries:
                continue
            values[field.name] = entries if field.type is FieldType.MULTI_CHOICE else _typed(field, entries[-1])
        return values

    def _check_api_key(self, given: str | None) -> int:
        """Which of the keys ``given`` is (its position), or a 403."""
        if given is None:
            raise ForbiddenError("api_key was not provided: posting a request needs one")
        digest = hashlib.sha256(given.encode()).digest()
        matches = [hmac.compare_digest(digest, known) for known in self._key_digests]  # every key, in constant time
        if not any(matches):
            raise ForbiddenError("invalid api_key received: the request was not created")
        return matches.index(True)

    # ------------------------------------------------------------------------------------------ GET requests
    def list_requests(self, params: Params, language: Language) -> list[Record]:
        """Requests by id (``service_request_id``, comma-delimited: overrides the other filters), or those of a
        date window (default and at most 90 days) by ``service_code`` and ``status``: newest first, 1000 at most."""
        self._check_jurisdiction(params)
        references = _listed(params, "service_request_id")
        if references:
            if len(references) > MAX_REQUEST_IDS:
                raise MalformedRequestError(f"service_request_id: at most {MAX_REQUEST_IDS} ids at once")
            cases: Iterable[Case] = (case for ref in references if (case := self._find(ref)) is not None)
        else:
            cases = self._search(params)
        return [self._record(case, language) for case in islice(cases, MAX_REQUESTS)]

    def get_request(self, reference: str, params: Params, language: Language) -> list[Record]:
        """The request ``reference`` (the spec's list of one), or a 404."""
        self._check_jurisdiction(params)
        case = self._find(reference)
        if case is None:
            raise NotFoundError(f"service_request_id {reference!r} not found")
        return [self._record(case, language)]

    def _find(self, reference: str) -> Case | None:
        if not _REFERENCE.fullmatch(reference):
            return None
        try:
            case = self._cases.get_by_reference(reference)
        except NotFoundError:
            return None
        return case if case.procedure_id == self._geo.procedure.id else None  # listed or not (an alert of before)

    def _search(self, params: Params) -> Iterator[Case]:
        """The public cases of the window matching the filters (checked here, before any read)."""
        codes = _listed(params, "service_code")
        unknown = [code for code in codes if code not in self._geo.choices]
        if unknown:
            raise MalformedRequestError(f"service_code: no service {', '.join(unknown)}")
        statuses = _listed(params, "status")
        if any(status not in ("open", "closed") for status in statuses):
            raise MalformedRequestError("status must be open or closed (comma-delimited)")
        start, end = self._window(params)
        return (
            case
            for case in self._cases.iter_public(self._geo.procedure.id, start, end)
            if (not codes or case.form.get(self._geo.routing.field) in codes)
            and (not statuses or _status(case) in statuses)
        )

    def _window(self, params: Params) -> tuple[datetime, datetime]:
        start_text, end_text = single(params, "start_date"), single(params, "end_date")
        start = parse_w3_datetime("start_date", start_text) if start_text else None
        end = parse_w3_datetime("end_date", end_text) if end_text else None
        try:
            if start is None:
                end = end or self._clock()
                start = end - WINDOW
            elif end is None:
                end = start + WINDOW
        except OverflowError:
            raise MalformedRequestError("start_date or end_date is out of range") from None
        if end < start:
            raise MalformedRequestError("end_date is before start_date")
        if end - start > WINDOW:
            raise MalformedRequestError(f"start_date to end_date may not span more than {WINDOW.days} days")
        return start, end

    def _record(self, case: Case, language: Language) -> Record:
        """A case as a GeoReport request. Optional fields without a value are left out."""
        code = str(case.form.get(self._geo.routing.field, ""))
        label = self._geo.choices.get(code)
        record: Record = {
            "service_request_id": case.reference,
            "status": _status(case),
            "status_notes": _status_notes(case, language),
            "service_name": label.in_language(language) if label else code,
            "service_code": code,
            "description": str(case.form.get("description", "")),
            "agency_responsible": handling_department(self._geo.procedure, case.form),
            "requested_datetime": w3(case.created_at),
            "updated_datetime": w3(case.updated_at),
        }
        address = case.form.get(self._geo.address) if self._geo.address else None
        if isinstance(address, dict):
            record["address"] = _address_text(address, language)
            record["zipcode"] = address.get("postal_code")
        location = case.form.get(self._geo.location) if self._geo.location else None
        if isinstance(location, dict):
            record["lat"], record["long"] = location.get("lat"), location.get("lon")
        published = [key for key in self._geo.procedure.photo_keys(case.form) if key in case.published_photos]
        if published:  # a photo no agent of the department published is never linked (it may show a face, a plate)
            record["media_url"] = self._media_link(published[0])
        return {key: value for key, value in record.items() if value is not None}

    # ------------------------------------------------------------------------------------------ errors and checks
    def parameter_name(self, field: str) -> str:
        """A form field path as the client named it (how an error of the form names it): ``form.description`` ->
        ``description``, ``form.location.lon`` -> ``long``, ``form.address.postal_code`` -> ``address_string``,
        ``form.<other>`` -> ``attribute[<other>]``."""
        if not field.startswith("form."):
            return field
        name, _, sub = field[len("form.") :].split("[", 1)[0].partition(".")
        if name == self._geo.location:
            return {"lat": "lat", "lon": "long"}.get(sub, "lat/long")
        standard = {
            self._geo.routing.field: "service_code",
            "description": "description",
            self._geo.address: "address_string",
            self._geo.photos: "media_url",
        }
        return standard.get(name) or f"attribute[{name}]"

    def _known_service(self, code: str) -> None:
        if code not in self._geo.choices:
            raise NotFoundError(f"service_code {code!r} not found")

    @staticmethod
    def _check_jurisdiction(params: Params) -> None:
        jurisdiction = single(params, "jurisdiction_id")
        if jurisdiction is not None and jurisdiction.lower() not in JURISDICTIONS:
            raise NotFoundError(f"jurisdiction_id {jurisdiction!r} not found: this endpoint serves bruxelles.be")


# ---------------------------------------------------------------------------------------------------- helpers
def w3(moment: datetime) -> str:
    """A w3 date-time in UTC, to the second: ``2026-07-01T08:15:30Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(case: Case) -> str:
    return "closed" if case.status.is_terminal else "open"


def _status_notes(case: Case, language: Language) -> str | None:
    """Why a request is closed: the outcome (``the problem has been fixed``) or the reason of a rejection. The
    field agent's free comment is for the reporter's email, not the public listing."""
    if not case.status.is_terminal:
        return None
    outcome = get_messages().outcomes.get(case.outcome or "")
    if outcome is not None:
        return outcome.in_language(language)
    return case.reason.in_language(language) if case.reason else None


def _address_text(address: Mapping[str, Any], language: Language) -> str:
    """``Rue Haute 120 bte 3, 1000 Bruxelles``: from most specific to most general, as the spec asks."""
    street = f"{address.get('street', '')} {address.get('number', '')}".strip()
    if address.get("box"):
        street += f" {_BOX_WORDS[language]} {address['box']}"
    postal_code = str(address.get("postal_code", ""))
    section = next((s for s in get_city().sections if postal_code in s.postal_codes), None)
    municipality = (section.nl if language is Language.NL else section.fr) if section else ""
    return f"{street}, {postal_code} {municipality}".strip()


def _coordinate(name: str, text: str | None) -> float:
    if text is None:
        raise MalformedRequestError(f"lat and long are sent together: {name} is missing")
    try:
        value = float(text)
    except ValueError:
        raise MalformedRequestError(f"{name} must be a number (WGS84 degrees)") from None
    if not math.isfinite(value):
        raise MalformedRequestError(f"{name} must be a number (WGS84 degrees)")
    return value


def _typed(field: FormField, text: str) -> Any:
    """An attribute's text as the form field's JSON type; text that does not convert is left for the form's own
    validation to name."""
    if field.type is FieldType.INTEGER and re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    if field.type is FieldType.BOOLEAN and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if field.type is FieldType.DATE and re.match(r"\d{4}-\d{2}-\d{2}(?:T|$)", text):
        return text[:10]
    return text


def _first(fields: Iterable[FormField], kind: FieldType) -> str | None:
    return next((field.name for field in fields if field.type is kind), None)
