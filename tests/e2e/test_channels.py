"""One case across channels: the counter (an agent for a citizen), the kiosk (a citizen signed in at the device),
and hand-off codes to continue on the portal, or to attach an anonymous report to one's account."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ELISE, PIETER, Api, is_not_found

GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}


@pytest.fixture(scope="module")
def counter_agent(api: Api) -> str:
    return api.token("agent-042", role="agent", client="counter", departments=["population"])


def test_an_agent_at_the_counter_opens_a_case_for_a_citizen_who_then_sees_it(api: Api, counter_agent: str) -> None:
    # Given Élise at the counter; the agent's screen sends a body that even claims the portal channel
    reply = api.submit(counter_agent, language="fr", citizen_nrn="87.03.14-132.35", channel="portal")
    # Then the case is hers, on the counter channel, with the agent as its author
    assert reply.status == 201, reply.body
    created = reply.json
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    elise = api.token(ELISE)
    case = api.case(created["case_id"], elise)
    assert case["channel"] == "counter"
    assert case["status"] == "completed"
    assert case["timeline"][0]["actor"] == "agent:agent-042"
    assert created["case_id"] in [
        item["case_id"] for item in api.request("GET", "/v1/cases", token=elise).json["items"]
    ]


@pytest.mark.parametrize(
    ("departments", "nrn", "status", "field"),
    [
        (["parking"], ELISE, 403, None),  # not a department that handles the procedure, nor the counter's
        (["counter"], ELISE, 201, None),  # the counter's agents serve every procedure
        (["population"], "87031413299", 422, "citizen_nrn"),  # a bad check digit
    ],
)
def test_who_may_open_a_case_at_the_counter(
    api: Api, departments: list[str], nrn: str, status: int, field: str | None
) -> None:
    agent = api.token("agent-050", role="agent", client="counter", departments=departments)
    reply = api.submit(agent, citizen_nrn=nrn)
    assert reply.status == status, reply.body
    if field:
        assert [d["field"] for d in reply.json["error"]["details"]] == [field]


def test_a_citizen_cannot_submit_for_someone_else(api: Api) -> None:
    reply = api.submit(api.token(ELISE), citizen_nrn=PIETER)
    assert reply.status == 403


def test_at_the_kiosk_the_citizens_session_is_short_and_the_case_is_a_kiosk_case(api: Api) -> None:
    # Given Élise signing in at a kiosk, and the kiosk device itself
    session = api.request(
        "POST", "/local/token", body={"role": "citizen", "sub": ELISE, "client": "kiosk", "departments": []}
    ).json
    device = api.token("kiosk-grand-place-1", role="kiosk", client="kiosk")
    # Then her session lasts ten minutes, her case is a kiosk case, and the device submits nothing by itself
    assert session["expires_in"] == 600
    created = api.submit(session["access_token"]).json
    assert api.case(created["case_id"], session["access_token"])["channel"] == "kiosk"
    assert api.submit(device).status == 403


def test_a_case_started_at_the_kiosk_continues_on_the_portal_by_its_code(api: Api) -> None:
    # Given a case Élise started at a kiosk, with the code printed on her receipt
    at_kiosk = api.token(ELISE, client="kiosk")
    created = api.submit(at_kiosk).json
    code = created["handoff_code"]
    assert len(code) == 17
    # When she types it on the portal, in lower case without the dash
    on_portal = api.token(ELISE)
    reply = api.request("POST", f"/v1/handoff/{code.replace('-', '').lower()}", token=on_portal)
    # Then she reaches her case, and the QR payload points the portal at it
    assert reply.status == 200, reply.body
    assert reply.json["case_id"] == created["case_id"]
    assert reply.json["handoff_qr"].endswith(f"/continue/{code}")
    # And Pieter, with her code, learns nothing
    assert is_not_found(api.request("POST", f"/v1/handoff/{code}", token=api.token(PIETER)))
    assert is_not_found(api.request("POST", "/v1/handoff/AAAAA-AAAAA-AAAAA", token=on_portal))
    # And a code mistyped (its check character does not match) is told as such, naming it
    mistyped = api.request("POST", f"/v1/handoff/{code[:-1]}{'B' if code[-1] != 'B' else 'C'}", token=on_portal)
    assert mistyped.status == 422
    assert [detail["field"] for detail in mistyped.json["error"]["details"]] == ["code"]


def test_an_anonymous_alert_is_attached_to_an_account_by_its_code(api: Api) -> None:
    # Given an alert reported without an account
    report = api.request(
        "POST",
        "/v1/reports",
        body={
            "procedure_id": "public-space-alert",
            "language": "nl",
            "form": {"category": "graffiti", "description": "Graffiti op de gevel.", "location": GRAND_PLACE},
        },
    ).json
    # When Pieter, who reported it, signs in and gives its code
    pieter = api.token(PIETER)
    attached = api.request("POST", f"/v1/handoff/{report['handoff_code']}", token=pieter)
    # Then it is his: in his cases, with the attachment on its timeline
    assert attached.status == 200, attached.body
    assert "attached" in [entry["event"] for entry in attached.json["timeline"]]
    mine: list[dict[str, Any]] = api.request("GET", "/v1/cases", token=pieter).json["items"]
    assert report["case_id"] in [item["case_id"] for item in mine]
    # And nobody else can take it afterwards
    assert is_not_found(api.request("POST", f"/v1/handoff/{report['handoff_code']}", token=api.token(ELISE)))


def test_my_cases_lists_every_channels_cases_with_their_timeline_and_documents(api: Api, counter_agent: str) -> None:
    # Given Pieter's cases from the portal, a kiosk and the counter
    portal, kiosk = api.token(PIETER), api.token(PIETER, client="kiosk")
    ids = {
        "portal": api.submit(portal).json["case_id"],
        "kiosk": api.submit(kiosk).json["case_id"],
        "counter": api.submit(counter_agent, citizen_nrn=PIETER).json["case_id"],
    }
    for case_id in ids.values():
        api.wait(case_id)
    # When he lists his cases on the portal
    items = {item["case_id"]: item for item in api.request("GET", "/v1/cases", token=portal).json["items"]}
    # Then all three are there, each with its channel, its timeline and its document
    for channel, case_id in ids.items():
        assert items[case_id]["channel"] == channel
        assert items[case_id]["timeline"][-1]["event"] == "completed"
        assert [doc["kind"] for doc in items[case_id]["documents"]] == ["certificate"]
