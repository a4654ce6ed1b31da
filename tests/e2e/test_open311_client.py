"""An unmodified third-party Open311 client against the platform served over real HTTP (as `make run` serves it).

The client is ``georeport`` from PyPI (a test-only dependency): it reads services, definitions and requests in JSON
and XML. It does not create requests, so those are posted the way Open311 clients post them: a form-encoded body to
``requests.<format>`` (``requests``, as the client itself uses).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import requests
from georeport import GeoReport

from infra.local.runtime import LocalRuntime
from tests.conftest import PIETER
from tests.documentation import marked_block, run_block

API_KEY = "omnicity-open311-demo-key"
JPEG = b"\xff\xd8\xff\xe0" + b"1" * 64


def as_list(value: Any) -> list[Any]:
    """georeport hands one XML <request> over as a dict, several as a list."""
    return value if isinstance(value, list) else [value]


def file_request(root: str, fmt: str, **fields: str) -> str:
    """POST a request as Open311 clients do (form-encoded), and return its service_request_id."""
    sent = {
        "api_key": API_KEY,
        "jurisdiction_id": "bruxelles.be",
        "description": "Tag sur la porte de l'église.",
        **fields,
    }
    response = requests.post(f"{root}/requests.{fmt}", data=sent, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json" if fmt == "json" else "text/xml")
    if fmt == "json":
        return str(response.json()[0]["service_request_id"])
    return str(ET.fromstring(response.content).findtext("request/service_request_id"))  # noqa: S314 - our output


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unmodified_open311_client_reads_services_and_follows_a_request(served: LocalRuntime, fmt: str) -> None:
    # Given an Open311 client pointed at the city's endpoint, in one of the two formats
    root = f"{served.api_url}/open311/v2"
    client = GeoReport(root, jurisdiction="bruxelles.be", api_key=API_KEY, output_format=fmt)
    # When it lists the services and reads one's definition
    services = as_list(client.get_service_list())
    definition = client.get_service_definition("graffiti")
    # Then the alert categories are there, as realtime services without extra attributes
    graffiti = next(service for service in services if service["service_code"] == "graffiti")
    assert graffiti["service_name"] == "Graffiti"
    assert graffiti["type"] == "realtime"
    assert str(graffiti["metadata"]).lower() == "false"
    assert definition["service_code"] == "graffiti"
    assert not definition["attributes"]
    # When a request is posted at a place, then followed with the client
    reference = file_request(root, fmt, service_code="graffiti", lat="50.8467", long="4.3525")
    request = client.get_service_request(reference)
    listed = as_list(client.get_service_requests(service_request_id=reference))
    searched = as_list(client.get_service_requests(service_code="graffiti", status="open"))
    # Then it is the open request it filed, found by id and by search
    assert request["service_request_id"] == reference
    assert request["status"] == "open"
    assert float(request["lat"]) == pytest.approx(50.8467)
    assert [item["service_request_id"] for item in listed] == [reference]
    assert reference in [item["service_request_id"] for item in searched]


def test_the_clients_errors_are_the_specs(served: LocalRuntime) -> None:
    root = f"{served.api_url}/open311/v2"
    client = GeoReport(root, output_format="json")
    # An unknown service is a 404 the client raises on
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_definition("bonfire")
    response = caught.value.response
    assert response is not None
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "service_code 'bonfire' not found"}]
    # A post with a wrong key is a 403 in the spec's XML
    refused = requests.post(f"{root}/requests.xml", data={"api_key": "guess", "service_code": "litter"}, timeout=30)
    assert refused.status_code == 403
    assert ET.fromstring(refused.content).findtext("error/code") == "403"  # noqa: S314 - our own output


def test_media_url_serves_the_photo_the_department_published(served: LocalRuntime) -> None:
    # Given Pieter's alert with a photo he uploaded through the presigned POST the portal gets (not public yet)
    api = served.api_url
    token = requests.post(
        f"{api}/local/token", json={"role": "citizen", "sub": PIETER, "client": "portal"}, timeout=30
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    slot = requests.post(f"{api}/v1/uploads", json={"content_type": "image/jpeg"}, headers=auth, timeout=30).json()
    uploaded = requests.post(slot["url"], data=slot["fields"], files={"file": ("photo.jpg", JPEG)}, timeout=30)
    assert uploaded.status_code in (200, 201, 204), uploaded.text
    form: dict[str, Any] = {
        "category": "litter",
        "description": "Zakken afval op de stoep.",
        "location": {"lat": 50.8467, "lon": 4.3525},
    }
    case = requests.post(
        f"{api}/v1/cases",
        json={"procedure_id": "public-space-alert", "language": "nl", "form": {**form, "photos": [slot["key"]]}},
        headers=auth,
        timeout=30,
    )
    assert case.status_code == 201, case.text
    client = GeoReport(f"{api}/open311/v2")
    assert "media_url" not in client.get_service_request(case.json()["reference"])
    # ...and the cleanliness department's agent publishing it
    agent = requests.post(
        f"{api}/local/token",
        json={"role": "agent", "sub": "field-1", "client": "counter", "departments": ["cleanliness"]},
        timeout=30,
    ).json()["access_token"]
    published = requests.post(
        f"{api}/v1/agent/cases/{case.json()['case_id']}/photos/0/publish",
        headers={"Authorization": f"Bearer {agent}"},
        timeout=30,
    )
    assert published.status_code == 200, published.text
    # When an Open311 client reads the request
    request = client.get_service_request(case.json()["reference"])
    # Then its media_url downloads the photo
    photo = requests.get(request["media_url"], timeout=30)
    assert photo.status_code == 200
    assert photo.content == JPEG


@pytest.mark.skipif(shutil.which("curl") is None, reason="the documented examples use curl")
def test_the_documented_open311_examples_work_verbatim(served: LocalRuntime, tmp_path: Path) -> None:
    # Given the documentation's Open311 block (docs/open311.md), pointed at this runtime's port (the only change)
    script = marked_block("open311", "session")
    # When it runs in a shell
    result = run_block(script, served.api_url, tmp_path)
    # Then the services, the new request read back in XML and in the listing, and the 403 were all answered
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if not line.startswith("<?xml")]
    assert '"service_name": "Netheid, afval"' in lines[0]
    assert lines[1] == "<service_definition><service_code>graffiti</service_code><attributes /></service_definition>"
    reference = json.loads(lines[2])[0]["service_request_id"]
    assert f"<service_request_id>{reference}</service_request_id>" in lines[3]
    assert "<address>Rue Haute 120, 1000 Bruxelles</address>" in lines[3]
    assert reference in [request["service_request_id"] for request in json.loads(lines[4])]
    assert (
        lines[-1] == '[{"code": 403, "description": "invalid api_key received: the request was not created"}] HTTP 403'
    )
