"""The Open311 GeoReport v2 mapping with in-memory fakes: services, definitions, requests, statuses
(``omnicity.application.open311``), through its wire format: the spec's error format, JSON and XML rendering (XML read
back with ElementTree, as clients do), the form-encoded body, the language asked (``omnicity.http.open311``)."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from omnicity.application.open311 import (
    MAX_REQUESTS,
    PROCEDURE_ID,
    GeoReportForm,
    Open311,
    Params,
    parse_address,
    parse_w3_datetime,
)
from omnicity.application.views import CaseCreated, ReportRequest
from omnicity.catalogue import get_catalogue
from omnicity.config import OPEN311_DEMO_API_KEY, Open311Settings
from omnicity.domain.errors import (
    ConfigurationError,
    ForbiddenError,
    MalformedRequestError,
    NotFoundError,
    TooManyRequestsError,
    TransientError,
    UnauthorizedError,
    ValidationFailedError,
    field_error,
)
from omnicity.domain.models import (
    Applicant,
    Case,
    CaseStatus,
    Channel,
    Language,
    LocalizedText,
    Procedure,
    TimelineEntry,
)
from omnicity.forms.validation import validate_form
from omnicity.http.open311 import (
    Format,
    Open311Endpoint,
    Reply,
    error_reply,
    language_of,
    merge_params,
    parse_form,
    render,
    split_document,
)

KEY = "test-open311-key-0123456789"
SOURCE = "address:198.51.100.7"  # the caller the handler makes of the request's source address
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}


class FakeReporter:
    """Files reports as Submissions.report does: the form is validated against the procedure."""

    def __init__(self, procedure: Procedure) -> None:
        self.procedure = procedure
        self.reports: list[ReportRequest] = []
        self.callers: list[str] = []

    def report(self, request: ReportRequest, caller: str) -> CaseCreated:
        validate_form(self.procedure, request.form, rules=self.procedure.form_rules)
        self.reports.append(request)
        self.callers.append(caller)
        return CaseCreated(case_id=str(uuid.uuid4()), reference="BXL-2026-000042", status=CaseStatus.SUBMITTED)


class FakeCases:
    def __init__(self, cases: list[Case]) -> None:
        self.cases = cases
        self.windows: list[tuple[datetime, datetime]] = []

    def get_by_reference(self, reference: str) -> Case:
        for case in self.cases:
            if case.reference == reference:
                return case
        raise NotFoundError(f"no case with reference {reference!r}")

    def iter_public(self, procedure_id: str, start: datetime, end: datetime) -> Iterator[Case]:
        self.windows.append((start, end))
        chosen = [c for c in self.cases if c.procedure_id == procedure_id and c.public and start <= c.created_at <= end]
        return iter(sorted(chosen, key=lambda case: case.created_at, reverse=True))


def alert(
    number: int,
    *,
    category: str = "litter",
    status: CaseStatus = CaseStatus.WAITING,
    created: datetime = NOW - timedelta(days=1),
    procedure_id: str = PROCEDURE_ID,
    public: bool = True,
    **form: Any,
) -> Case:
    entry = TimelineEntry(at=created, status=CaseStatus.SUBMITTED, event="submitted", actor="anonymous")
    return Case(
        case_id=str(uuid.uuid4()),
        reference=f"BXL-2026-{number:06d}",
        procedure_id=procedure_id,
        applicant=Applicant(email="secret@example.org"),
        channel=Channel.PORTAL,
        language=Language.FR,
        form={"category": category, "description": "Sacs poubelles éventrés.", **form},
        status=status,
        timeline=[entry],
        submitted_by="anonymous",
        public=public,
        created_at=created,
        updated_at=created + timedelta(hours=1),
    )


def alerts_procedure() -> Procedure:
    return get_catalogue().get(PROCEDURE_ID)


def face(
    cases: list[Case] | None = None, procedure: Procedure | None = None
) -> tuple[Open311Endpoint, FakeReporter, FakeCases]:
    """The service over fakes, on the wire (as the function serves it)."""
    procedure = procedure or alerts_procedure()
    reporter, store = FakeReporter(procedure), FakeCases(cases or [])
    keys = ["another-key-abcdefghijkl", KEY]
    open311 = Open311(lambda: procedure, reporter, store, keys, lambda key: f"https://s3/{key}?sig", clock=lambda: NOW)
    return Open311Endpoint(open311), reporter, store


def params(**values: str) -> Params:
    return {name: [value] for name, value in values.items()}


def post(**values: str) -> Params:
    return {
        "api_key": [KEY],
        "service_code": ["litter"],
        "description": ["Sacs poubelles éventrés."],
        **params(**values),
    }


def body(reply: Reply) -> Any:
    return json.loads(reply.body)


def parsed(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output, read as a client would


def xml(reply: Reply) -> ET.Element:
    assert reply.body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return parsed(reply.body)


# ---------------------------------------------------------------------------------------------------- parsing
def test_a_document_names_its_format_by_its_extension() -> None:
    assert split_document("services.json") == ("services", Format.JSON)
    assert split_document("BXL-2026-000001.XML") == ("BXL-2026-000001", Format.XML)
    for bad in ("services", "services.html", ".json", "services."):
        with pytest.raises(NotFoundError):
            split_document(bad)


@pytest.mark.parametrize(
    ("given", "header", "expected"),
    [
        ({}, None, Language.FR),
        ({"locale": ["nl_BE"]}, None, Language.NL),
        ({"locale": ["en-GB"]}, "nl", Language.EN),
        ({"locale": ["de"]}, "nl-BE,nl;q=0.9,fr;q=0.8", Language.NL),
        ({}, "de-DE, en;q=0.5, fr;q=0.7", Language.FR),
        ({}, "en;q=0, nl;q=0.1", Language.NL),
        ({}, "da, x;q=bad", Language.FR),
    ],
)
def test_the_language_is_the_locale_then_accept_language_then_french(
    given: Params, header: str | None, expected: Language
) -> None:
    assert language_of(given, header) is expected


def test_w3_datetimes_need_their_time_zone() -> None:
    assert parse_w3_datetime("d", "2026-07-01T08:00:00Z") == datetime(2026, 7, 1, 8, tzinfo=UTC)
    assert parse_w3_datetime("d", "2026-07-01T10:00:00+02:00") == datetime(2026, 7, 1, 8, tzinfo=UTC)
    assert parse_w3_datetime("d", "2026-07-01T10:00:00 02:00") == datetime(2026, 7, 1, 8, tzinfo=UTC)  # "+" as " "
    assert parse_w3_datetime("d", "2026-07-01") == datetime(2026, 7, 1, tzinfo=UTC)
    for bad in ("2026-07-01T08:00:00", "yesterday", "2026-13-01", "2026-07-01T25:00:00Z", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(MalformedRequestError):
            parse_w3_datetime("start_date", bad)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Rue Haute 120, 1000", {"street": "Rue Haute", "number": "120", "postal_code": "1000"}),
        ("Rue Haute 120, 1000 Bruxelles", {"street": "Rue Haute", "number": "120", "postal_code": "1000"}),
        (
            "Boulevard Émile Jacqmain 12A bte 3 , 1000 Bruxelles, Belgique",
            {"street": "Boulevard Émile Jacqmain", "number": "12A", "box": "3", "postal_code": "1000"},
        ),
        ("Kerkstraat 4 bus 2, 1020 Laken", {"street": "Kerkstraat", "number": "4", "box": "2", "postal_code": "1020"}),
    ],
)
def test_an_address_string_reads_as_street_number_postal_code(text: str, address: dict[str, str]) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize(
    "text", ["near the church", "Rue Haute, 1000", "Rue Haute 120", "120, 1000", "Rue Haute 1, 10"]
)
def test_other_address_strings_do_not_read(text: str) -> None:
    assert parse_address(text) is None


def test_a_post_body_is_form_encoded() -> None:
    form = parse_form("api_key=k&attribute%5Bsize%5D%5B%5D=a&attribute[size][]=b&description=", None)
    assert form == {"api_key": ["k"], "attribute[size][]": ["a", "b"], "description": [""]}
    assert parse_form("", "application/json") == {}
    assert merge_params({"a": ["1"]}, form)["a"] == ["1"]
    with pytest.raises(MalformedRequestError, match="form-encoded"):
        parse_form('{"api_key": "k"}', "application/json")
    with pytest.raises(MalformedRequestError, match="too many"):
        parse_form("&".join(f"f{i}=x" for i in range(500)), "application/x-www-form-urlencoded; charset=utf-8")


# ---------------------------------------------------------------------------------------------------- rendering
def test_json_and_xml_say_the_same_thing() -> None:
    # Given a service definition with a list of values, booleans, numbers and an absent value
    document = {
        "service_code": "litter",
        "attributes": [
            {"variable": True, "code": "size", "required": False, "order": 1, "datatype_description": None,
             "values": [{"key": "s", "name": "Petit"}, {"key": "l", "name": "Grand"}]},
        ],
    }  # fmt: skip
    # When it is rendered in both formats
    as_json = json.loads(render(Format.JSON, "service_definition", document))
    root = parsed(render(Format.XML, "service_definition", document))
    # Then JSON is the document and XML nests each list's items under the spec's singular names
    assert as_json == document
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute is not None
    assert attribute.findtext("variable") == "true"
    assert attribute.findtext("required") == "false"
    assert attribute.findtext("order") == "1"
    assert attribute.findtext("datatype_description") == ""
    assert [value.findtext("name") for value in attribute.findall("values/value")] == ["Petit", "Grand"]


def test_xml_never_carries_characters_xml_forbids() -> None:
    text = render(Format.XML, "service_requests", [{"description": "bell\x07 and null\x00, été ✓"}])
    assert parsed(text).findtext("request/description") == "bell\ufffd and null\ufffd, été ✓"


def test_errors_are_the_specs_list_with_the_http_status() -> None:
    # A validation error: one entry per field, named as the client sent it, as a 400
    procedure_face, _, _ = face()
    invalid = ValidationFailedError(
        "bad",
        [field_error("form.description", "at least 10 characters"), field_error("form.location.lon", "outside")],
    )
    reply = procedure_face.error(Format.JSON, invalid)
    assert (reply.status, reply.content_type) == (400, "application/json; charset=utf-8")
    assert body(reply) == [
        {"code": 400, "description": "description: at least 10 characters"},
        {"code": 400, "description": "long: outside"},
    ]
    # An authentication problem is the spec's 403; what does not exist a 404; our failures keep their 5xx
    assert error_reply(Format.JSON, UnauthorizedError("no key")).status == 403
    forbidden = xml(error_reply(Format.XML, ForbiddenError("invalid api_key")))
    assert forbidden.tag == "errors"
    assert forbidden.findtext("error/code") == "403"
    assert forbidden.findtext("error/description") == "invalid api_key"
    assert error_reply(Format.JSON, NotFoundError("nope")).status == 404
    unavailable = error_reply(Format.JSON, TransientError("DynamoDB throttled"))
    assert unavailable.status == 503
    assert "DynamoDB" not in unavailable.body
    # A client over its limit of reports keeps the 429 (the handler adds Retry-After), in the spec's list
    too_many = error_reply(
        Format.JSON, TooManyRequestsError("too many requests: try again in 60 s", retry_after_seconds=60)
    )
    assert (too_many.status, body(too_many)) == (
        429,
        [{"code": 429, "description": "too many requests: try again in 60 s"}],
    )


def test_the_wire_writes_what_the_service_answers_in_the_language_asked() -> None:
    # Given the service on the wire, and a request for its services in Dutch (the locale over Accept-Language)
    endpoint, _, _ = face()
    asked = params(locale="nl")
    # When they are read as JSON / Then the reply is the service's own document for Dutch, as is
    reply = endpoint.services(Format.JSON, asked, accept_language="en")
    assert (reply.status, reply.content_type) == (200, "application/json; charset=utf-8")
    assert body(reply) == endpoint.service.services(asked, Language.NL)


def test_form_fields_are_named_as_open311_parameters() -> None:
    open311 = face()[0].service
    names = {
        field: open311.parameter_name(field)
        for field in ("form.category", "form.location", "form.location.lat", "form.address.number", "form.photos[0]")
    }
    assert names == {
        "form.category": "service_code",
        "form.location": "lat/long",
        "form.location.lat": "lat",
        "form.address.number": "address_string",
        "form.photos[0]": "media_url",
    }
    assert open311.parameter_name("form.colour") == "attribute[colour]"
    assert open311.parameter_name("email") == "email"


# ---------------------------------------------------------------------------------------------------- services
def test_services_are_the_alert_categories_in_the_language_asked() -> None:
    # Given the alerts procedure's categories
    category = next(field for field in alerts_procedure().fields if field.name == "category")
    open311, _, _ = face()
    # When an app lists the services in Dutch
    services = body(open311.services(Format.JSON, params(locale="nl")))
    # Then there is one realtime service per category, named in Dutch, grouped by the department it goes to
    assert [s["service_code"] for s in services] == [choice.value for choice in category.choices or []]
    lighting = next(s for s in services if s["service_code"] == "street_lighting")
    assert lighting["service_name"] == "Openbare verlichting"
    assert lighting["group"] == "public_lighting"
    assert lighting["type"] == "realtime"
    assert lighting["metadata"] is False
    assert lighting["keywords"] == "Éclairage public, Openbare verlichting, Street lighting"
    # And the XML says the same
    root = xml(open311.services(Format.XML, {}, accept_language="en"))
    assert root.tag == "services"
    assert [s.findtext("service_name") for s in root.findall("service")][-1] == "Fallen or dangerous tree"


def test_a_service_definition_lists_the_forms_other_fields_as_attributes() -> None:
    # Given the alerts (no field beyond the standard ones) and a procedure with three more
    open311, _, _ = face()
    assert body(open311.service_definition(Format.JSON, "litter", {})) == {"service_code": "litter", "attributes": []}
    with pytest.raises(NotFoundError):
        open311.service_definition(Format.JSON, "bonfire", {})
    richer, _, _ = face(procedure=procedure_with_attributes())
    # When its definition is asked in English
    definition = body(richer.service_definition(Format.JSON, "litter", params(locale="en")))
    # Then each extra field is an attribute with its datatype, order, label and values
    assert [(a["code"], a["datatype"], a["required"], a["order"]) for a in definition["attributes"]] == [
        ("size", "singlevaluelist", True, 1),
        ("blocking", "singlevaluelist", False, 2),
        ("bags", "number", False, 3),
    ]
    size = definition["attributes"][0]
    assert size["description"] == "Size"
    assert size["values"] == [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}]
    assert definition["attributes"][1]["values"][0] == {"key": "true", "name": "Yes"}
    assert body(richer.services(Format.JSON, {}))[0]["metadata"] is True


def procedure_with_attributes() -> Procedure:
    procedure = alerts_procedure()
    extra = [
        {"name": "size", "type": "choice", "label": {"fr": "Taille", "nl": "Grootte", "en": "Size"},
         "choices": [{"value": "small", "label": {"fr": "Petit", "nl": "Klein", "en": "Small"}},
                     {"value": "large", "label": {"fr": "Grand", "nl": "Groot", "en": "Large"}}]},
        {"name": "blocking", "type": "boolean", "required": False,
         "label": {"fr": "Bloquant", "nl": "Hinder", "en": "In the way"}},
        {"name": "bags", "type": "integer", "required": False, "minimum": 1,
         "label": {"fr": "Sacs", "nl": "Zakken", "en": "Bags"}},
    ]  # fmt: skip
    data = procedure.model_dump(mode="json")
    return Procedure.model_validate({**data, "fields": [*data["fields"], *extra]})


# ---------------------------------------------------------------------------------------------------- POST
def test_a_request_with_a_location_files_an_anonymous_report() -> None:
    open311, reporter, _ = face()
    reply = open311.create_request(
        Format.JSON,
        post(lat="50.8467", long="4.3525", email="passer.by@example.org", first_name="Jo", phone="0470000000"),
        accept_language="nl",
        source=SOURCE,
    )
    assert reply.status == 200
    [created] = body(reply)
    assert created["service_request_id"] == "BXL-2026-000042"
    assert created["account_id"] is None
    assert "BXL-2026-000042" in created["service_notice"]
    assert "werkdagen" in created["service_notice"]
    # And it counts against the limit of its client (the second key) at its source address
    assert reporter.callers == [f"open311:1:{SOURCE}"]
    [report] = reporter.reports
    assert report.procedure_id == PROCEDURE_ID
    assert report.language is Language.NL
    assert report.email == "passer.by@example.org"
    assert report.form == {"category": "litter", "location": GRAND_PLACE, "description": "Sacs poubelles éventrés."}


def test_an_address_string_becomes_the_forms_address() -> None:
    open311, reporter, _ = face()
    reply = open311.create_request(
        Format.XML, post(address_string="Rue Haute 120 bte 4, 1000 Bruxelles"), source=SOURCE
    )
    assert xml(reply).findtext("request/service_request_id") == "BXL-2026-000042"
    assert reporter.reports[0].form["address"] == {
        "street": "Rue Haute",
        "number": "120",
        "box": "4",
        "postal_code": "1000",
    }


def test_free_words_about_the_place_and_a_media_url_are_kept_for_the_field_agent() -> None:
    # Given a location, words about the place that are no address, and a link to a photo
    open311, reporter, _ = face()
    open311.create_request(
        Format.JSON,
        post(lat="50.8467", long="4.3525", address_string="behind the church", media_url="https://img.example/1.jpg"),
        source=SOURCE,
    )
    # Then both follow the description, and nothing is fetched
    assert reporter.reports[0].form["description"] == (
        "Sacs poubelles éventrés. — behind the church — https://img.example/1.jpg"
    )
    assert "address" not in reporter.reports[0].form


def test_line_breaks_the_standard_allows_in_a_description_are_read_as_spaces() -> None:
    # Given a description written on three lines, as the standard allows
    open311, reporter, _ = face()
    # When it is posted
    open311.create_request(
        Format.JSON, post(lat="50.8467", long="4.3525", description="Sacs\r\néventrés\nrue\rHaute"), source=SOURCE
    )
    # Then the report's description is one line (the platform's texts hold no line break)
    assert reporter.reports[0].form["description"] == "Sacs éventrés rue Haute"


@pytest.mark.parametrize("character", ["\v", "\f", "\x1c", "\x1e", "\x85", "\u2028", "\u2029", "\x00", "\u202e"])
@pytest.mark.parametrize("name", ["description", "address_string"])
def test_any_other_control_or_separator_character_is_a_400_naming_the_parameter(name: str, character: str) -> None:
    # Given a text parameter holding a character no text of the platform may hold, between words
    open311, reporter, _ = face()
    values = {"lat": "50.8467", "long": "4.3525", name: f"Rue Haute{character}## Personne"}
    # When it is posted / Then it is refused, naming the parameter and the character, and nothing is filed
    with pytest.raises(MalformedRequestError) as refused:
        open311.create_request(Format.JSON, post(**values), source=SOURCE)
    [detail] = refused.value.details
    assert detail["field"] == name
    assert f"U+{ord(character):04X}" in detail["reason"]
    assert reporter.reports == []


@pytest.mark.parametrize(
    ("given", "status", "message"),
    [
        ({"api_key": [""]}, 403, "api_key was not provided"),
        ({"api_key": ["wrong-key"]}, 403, "invalid api_key"),
        ({"service_code": [""]}, 400, "service_code was not provided"),
        ({"service_code": ["bonfire"]}, 404, "service_code 'bonfire' not found"),
        ({"jurisdiction_id": ["gent.be"], "lat": ["50.8"], "long": ["4.3"]}, 404, "jurisdiction_id 'gent.be'"),
        ({}, 400, "a location is required"),
        ({"address_id": ["123"]}, 400, "address_id is not supported"),
        ({"address_string": ["near the church"]}, 400, "address_string must read"),
        ({"lat": ["50.8467"]}, 400, "long is missing"),
        ({"lat": ["north"], "long": ["4.35"]}, 400, "lat must be a number"),
        ({"lat": ["nan"], "long": ["4.35"]}, 400, "lat must be a number"),
        ({"lat": ["51.2194"], "long": ["4.4025"]}, 400, "lat: outside the city"),
        ({"lat": ["50.85"], "long": ["4.35"], "email": ["not-an-email"]}, 400, "email: not a valid email address"),
        ({"lat": ["50.85"], "long": ["4.35"], "media_url": ["javascript:alert(1)"]}, 400, "media_url: not an http"),
        ({"lat": ["50.85"], "long": ["4.35"], "description": ["short"]}, 400, "description: at least 10 characters"),
        ({"lat": ["50.85"], "long": ["4.35"], "description": [""]}, 400, "description: required"),
    ],
)
def test_a_bad_request_is_refused_in_the_specs_format(given: Params, status: int, message: str) -> None:
    open311, reporter, _ = face()
    with pytest.raises((ForbiddenError, MalformedRequestError, NotFoundError, ValidationFailedError)) as caught:
        open311.create_request(Format.JSON, {**post(), **given}, source=SOURCE)
    reply = open311.error(Format.JSON, caught.value)
    assert reply.status == status
    assert any(message in error["description"] for error in body(reply)), body(reply)
    assert reporter.reports == []


def test_attributes_fill_the_forms_other_fields_and_unknown_ones_are_ignored() -> None:
    open311, reporter, _ = face(procedure=procedure_with_attributes())
    given = {**post(lat="50.85", long="4.35"), "attribute[size]": ["large"], "attribute[bags]": ["3"]}
    open311.create_request(
        Format.JSON, {**given, "attribute[blocking]": ["true"], "attribute[fixmystreet_id]": ["9"]}, source=SOURCE
    )
    form = reporter.reports[0].form
    assert (form["size"], form["bags"], form["blocking"]) == ("large", 3, True)
    assert "fixmystreet_id" not in form
    with pytest.raises(ValidationFailedError) as caught:
        open311.create_request(Format.JSON, {**given, "attribute[bags]": ["many"]}, source=SOURCE)
    assert body(open311.error(Format.JSON, caught.value)) == [
        {"code": 400, "description": "attribute[bags]: must be an integer"}
    ]


# ---------------------------------------------------------------------------------------------------- GET requests
def test_a_case_is_a_request_open_until_it_is_closed() -> None:
    # Given an alert waiting for its field agent, and one an agent closed as fixed, with an address and two photos the
    # department published (the second one first)
    waiting = alert(1, location=GRAND_PLACE)
    fixed = alert(
        2,
        category="street_lighting",
        address={"street": "Kerkstraat", "number": "4", "box": "2", "postal_code": "1020"},
        photos=["uploads/owner/photo.jpg", "uploads/owner/other.jpg"],
    ).model_copy(
        update={
            "status": CaseStatus.COMPLETED,
            "outcome": "fixed",
            "published_photos": ["uploads/owner/other.jpg", "uploads/owner/photo.jpg"],
        }
    )
    open311, _, _ = face([waiting, fixed])
    # When an app reads them in Dutch
    [first] = body(open311.get_request(Format.JSON, "BXL-2026-000001", params(locale="nl")))
    [second] = body(open311.get_request(Format.JSON, "BXL-2026-000002", params(locale="nl")))
    # Then the waiting one is open, with its place; optional fields without a value are left out
    assert first == {
        "service_request_id": "BXL-2026-000001",
        "status": "open",
        "service_name": "Netheid, afval",
        "service_code": "litter",
        "description": "Sacs poubelles éventrés.",
        "agency_responsible": "cleanliness",
        "requested_datetime": "2026-07-14T12:00:00Z",
        "updated_datetime": "2026-07-14T13:00:00Z",
        "lat": 50.8467,
        "long": 4.3525,
    }
    # And the fixed one is closed with the outcome, its address as people write it, and a link to its first photo in
    # the form's order
    assert second["status"] == "closed"
    assert second["status_notes"] == "het probleem is opgelost"
    assert second["agency_responsible"] == "public_lighting"
    assert second["address"] == "Kerkstraat 4 bus 2, 1020 Laken"
    assert second["zipcode"] == "1020"
    assert second["media_url"] == "https://s3/uploads/owner/photo.jpg?sig"
    # And nobody's email is ever published
    assert "secret@example.org" not in json.dumps([first, second])


def test_a_photo_is_linked_only_once_published_and_then_the_first_published_one() -> None:
    # Given a signed-in citizen's alert with three photos, none published yet
    photos = ["uploads/owner/face.jpg", "uploads/owner/plate.jpg", "uploads/owner/bags.jpg"]
    case = alert(3, location=GRAND_PLACE, photos=photos).model_copy(
        update={"applicant": Applicant(nrn="79051708730"), "submitted_by": "citizen"}
    )
    open311, _, store = face([case])

    def record() -> dict[str, Any]:
        [by_id] = body(open311.get_request(Format.JSON, case.reference, {}))
        [listed] = body(open311.list_requests(Format.JSON, {}))
        assert by_id == listed
        return dict(by_id)

    # Then neither the request by id nor the listing links to a photo, in JSON or in XML
    assert "media_url" not in record()
    assert xml(open311.get_request(Format.XML, case.reference, {})).find("request/media_url") is None
    # When the department publishes the third photo, then the second too
    for published, linked in ((["bags"], "bags"), (["bags", "plate"], "plate")):
        store.cases = [
            case.model_copy(update={"published_photos": [f"uploads/owner/{name}.jpg" for name in published]})
        ]
        # Then the link is to the first published photo in the form's order, never to the unpublished first one
        assert record()["media_url"] == f"https://s3/uploads/owner/{linked}.jpg?sig"
        assert "face" not in json.dumps(record())


@pytest.mark.parametrize(
    ("status", "changes", "expected", "notes"),
    [
        (CaseStatus.SUBMITTED, {}, "open", None),
        (CaseStatus.IN_PROGRESS, {}, "open", None),
        (CaseStatus.REJECTED, {"reason": LocalizedText(fr="Hors", nl="Buiten", en="Outside")}, "closed", "Outside"),
        (CaseStatus.FAILED, {}, "closed", None),
        (CaseStatus.CANCELLED, {}, "closed", None),
        (CaseStatus.COMPLETED, {"outcome": "forwarded"}, "closed", "the report has been forwarded to the competent "
                                                                   "authority"),
    ],
)  # fmt: skip
def test_statuses_map_to_open_and_closed(
    status: CaseStatus, changes: dict[str, Any], expected: str, notes: str | None
) -> None:
    open311, _, _ = face([alert(7, location=GRAND_PLACE).model_copy(update={"status": status, **changes})])
    [record] = body(open311.get_request(Format.JSON, "BXL-2026-000007", params(locale="en")))
    assert record["status"] == expected
    assert record.get("status_notes") == notes


def test_only_the_procedures_cases_are_found_by_id() -> None:
    # Given a certificate case, and an alert stored before alerts were listed (not public)
    certificate = alert(3, procedure_id="residence-certificate")
    unlisted = alert(4, public=False)
    open311, _, _ = face([certificate, unlisted])
    # Then the alert is found by its id, though no listing holds it; nothing else is found
    assert xml(open311.get_request(Format.XML, "BXL-2026-000004", {})).findtext("request/status") == "open"
    assert body(open311.list_requests(Format.JSON, {})) == []
    for reference in ("BXL-2026-000003", "BXL-2026-999999", "not-a-reference", "../../etc"):
        with pytest.raises(NotFoundError):
            open311.get_request(Format.XML, reference, {})


def test_requests_by_id_override_the_other_filters() -> None:
    old = alert(1, created=NOW - timedelta(days=400), location=GRAND_PLACE)
    recent = alert(2, category="graffiti", location=GRAND_PLACE)
    open311, _, store = face([old, recent])
    reply = open311.list_requests(
        Format.JSON, params(service_request_id="BXL-2026-000002, BXL-2026-000001,BXL-2026-000404", status="closed")
    )
    assert [r["service_request_id"] for r in body(reply)] == ["BXL-2026-000002", "BXL-2026-000001"]
    assert store.windows == []
    too_many = ",".join(f"BXL-2026-{n:06d}" for n in range(101))
    with pytest.raises(MalformedRequestError, match="at most 100"):
        open311.list_requests(Format.JSON, params(service_request_id=too_many))


def test_requests_are_searched_in_a_window_of_90_days_at_most_by_code_and_status() -> None:
    # Given alerts of several categories, statuses and ages
    cases = [
        alert(1, created=NOW - timedelta(days=1), location=GRAND_PLACE),
        alert(2, category="graffiti", created=NOW - timedelta(days=2), location=GRAND_PLACE),
        alert(3, created=NOW - timedelta(days=3), location=GRAND_PLACE, status=CaseStatus.COMPLETED, outcome="fixed"),
        alert(4, created=NOW - timedelta(days=120), location=GRAND_PLACE),
    ]
    open311, _, store = face(cases)

    def ids(**given: str) -> list[str]:
        return [r["service_request_id"][-1] for r in body(open311.list_requests(Format.JSON, params(**given)))]

    # Then the default is the last 90 days, newest first
    assert ids() == ["1", "2", "3"]
    assert store.windows[-1] == (NOW - timedelta(days=90), NOW)
    # And filters combine (comma-delimited values, or the parameter declared twice)
    assert ids(service_code="litter") == ["1", "3"]
    assert ids(service_code="litter", status="open") == ["1"]
    assert ids(status="closed,open") == ["1", "2", "3"]
    both = open311.list_requests(Format.JSON, {"service_code": ["graffiti", "litter"], "status": ["closed"]})
    assert [r["service_request_id"] for r in body(both)] == ["BXL-2026-000003"]
    # And a start date alone opens a 90-day window from it; an end date alone closes one
    assert ids(start_date="2026-03-01T00:00:00Z") == ["4"]
    assert store.windows[-1] == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 30, tzinfo=UTC))
    assert ids(end_date="2026-07-13T00:00:00+02:00") == ["3"]
    # And the XML lists them as <request> items
    root = xml(open311.list_requests(Format.XML, params(status="open")))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == ["BXL-2026-000001", "BXL-2026-000002"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"status": "pending"}, "status must be open or closed"),
        ({"service_code": "litter,bonfire"}, "no service bonfire"),
        ({"start_date": "2026-07-01", "end_date": "2026-01-01"}, "end_date is before start_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-07-01T00:00:00Z"}, "more than 90 days"),
        ({"start_date": "last week"}, "start_date must be a w3 date-time"),
        ({"start_date": "9999-12-31T00:00:00Z"}, "out of range"),
        ({"end_date": "0001-01-02T00:00:00Z"}, "out of range"),
        ({"jurisdiction_id": "sfgov.org"}, "jurisdiction_id 'sfgov.org' not found"),
    ],
)
def test_bad_filters_are_refused_before_anything_is_read(given: dict[str, str], message: str) -> None:
    open311, _, store = face([alert(1, location=GRAND_PLACE)])
    with pytest.raises((MalformedRequestError, NotFoundError), match=message):
        open311.list_requests(Format.JSON, params(**given))
    assert store.windows == []


def test_a_listing_holds_1000_requests_at_most() -> None:
    cases = [alert(n, created=NOW - timedelta(minutes=n), location=GRAND_PLACE) for n in range(1, MAX_REQUESTS + 6)]
    open311, _, _ = face(cases)
    records = body(open311.list_requests(Format.JSON, {}))
    assert len(records) == MAX_REQUESTS
    assert records[0]["service_request_id"] == "BXL-2026-000001"


def test_jurisdictions_of_brussels_are_accepted() -> None:
    open311, _, _ = face()
    for jurisdiction in ("bruxelles.be", "Brussel.be", "brussels", ""):
        assert open311.services(Format.JSON, params(jurisdiction_id=jurisdiction)).status == 200


def test_a_procedure_that_is_not_open_to_anonymous_reports_has_no_open311_face() -> None:
    certificate = get_catalogue().get("residence-certificate")
    with pytest.raises(ValueError, match="anonymous"):
        GeoReportForm.of(certificate)


def test_the_api_keys_come_from_the_environment_and_the_demo_key_stays_local() -> None:
    base = {"TABLE_NAME": "t", "DOCUMENTS_BUCKET": "b", "FIELD_SERVICE_STATE_MACHINE_ARN": "arn:sm"}
    settings = Open311Settings.model_validate({**base, "OPEN311_API_KEYS": f"{OPEN311_DEMO_API_KEY}, {KEY}"})
    assert settings.api_keys == (OPEN311_DEMO_API_KEY, KEY)
    assert settings.state_machine_arn("field_service") == "arn:sm"
    with pytest.raises(ConfigurationError):
        settings.state_machine_arn("document_request")
    for keys, stage in ((OPEN311_DEMO_API_KEY, "prod"), ("short", "dev"), (f"{KEY},", "dev")):
        with pytest.raises(ValidationError, match="OPEN311_API_KEYS"):
            Open311Settings.model_validate({**base, "STAGE": stage, "OPEN311_API_KEYS": keys})
    assert Open311Settings.model_validate({**base, "STAGE": "prod", "OPEN311_API_KEYS": KEY}).api_keys == (KEY,)
