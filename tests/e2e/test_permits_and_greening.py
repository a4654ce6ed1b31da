"""The street artist permit and the greening request end to end: API -> state machine -> an agent's task in the
department in charge -> the agent's decision through the API -> the permit or the letter in S3 in the case's language
and the email; a refusal with the agent's reason; a refusal by a rule; bad input answered 422 with nothing stored."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from omnicity.domain.city import get_messages
from omnicity.domain.models import today_in_brussels
from omnicity.domain.nrn import make_nrn
from tests.conftest import ELISE, PIETER, Api, documents_bucket, pdf_text

NOBODY = make_nrn(date(1990, 5, 5), 101)  # a valid number that the simulated register does not hold
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64
START = today_in_brussels() + timedelta(days=14)

PERMIT = "street-artist-permit"
GREENING = "greening-request"
DEPARTMENTS = {PERMIT: "events", GREENING: "green_spaces"}
KINDS = {PERMIT: "review", GREENING: "visit"}


def permit_form(**change: Any) -> dict[str, Any]:
    return {
        "artist_name": "Les Frères Jongleurs",
        "discipline": "juggling",
        "amplified": False,
        "start_date": START.isoformat(),
        "end_date": (START + timedelta(days=90)).isoformat(),
        "zones": ["mont_des_arts", "sainte_catherine"],
        **change,
    }


def greening_form(**change: Any) -> dict[str, Any]:
    return {
        "kind": "facade_garden",
        "address": {"street": "Rue des Chartreux", "number": "41", "postal_code": "1000"},
        "description": "Une bande de 30 cm de vivaces et une glycine le long de la façade.",
        "owner_consent": True,
        **change,
    }


FORMS = {PERMIT: permit_form, GREENING: greening_form}


def submit(api: Api, token: str, procedure_id: str, form: dict[str, Any], language: str = "fr") -> Any:
    return api.submit(token, language=language, form=form, procedure_id=procedure_id)


def agent_of(api: Api, procedure_id: str) -> str:
    department = DEPARTMENTS[procedure_id]
    return api.token(f"agent-{department}", role="agent", client="counter", departments=[department])


def open_task(api: Api, agent: str, department: str, reference: str) -> dict[str, Any] | None:
    queue = api.request("GET", "/v1/agent/tasks", token=agent, query=f"department={department}&status=open")
    assert queue.status == 200, queue.body
    return next((task for task in queue.json["items"] if task["reference"] == reference), None)


def decide(api: Api, agent: str, task: dict[str, Any], outcome: str, comment: str | None = None) -> None:
    body = {"outcome": outcome} | ({"comment": comment} if comment else {})
    reply = api.request("POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body=body)
    assert reply.status == 200, reply.body


def upload(api: Api, token: str) -> str:
    """Ask for an upload slot and put a photo where it says (the browser would POST the form to the URL)."""
    slot = api.request("POST", "/v1/uploads", token=token, body={"content_type": "image/jpeg"})
    assert slot.status == 201, slot.body
    bucket = documents_bucket(boto3.client("s3"))
    boto3.client("s3").put_object(Bucket=bucket, Key=slot.json["key"], Body=JPEG, ContentType="image/jpeg")
    return str(slot.json["key"])


def mails_about(api: Api, reference: str) -> list[dict[str, Any]]:
    return [mail for mail in api.outbox() if reference in mail["subject"]]


# ---------------------------------------------------------------------------------------------------- approved
PERMIT_TEXT = {
    "fr": ["Autorisation d'artiste de rue", "Nom d'artiste Les Frères Jongleurs", "Titulaire Pieter Voorbeeld",
           "Discipline Jonglerie", "Zones Mont des Arts, Place Sainte-Catherine", "Sonorisation non",
           "Code de vérification"],
    "nl": ["Vergunning voor straatartiesten", "Artiestennaam Les Frères Jongleurs", "Houder Pieter Voorbeeld",
           "Discipline Jongleren", "Zones Kunstberg, Sint-Katelijneplein", "Geluidsversterking neen",
           "Verificatiecode"],
    "en": ["Street artist permit", "Artist name Les Frères Jongleurs", "Holder Pieter Voorbeeld",
           "Discipline Juggling", "Zones Mont des Arts (Kunstberg), Place Sainte-Catherine (Sint-Katelijneplein)",
           "Amplified sound no", "Verification code"],
}  # fmt: skip
GREENING_TEXT = {
    "fr": ["Autorisation de verdurisation", "Aménagement Façade fleurie",
           "Adresse Rue des Chartreux 41, 1000 Bruxelles", "au moins 1,50 mètre", "Code de vérification"],
    "nl": ["Toelating tot vergroening", "Inrichting Geveltuin", "Adres Rue des Chartreux 41, 1000 Brussel",
           "minstens 1,50 meter", "Verificatiecode"],
    "en": ["Greening permission", "Kind of greening Facade garden",
           "Address Rue des Chartreux 41, 1000 Bruxelles/Brussel", "at least 1.50 metres", "Verification code"],
}  # fmt: skip


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_an_approved_permit_is_issued_in_the_case_language(api: Api, s3: Any, language: str) -> None:
    # Given Pieter, a juggler, on a kiosk
    token = api.token(PIETER, client="kiosk")
    # When he asks for a permit for two zones and three months
    reply = submit(api, token, PERMIT, permit_form(), language)
    assert reply.status == 201, reply.body
    created = reply.json
    # Then the case waits for an agent of the events department, whose queue holds a review task
    waiting = api.wait_for_status(created["case_id"], token, "waiting")
    assert waiting["timeline"][-1]["event"] == "task_opened:review"
    agent = agent_of(api, PERMIT)
    task = open_task(api, agent, "events", created["reference"])
    assert task is not None
    assert (task["kind"], task["outcomes"], task["procedure_id"]) == ("review", ["approve", "refuse"], PERMIT)
    assert open_task(api, agent_of(api, GREENING), "green_spaces", created["reference"]) is None
    # When the agent approves
    decide(api, agent, task, "approve")
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    # Then the case is completed with the permit in his language: the terms, the period and the verification code
    case = api.case(created["case_id"], token)
    assert case["status"] == "completed"
    assert case["outcome"] == "approve"
    assert [(doc["kind"], doc["language"]) for doc in case["documents"]] == [("permit", language)]
    document_id = case["documents"][0]["document_id"]
    text = pdf_text(s3, case["case_id"], document_id)
    for part in PERMIT_TEXT[language]:
        assert part in text, part
    assert f"{PERMIT_TEXT[language][-1]} {document_id}" in text  # in the body, not only in the footer
    assert START.strftime("%Y") in text
    assert case["reference"] in text
    # And Pieter was told once, in his language
    mails = mails_about(api, case["reference"])
    assert len(mails) == 1
    assert PERMIT_TEXT[language][0] in mails[0]["subject"]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_a_greening_request_is_visited_then_approved_with_a_letter(api: Api, s3: Any, language: str) -> None:
    # Given Élise, with a photo of her facade
    token = api.token(ELISE)
    photo = upload(api, token)
    # When she asks for a facade garden
    reply = submit(api, token, GREENING, greening_form(photos=[photo]), language)
    assert reply.status == 201, reply.body
    created = reply.json
    # Then the green spaces department has a visit to make
    waiting = api.wait_for_status(created["case_id"], token, "waiting")
    assert waiting["timeline"][-1]["event"] == "task_opened:visit"
    agent = agent_of(api, GREENING)
    task = open_task(api, agent, "green_spaces", created["reference"])
    assert task is not None
    assert (task["kind"], task["outcomes"]) == ("visit", ["approve", "refuse"])
    # When the agent approves after the visit, with a remark
    decide(api, agent, task, "approve", "Glycine côté gauche de la porte uniquement.")
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    # Then the letter is issued in her language, with the address, the kind, the conditions and the remark
    case = api.case(created["case_id"], token)
    assert case["status"] == "completed"
    assert case["form"]["photos"] == [photo]
    assert [(doc["kind"], doc["language"]) for doc in case["documents"]] == [("letter", language)]
    text = pdf_text(s3, case["case_id"], case["documents"][0]["document_id"])
    for part in GREENING_TEXT[language]:
        assert part in text, part
    assert "Glycine côté gauche de la porte uniquement." in text
    assert "Exemplaire" in text
    # And she was told once
    assert len(mails_about(api, case["reference"])) == 1


# ---------------------------------------------------------------------------------------------------- refused
@pytest.mark.parametrize(
    ("procedure_id", "comment"),
    [
        (PERMIT, "La place Sainte-Catherine accueille le marché de Noël à ces dates."),
        (GREENING, "Le trottoir ne fait que 1,60 m : pas de place pour une façade fleurie."),
    ],
)
def test_an_agent_refuses_with_a_reason(api: Api, procedure_id: str, comment: str) -> None:
    # Given a request waiting for its department
    token = api.token(ELISE)
    created = submit(api, token, procedure_id, FORMS[procedure_id]()).json
    api.wait_for_status(created["case_id"], token, "waiting")
    agent = agent_of(api, procedure_id)
    task = open_task(api, agent, DEPARTMENTS[procedure_id], created["reference"])
    assert task is not None
    # When the agent refuses, saying why
    decide(api, agent, task, "refuse", comment)
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    # Then the case is rejected with the reason, no document is issued, and the citizen is told why
    case = api.case(created["case_id"], token)
    assert case["status"] == "rejected"
    assert case["reason"]["fr"] == f"{get_messages().reason('refused_after_review').fr} {comment}"
    assert case["documents"] == []
    mails = mails_about(api, created["reference"])
    assert len(mails) == 1
    assert comment in mails[0]["body"]


@pytest.mark.parametrize("procedure_id", [PERMIT, GREENING])
def test_someone_the_register_does_not_hold_is_refused_without_a_task(api: Api, procedure_id: str) -> None:
    # Given a valid national register number the register does not hold
    token = api.token(NOBODY)
    # When they ask
    reply = submit(api, token, procedure_id, FORMS[procedure_id](), "en")
    assert reply.status == 201, reply.body
    assert api.wait(reply.json["case_id"])["status"] == "SUCCEEDED"
    # Then the rule refuses it with its reason, and no agent is bothered
    case = api.case(reply.json["case_id"], token)
    assert case["status"] == "rejected"
    assert case["reason"] == get_messages().reason("not_in_register").model_dump()
    assert not any(entry["event"].startswith("task_opened") for entry in case["timeline"])


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("procedure_id", "form", "fields"),
    [
        (PERMIT, permit_form(end_date=(START + timedelta(days=400)).isoformat()), {"form.end_date"}),
        (PERMIT, permit_form(end_date=(START - timedelta(days=1)).isoformat()), {"form.end_date"}),
        (PERMIT, permit_form(zones=["bourse", "rue_neuve", "sablon", "atomium"]), {"form.zones"}),
        (PERMIT, permit_form(zones=["bourse", "place_flagey"]), {"form.zones[1]"}),
        (PERMIT, permit_form(amplified=True, zones=["ilot_sacre"]), {"form.amplified"}),
        (PERMIT, permit_form(discipline="fire_eating", artist_name=" "), {"form.discipline", "form.artist_name"}),
        (GREENING, greening_form(owner_consent=False), {"form.owner_consent"}),
        (
            GREENING,
            greening_form(address={"street": "Chaussée de Haecht", "number": "2", "postal_code": "1030"}),
            {"form.address.postal_code"},
        ),
        (
            GREENING,
            greening_form(kind="hedge", photos=["uploads/someone-else/abc.jpg"]),
            {"form.kind", "form.photos[0]"},
        ),
    ],
)
def test_bad_input_is_422_naming_each_field_and_stores_nothing(
    api: Api, procedure_id: str, form: dict[str, Any], fields: set[str]
) -> None:
    # Given Élise's current number of cases
    token = api.token(ELISE)
    before = api.case_count(token)
    # When she submits a form with bad fields
    reply = submit(api, token, procedure_id, form, "nl")
    # Then each bad field is named in one 422, and no case was created
    assert reply.status == 422, reply.body
    assert reply.json["error"]["code"] == "validation_failed"
    assert {detail["field"] for detail in reply.json["error"]["details"]} == fields
    assert all(detail["reason"] for detail in reply.json["error"]["details"])
    assert api.case_count(token) == before


def test_the_forms_are_published_with_their_rules(api: Api) -> None:
    # Given the catalogue / When a kiosk reads each procedure / Then the form schema names the cross-field rules
    published = {
        PERMIT: ({"period_at_most_12_months", "no_amplified_sound_in_quiet_zones"}, {"zones", "amplified"}),
        GREENING: ({"owner_consent_given"}, {"address", "owner_consent"}),
    }
    for procedure_id, (rules, required) in published.items():
        reply = api.request("GET", f"/v1/procedures/{procedure_id}")
        assert reply.status == 200, reply.body
        schema = reply.json["form_schema"]
        assert {rule["name"] for rule in schema["x-rules"]} == rules
        assert required <= set(schema["required"])
        assert "photos" not in schema["required"]
