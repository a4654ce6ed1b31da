"""Open311 GeoReport v2 end to end through the local API Gateway, called the way Open311 clients call it: ``.json``
and ``.xml`` suffixes, form-encoded POST bodies, XML read with ElementTree. (An unmodified third-party client, over
HTTP, is in ``test_open311_client.py``.)"""

from __future__ import annotations

import json
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from omnicity.adapters.audit import AuditKind, AuditTrail
from omnicity.adapters.cases import CaseRepository
from omnicity.catalogue import retention_days_of
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from tests.conftest import PIETER, Api, Reply, is_not_found
from tests.conftest import ROOT as REPO
from tests.e2e.test_public_space_alert import GRAND_PLACE, field_agent, task_for, upload

API_KEY = "omnicity-open311-demo-key"  # the template's default: the demo key (docs/open311.md)
FORM = "application/x-www-form-urlencoded; charset=utf-8"
ROOT = "/open311/v2"
KEYED = f"api_key={API_KEY}&service_code=litter"
EVENTS = REPO / "events"


def post(api: Api, fmt: str = "json", **fields: str) -> Reply:
    values = {"api_key": API_KEY, "service_code": "litter", "description": "Sacs poubelles éventrés.", **fields}
    body = urlencode({name: value for name, value in values.items() if value is not None}).encode()
    return api.request("POST", f"{ROOT}/requests.{fmt}", raw=body, headers={"Content-Type": FORM})


def get(api: Api, document: str, query: str = "", **headers: str) -> Reply:
    return api.request("GET", f"{ROOT}/{document}", query=query, headers=headers)


def xml(reply: Reply) -> ET.Element:
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(reply.body)  # noqa: S314 - our own output, read as a client would


def errors(reply: Reply) -> list[str]:
    """The descriptions of a spec-format error list, in JSON or XML; its codes are the HTTP status."""
    if reply.headers["Content-Type"].startswith("text/xml"):
        entries = [(e.findtext("code"), e.findtext("description")) for e in xml(reply).findall("error")]
    else:
        entries = [(str(e["code"]), e["description"]) for e in reply.json]
    assert entries
    assert {code for code, _ in entries} == {str(reply.status)}
    return [str(description) for _, description in entries]


def created_reference(reply: Reply) -> str:
    assert reply.status == 200, reply.body
    if reply.headers["Content-Type"].startswith("text/xml"):
        return str(xml(reply).findtext("request/service_request_id"))
    return str(reply.json[0]["service_request_id"])


def wait_until(api: Api, reference: str, status: str) -> None:
    deadline = time.monotonic() + 20
    while api.request("GET", f"/v1/reports/{reference}").json["status"] != status:
        assert time.monotonic() < deadline, f"{reference} never became {status}"
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------------- services
def test_the_services_are_the_alert_categories_in_json_and_xml(api: Api) -> None:
    # When an app lists the services, in JSON then in XML with Dutch as its language
    as_json = get(api, "services.json")
    as_xml = get(api, "services.xml", **{"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})
    # Then both list the categories, the XML one named in Dutch
    assert as_json.status == 200
    assert as_json.headers["Content-Type"] == "application/json; charset=utf-8"
    codes = [service["service_code"] for service in as_json.json]
    assert codes[:3] == ["litter", "dumped_bulky_waste", "graffiti"]
    assert as_json.json[0]["service_name"] == "Propreté, déchets"
    root = xml(as_xml)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == codes
    assert root.findtext("service/service_name") == "Netheid, afval"
    assert root.findtext("service/metadata") == "false"


def test_a_service_definition_and_an_unknown_service(api: Api) -> None:
    definition = get(api, "services/road_damage.json", query="jurisdiction_id=bruxelles.be")
    assert definition.status == 200
    assert definition.json == {"service_code": "road_damage", "attributes": []}
    root = xml(get(api, "services/road_damage.xml"))
    assert (root.tag, root.findtext("service_code")) == ("service_definition", "road_damage")
    unknown = get(api, "services/bonfire.xml")
    assert unknown.status == 404
    assert errors(unknown) == ["service_code 'bonfire' not found"]


# ---------------------------------------------------------------------------------------------------- requests
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_posted_is_read_back_by_its_id(api: Api, fmt: str) -> None:
    # Given an Open311 app posting a graffiti at an address, with the reporter's email
    reply = post(
        api, fmt, service_code="graffiti", address_string="Rue Haute 120, 1000 Bruxelles", email="jo@example.org"
    )
    # Then it answers the case's reference, with a notice
    reference = created_reference(reply)
    assert reference.startswith("BXL-")
    # And the request reads back, open, at its address, in the language asked
    read = get(api, f"requests/{reference}.{fmt}", query="locale=en")
    assert read.status == 200
    if fmt == "json":
        [request] = read.json
    else:
        element = xml(read).find("request")
        assert element is not None
        request = {child.tag: child.text for child in element}
    assert request["service_request_id"] == reference
    assert request["status"] == "open"
    assert request["service_code"] == "graffiti"
    assert request["service_name"] == "Graffiti"
    assert request["address"] == "Rue Haute 120, 1000 Bruxelles"
    assert request["zipcode"] == "1000"
    assert request["agency_responsible"] == "cleanliness"
    assert "jo@example.org" not in read.body.decode()
    # And it is the same case the portal's anonymous tracking shows
    assert api.request("GET", f"/v1/reports/{reference}").json["procedure_id"] == "public-space-alert"


def test_requests_are_filtered_by_id_code_status_and_dates(api: Api) -> None:
    # Given two new requests of different categories
    litter = created_reference(post(api, lat="50.8467", long="4.3525"))
    lighting = created_reference(post(api, service_code="street_lighting", lat="50.8467", long="4.3525"))

    def ids(query: str) -> list[str]:
        reply = get(api, "requests.json", query=query)
        assert reply.status == 200, reply.body
        return [request["service_request_id"] for request in reply.json]

    # Then the default listing (last 90 days) has both, newest first
    assert ids("")[:2] == [lighting, litter]
    # And each filter narrows it
    assert ids(f"service_request_id={litter},{lighting},BXL-1999-000001") == [litter, lighting]
    assert lighting in ids("service_code=street_lighting")
    assert litter not in ids("service_code=street_lighting,graffiti")
    assert {litter, lighting} <= set(ids("status=open"))
    assert litter not in ids("status=closed")
    assert ids("start_date=2020-01-01T00:00:00Z&end_date=2020-03-01T00:00:00Z") == []
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert {litter, lighting} <= set(ids(f"start_date={today}T00:00:00Z"))
    # And the XML lists <request> items under <service_requests>
    root = xml(get(api, "requests.xml", query=f"service_request_id={litter}"))
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [litter]


def test_the_listing_reads_the_months_of_its_window(api: Api, runtime: Any) -> None:
    # Given public alerts created around a change of month, and a certificate case (never public)
    repository = CaseRepository(runtime.description.tables["CasesTable"].name, retention=retention_days_of)
    moments = {
        "TST-2026-000001": datetime(2026, 1, 31, 23, 59, 59, 500000, tzinfo=UTC),
        "TST-2026-000002": datetime(2026, 2, 1, 0, 0, tzinfo=UTC),
        "TST-2026-000003": datetime(2026, 3, 15, 9, 30, tzinfo=UTC),
    }
    for reference, moment in moments.items():
        repository.create(stored_alert(reference, moment))
    repository.create(stored_alert("TST-2026-000004", moments["TST-2026-000002"], procedure="residence-certificate"))

    def ids(query: str) -> list[str]:
        reply = get(api, "requests.json", query=query)
        assert reply.status == 200, reply.body
        return [request["service_request_id"] for request in reply.json]

    # Then a window over three months finds them newest first, to the second at its edges
    assert ids("start_date=2026-01-20T00:00:00Z&end_date=2026-04-01T00:00:00Z") == [
        "TST-2026-000003",
        "TST-2026-000002",
        "TST-2026-000001",
    ]
    assert ids("start_date=2026-02-01T00:00:00Z&end_date=2026-03-15T09:30:00Z") == [
        "TST-2026-000003",
        "TST-2026-000002",
    ]
    assert ids("start_date=2026-01-31T23:59:59.600Z&end_date=2026-03-15T09:29:59Z") == ["TST-2026-000002"]
    assert ids("end_date=2026-01-31T23:59:59%2B01:00") == []  # 22:59:59Z: before the first


def stored_alert(reference: str, created: datetime, procedure: str = "public-space-alert") -> Case:
    return Case(
        case_id=str(uuid.uuid4()),
        reference=reference,
        procedure_id=procedure,
        applicant=Applicant(),
        channel=Channel.PORTAL,
        language=Language.FR,
        form={"category": "litter", "description": "Dépôt clandestin rue Haute.", "location": GRAND_PLACE},
        status=CaseStatus.WAITING,
        timeline=[TimelineEntry(at=created, status=CaseStatus.SUBMITTED, event="submitted", actor="anonymous")],
        submitted_by="anonymous",
        public=procedure == "public-space-alert",
        created_at=created,
        updated_at=created,
    )


def test_a_request_is_closed_when_a_field_agent_closes_the_alert(api: Api) -> None:
    # Given a request posted by an Open311 app with the reporter's email, waiting for the street lighting team
    reference = created_reference(
        post(api, service_code="street_lighting", lat="50.8467", long="4.3525", email="night.owl@example.org")
    )
    wait_until(api, reference, "waiting")
    agent = field_agent(api, "public_lighting")
    task = task_for(api, agent, "public_lighting", reference)
    assert get(api, f"requests/{reference}.json").json[0]["status"] == "open"
    # When the field agent closes it as fixed
    done = api.request(
        "POST",
        f"/v1/agent/tasks/{task['task_id']}/complete",
        token=agent,
        body={"outcome": "fixed", "comment": "Lamp replaced."},
    )
    assert done.status == 200, done.body
    wait_until(api, reference, "completed")
    # Then the request is closed, with the outcome as its status notes (the agent's comment stays private)
    [request] = get(api, f"requests/{reference}.json", query="locale=en").json
    assert request["status"] == "closed"
    assert request["status_notes"] == "the problem has been fixed"
    assert "Lamp replaced." not in json.dumps(request)
    assert reference in get(api, "requests.json", query="status=closed&service_code=street_lighting").body.decode()
    # And the reporter was told at the email the app gave
    mail = next(m for m in api.outbox() if reference in m["subject"])
    assert mail["to"] == ["night.owl@example.org"]


def publish(api: Api, token: str, case_id: str, photo: int | str) -> Reply:
    return api.request("POST", f"/v1/agent/cases/{case_id}/photos/{photo}/publish", token=token)


def without(text: bytes, *ids: str) -> str:
    """An answer with the ids it names replaced by a placeholder: what remains must not depend on which case."""
    answer = text.decode()
    for value in ids:
        answer = answer.replace(value, "<id>")
    return answer


def unsigned(record: dict[str, Any]) -> dict[str, Any]:
    """An Open311 record with its ``media_url`` (if any) stripped of the presigned query string."""
    if "media_url" not in record:
        return record
    return {**record, "media_url": record["media_url"].partition("?")[0]}


def test_a_signed_in_citizens_photo_is_public_only_once_the_handling_department_publishes_it(
    api: Api, table: str
) -> None:
    # Given Pieter's alert about a street light, with two photos, made on the portal (routed to public lighting)
    token = api.token(PIETER)
    first, second = upload(api, token), upload(api, token)
    form = {"category": "street_lighting", "description": "Lamp kapot.", "location": GRAND_PLACE}
    body = {"procedure_id": "public-space-alert", "language": "nl", "form": {**form, "photos": [first, second]}}
    created = api.request("POST", "/v1/cases", token=token, body=body)
    assert created.status == 201, created.body
    case_id, reference = created.json["case_id"], created.json["reference"]

    def public_records() -> list[dict[str, Any]]:
        [by_id] = get(api, f"requests/{reference}.json").json
        listed = [r for r in get(api, "requests.json").json if r["service_request_id"] == reference]
        # a photo's link is presigned at each request (its date and signature change with the second): the same
        # record is the same fields and the same object
        assert [unsigned(record) for record in listed] == [unsigned(by_id)]
        return [by_id, *listed]

    # Then neither the request nor the listing links to a photo (JSON and XML), and neither names Pieter
    assert all("media_url" not in record for record in public_records())
    assert xml(get(api, f"requests/{reference}.xml")).find("request/media_url") is None
    assert PIETER not in json.dumps(public_records())
    # When agents of other departments try to publish one: the procedure's own (cleanliness), and roads
    missing = str(uuid.uuid4())
    for department in ("cleanliness", "roads"):
        agent = field_agent(api, department)
        refused, unknown = publish(api, agent, case_id, 0), publish(api, agent, missing, 0)
        # Then each is told what a case that does not exist tells, word for word
        assert is_not_found(refused)
        assert without(refused.body, case_id) == without(unknown.body, missing)
    # And Pieter himself has no back office
    assert publish(api, token, case_id, 0).status == 403
    # And a photo number the case does not have, or one that is no number, names what is wrong
    lighting = field_agent(api, "public_lighting")
    assert publish(api, lighting, case_id, 2).json["error"]["message"].startswith("no photo 2 on this case")
    wrong = publish(api, lighting, case_id, "first")
    assert (wrong.status, wrong.json["error"]["details"][0]["field"]) == (422, "photo")
    assert all("media_url" not in record for record in public_records())
    # When the lighting department's agent publishes the second photo (twice: a double click)
    published = publish(api, lighting, case_id, 1)
    again = publish(api, lighting, case_id, 1)
    # Then it is public, and Open311 links to it, by id and in the listing, with a short-lived URL
    assert published.status == again.status == 200, published.body
    assert published.json == again.json == {"case_id": case_id, "reference": reference, "published_photos": [second]}
    for record in public_records():
        assert second in record["media_url"]
        assert first not in record["media_url"]
        assert "Signature" in record["media_url"] or "X-Amz-Signature" in record["media_url"]
    # And the audit trail holds the action once: who, for which department, which photo
    entries = AuditTrail(table, retention=retention_days_of).entries(case_id)
    [action] = [entry for entry in entries if entry.kind is AuditKind.PUBLICATION]
    assert (action.actor, action.department, action.target) == (
        "agent:field-public_lighting",
        "public_lighting",
        second,
    )
    # And Pieter sees on his case which photo is public, and who published it
    mine = api.case(case_id, token)
    assert mine["published_photos"] == [second]
    assert [(e["event"], e["actor"]) for e in mine["timeline"]][-1] == (
        "photo_published",
        "agent:field-public_lighting",
    )


# ---------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_missing_or_wrong_api_key_is_403_in_the_specs_format(api: Api, fmt: str) -> None:
    wrong = post(api, fmt, api_key="not-the-key", lat="50.8467", long="4.3525")
    missing = post(api, fmt, api_key="", lat="50.8467", long="4.3525")
    assert (wrong.status, missing.status) == (403, 403)
    assert errors(wrong) == ["invalid api_key received: the request was not created"]
    assert errors(missing) == ["api_key was not provided: posting a request needs one"]


@pytest.mark.parametrize(
    ("fields", "status", "description"),
    [
        ({}, 400, "a location is required: lat and long, or address_string"),
        ({"address_string": "somewhere near the park"}, 400, "address_string must read"),
        ({"address_string": "Kerkstraat 4, 9000 Gent"}, 400, "address_string: not a postal code of the city"),
        ({"lat": "51.2194", "long": "4.4025"}, 400, "lat: outside the city"),
        ({"service_code": "bonfire", "lat": "50.8467", "long": "4.3525"}, 404, "service_code 'bonfire' not found"),
        ({"service_code": "", "lat": "50.8467", "long": "4.3525"}, 400, "service_code was not provided"),
        ({"lat": "50.8467", "long": "4.3525", "description": "short"}, 400, "description: at least 10 characters"),
    ],
)
def test_bad_requests_are_refused_in_the_specs_format(
    api: Api, fields: dict[str, str], status: int, description: str
) -> None:
    reply = post(api, "xml", **fields)
    assert reply.status == status, reply.body
    assert any(text.startswith(description) for text in errors(reply)), errors(reply)


@pytest.mark.parametrize(
    ("method", "path", "query", "raw", "content_type", "status"),
    [
        ("GET", f"{ROOT}/requests/BXL-2026-999999.json", "", None, None, 404),
        ("GET", f"{ROOT}/requests/not-a-reference.xml", "", None, None, 404),
        ("GET", f"{ROOT}/requests.json", "start_date=last%20week", None, None, 400),
        ("GET", f"{ROOT}/requests.json", "start_date=9999-12-31T00:00:00Z", None, None, 400),
        ("GET", f"{ROOT}/requests.json", "status=pending", None, None, 400),
        ("GET", f"{ROOT}/requests.xml", "jurisdiction_id=sfgov.org", None, None, 404),
        ("GET", f"{ROOT}/services.html", "", None, None, 404),
        ("GET", f"{ROOT}/discovery.json", "", None, None, 404),
        ("POST", f"{ROOT}/services.json", "", b"api_key=x", FORM, 404),
        ("POST", f"{ROOT}/requests.json", "", b'{"api_key": "k"}', "application/json", 400),
        ("POST", f"{ROOT}/requests.json", "", b"api_key=\xff\xfe&description=\x80", FORM, 400),
        ("POST", f"{ROOT}/requests.json", "", "&".join(f"f{i}=1" for i in range(300)).encode(), FORM, 400),
        ("POST", f"{ROOT}/requests.xml", "", f"{KEYED}&lat=1e999&long=4&description=0123456789".encode(), FORM, 400),
    ],
)  # fmt: skip
def test_hostile_input_is_never_a_server_error(
    api: Api, method: str, path: str, query: str, raw: bytes | None, content_type: str | None, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = api.request(method, path, query=query, raw=raw, headers=headers)
    assert reply.status == status, reply.body
    assert errors(reply)
    if status == 404:  # an unknown reference, jurisdiction, format or resource: the operation's, not a mistyped path
        assert is_not_found(reply)


def test_the_sample_events_run_through_the_handler(runtime: Any) -> None:
    # Given the Open311 sample events of events/ (what `sam local invoke Open311Function -e` sends)
    def invoke(name: str) -> dict[str, Any]:
        event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
        return dict(runtime.bridge.invoke_function("Open311Function", event))

    # Then each is answered in its format
    services = invoke("open311_list_services.json")
    assert services["statusCode"] == 200
    assert services["multiValueHeaders"]["Content-Type"] == ["text/xml; charset=utf-8"]
    assert "<service_name>Netheid, afval</service_name>" in services["body"]
    created = invoke("open311_create_request.json")
    assert created["statusCode"] == 200, created["body"]
    assert json.loads(created["body"])[0]["service_request_id"].startswith("BXL-")
    listed = invoke("open311_list_requests.json")
    assert listed["statusCode"] == 200
    assert isinstance(json.loads(listed["body"]), list)
    one = invoke("open311_get_request.json")
    assert one["statusCode"] == 200 or is_not_found(Reply(one["statusCode"], {}, one["body"].encode()))
    assert one["body"].startswith('<?xml version="1.0" encoding="utf-8"?>')
