"""No personal data in the logs: a whole working day of the platform on the local runtime served over HTTP (as
`make run` serves it), every log line captured (the functions' Powertools output as it would reach CloudWatch, the
runtime's request log, every other logger and print), then searched for the people's national register numbers
(however they typed them), names, addresses, emails, what they and the agents wrote, where they were, and for every
token, code and signature handed out."""

from __future__ import annotations

import http.client
import io
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from infra.local.runtime import LocalRuntime
from omnicity.adapters.registries.national import Person, get_national_register
from omnicity.domain.nrn import format_nrn
from omnicity.observability import logger
from tests.conftest import ELISE, PIETER, Api, Reply

HUGO = "72030324138"  # fictional; his criminal record holds entries: his extract waits for an agent
OPEN311_KEY = "omnicity-open311-demo-key"  # the template's default (the demo key, docs/open311.md)
PASSER_BY = {"email": "passer.by.redaction@example.org", "street": "Rue des Éperonniers"}
OPEN311_REPORTER = {
    "email": "jo.reporter@example.net",
    "first_name": "Josiane",
    "last_name": "Vandersmissen",
    "phone": "+32471234567",
    "address_string": "Rue Haute 120, 1000 Bruxelles",
}


class HttpApi(Api):
    """The test client over real HTTP: what it sends goes through the runtime's HTTP front and its request log."""

    def send(
        self, method: str, path: str, query: str, headers: dict[str, str], payload: bytes | None, source_ip: str
    ) -> Reply:
        assert source_ip == "127.0.0.1", "over real HTTP, a request comes from the loopback address"
        connection = http.client.HTTPConnection("127.0.0.1", self.runtime.api_port, timeout=30)
        try:
            connection.request(method, f"{path}?{query}" if query else path, body=payload, headers=headers)
            answer = connection.getresponse()
            return Reply(answer.status, dict(answer.headers), answer.read())
        finally:
            connection.close()


@pytest.fixture(scope="module")
def api(served: LocalRuntime) -> Api:
    return HttpApi(served)


class Captured:
    """Everything the platform logged: the functions' Powertools lines as written, other loggers' records, prints."""

    def __init__(self, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
        self.powertools = io.StringIO()
        self._caplog = caplog
        self._capsys = capsys

    def text(self) -> str:
        # Powertools' records also reach pytest's handler, unformatted: they are read as Powertools wrote them
        others = [record for record in self._caplog.records if not record.name.startswith(logger.name)]
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        printed = self._capsys.readouterr()
        lines = [formatter.format(record) for record in others]
        return "\n".join([self.powertools.getvalue(), *lines, printed.out, printed.err])


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Iterator[Captured]:
    capture = Captured(caplog, capsys)
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(capture.powertools)
    caplog.set_level(logging.INFO)
    try:
        yield capture
    finally:
        handler.setStream(previous)


def person(nrn: str) -> Person:
    found = get_national_register().find(nrn)
    assert found is not None
    return found


def personal_data(someone: Person) -> list[str]:
    return [
        someone.nrn,
        format_nrn(someone.nrn),
        someone.first_name,
        someone.last_name,
        someone.email,
        someone.address.street,
    ]


def agent(api: Api, sub: str, department: str) -> str:
    return api.token(sub, role="agent", client="counter", departments=[department])


def task_for(api: Api, token: str, department: str, reference: str) -> dict[str, Any]:
    queue = api.request("GET", "/v1/agent/tasks", token=token, query=f"department={department}")
    assert queue.status == 200, queue.body
    return next(task for task in queue.json["items"] if task["reference"] == reference)


def signature_values(url: str) -> list[str]:
    query = parse_qs(urlsplit(url).query)
    secrets = [name for name in query if name.lower() in {"x-amz-signature", "x-amz-credential", "signature"}]
    assert secrets, url  # a presigned URL: it carries a signature to look for
    return [query[name][0] for name in secrets]


def test_a_day_of_cases_leaves_no_personal_data_or_token_in_the_logs(api: Api, captured: Captured) -> None:
    secrets: list[str] = []
    case_ids: list[str] = []
    # Given Élise, on the portal, asking for a residence certificate and downloading it
    elise = api.token(ELISE)
    certificate = api.submit(elise, form={"purpose": "employment"})
    assert certificate.status == 201, certificate.body
    case_ids.append(certificate.json["case_id"])
    assert api.wait(certificate.json["case_id"])["status"] == "SUCCEEDED"
    [document] = api.case(certificate.json["case_id"], elise)["documents"]
    link = api.request(
        "GET", f"/v1/cases/{certificate.json['case_id']}/documents/{document['document_id']}", token=elise
    )
    assert link.status == 200, link.body
    secrets += [elise, *signature_values(link.json["url"])]

    # And Hugo asking for his criminal record extract, which an agent reads in full, approves, and hands over
    hugo = api.token(HUGO)
    body = {"procedure_id": "criminal-record-extract", "language": "fr", "form": {"model": "595"}}
    extract = api.request("POST", "/v1/cases", token=hugo, body=body)
    assert extract.status == 201, extract.body
    case_ids.append(extract.json["case_id"])
    api.wait_for_status(extract.json["case_id"], hugo, "waiting")
    alice = agent(api, "agent-alice", "population")
    file = api.request("GET", f"/v1/agent/cases/{extract.json['case_id']}", token=alice, query="reason=counter%20visit")
    assert file.status == 200, file.body
    assert file.json["applicant"]["nrn"] == HUGO  # the agent sees it: the logs must not
    task = task_for(api, alice, "population", extract.json["reference"])
    path = f"/v1/agent/tasks/{task['task_id']}/complete"
    assert api.request("POST", path, token=alice, body={"outcome": "approve"}).status == 200
    assert api.wait(extract.json["case_id"])["status"] == "SUCCEEDED"
    [document] = api.case(extract.json["case_id"], hugo)["documents"]
    link = api.request("GET", f"/v1/cases/{extract.json['case_id']}/documents/{document['document_id']}", token=alice)
    assert link.status == 200, link.body
    secrets += [hugo, alice, *signature_values(link.json["url"])]

    # And somebody without an account reporting graffiti with an address and an email, which Élise then attaches
    report = {
        "procedure_id": "public-space-alert",
        "language": "fr",
        "email": PASSER_BY["email"],
        "form": {
            "category": "graffiti",
            "description": "Tag sur la façade.",
            "address": {"street": PASSER_BY["street"], "number": "63", "postal_code": "1000"},
        },
    }
    reported = api.request("POST", "/v1/reports", body=report)
    assert reported.status == 201, reported.body
    case_ids.append(reported.json["case_id"])
    attached = api.request("POST", f"/v1/handoff/{reported.json['handoff_code']}", token=elise)
    assert attached.status == 200, attached.body
    secrets.append(reported.json["handoff_code"])

    # And an Open311 app posting a request with its reporter's name, phone, email and address
    fields = {"api_key": OPEN311_KEY, "service_code": "litter", "description": "Sacs éventrés.", **OPEN311_REPORTER}
    posted = api.request(
        "POST",
        "/open311/v2/requests.json",
        raw=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert posted.status == 200, posted.body
    secrets.append(OPEN311_KEY)

    # Then the logs speak of these cases (they were captured)...
    logged = captured.text().casefold()
    for case_id in case_ids:
        assert case_id in logged
    # ... and hold none of the people's numbers, names, addresses, emails, nor any token, code or signature
    leaks = [*personal_data(person(ELISE)), *personal_data(person(HUGO)), *PASSER_BY.values()]
    leaks += [*OPEN311_REPORTER.values(), *secrets]
    found = sorted({leak for leak in leaks if leak.casefold() in logged})
    assert found == [], f"logged: {found}"


def test_what_people_write_where_they_are_and_why_agents_read_stays_out_of_the_logs(
    api: Api, captured: Captured
) -> None:
    # Given Pieter reporting a car parked for weeks, on the map, at an address, typing his own NRN (with spaces) and
    # the owner's name in the description
    pieter = api.token(PIETER)
    nrn_typed = " ".join([PIETER[0:2], PIETER[2:4], PIETER[4:6], PIETER[6:9], PIETER[9:11]])
    description = f"Voiture ventouse de M. Achterberg depuis trois semaines. Mon NRN: {nrn_typed}."
    place = {"lat": 50.86137, "lon": 4.35814}
    address = {"street": "Rue des Palais Outre-Ponts", "number": "417", "postal_code": "1020"}
    form = {"category": "road_damage", "description": description, "location": place, "address": address}
    body = {"procedure_id": "public-space-alert", "language": "fr", "form": form}
    reported = api.request("POST", "/v1/cases", token=pieter, body=body)
    assert reported.status == 201, reported.body
    case_id, reference = reported.json["case_id"], reported.json["reference"]
    api.wait_for_status(case_id, pieter, "waiting")
    # When an agent of the roads department reads the file, saying why, and closes it with a reason for Pieter
    roads = agent(api, "field-roads-redaction", "roads")
    why = "Appel de M. Achterberg au guichet"
    file = api.request("GET", f"/v1/agent/cases/{case_id}", token=roads, query=f"reason={quote(why)}")
    assert file.status == 200, file.body
    task = task_for(api, roads, "roads", reference)
    comment = "Véhicule enlevé par la fourrière, plaque 1-ABC-234."
    closed = api.request(
        "POST",
        f"/v1/agent/tasks/{task['task_id']}/complete",
        token=roads,
        body={"outcome": "fixed", "comment": comment},
    )
    assert closed.status == 200, closed.body
    assert api.wait(case_id)["status"] == "SUCCEEDED"
    # Then the logs speak of the case, and hold none of what was written, where, or why
    logged = captured.text()
    assert case_id in logged
    leaks = [PIETER, nrn_typed, "Achterberg", "ventouse", "Outre-Ponts", "fourrière", "1-ABC-234", why, quote(why)]
    leaks += [str(place["lat"]), str(place["lon"]), *personal_data(person(PIETER))]
    found = sorted({leak for leak in leaks if leak.casefold() in logged.casefold()})
    assert found == [], f"logged: {found}"
