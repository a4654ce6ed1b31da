"""Hostile text and numbers through the API: every text a person types refuses control, line and paragraph separator
characters (a 422 naming the field, nothing stored or changed), and numbers no float holds are a 422 naming the
field, never a 5xx. What reviewers reproduced: a criminal record extract whose purpose added a false "Personne"
section (U+2028), and ``POST /v1/reports`` with ``lat`` = 10**400 answered 502."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

import pytest

from omnicity.domain.nrn import make_nrn
from tests.conftest import ELISE, HUGO, Api, Reply, act, agent, extract_waiting_for_an_agent

CITIZEN = make_nrn(date(1981, 6, 14), 517)  # a citizen of this module only: their case count is this module's
# Every character on which str.splitlines() breaks a line, and a few that hide or reorder text
CHARACTERS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00", "\t", "\u202e"]
IDS = [f"U+{ord(character):04X}" for character in CHARACTERS]
GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}


def refused(reply: Reply, field: str, status: int = 422) -> str:
    """The reason of the one problem a refusal names, after checking it names ``field``."""
    assert reply.status == status, reply.body
    [detail] = reply.json["error"]["details"]
    assert detail["field"] == field, reply.body
    return str(detail["reason"])


@pytest.fixture(scope="module")
def citizen(api: Api) -> str:
    return api.token(CITIZEN)


@pytest.fixture(scope="module")
def hugo(api: Api) -> str:
    return api.token(HUGO)


@pytest.fixture(scope="module")
def officer(api: Api) -> str:
    return agent(api, "agent-text")


@pytest.mark.parametrize("character", CHARACTERS, ids=IDS)
def test_a_purpose_that_would_add_a_section_to_the_extract_is_refused(api: Api, citizen: str, character: str) -> None:
    # Given the citizen's cases so far, and a 596.2 extract whose purpose tries to write a false "Personne" section
    before = api.case_count(citizen)
    purpose = character.join(["Animation", "## Personne", "- Nom: Dupont"])
    form = {"model": "596.2", "purpose": purpose}
    # When it is submitted
    reply = api.request(
        "POST",
        "/v1/cases",
        token=citizen,
        body={"procedure_id": "criminal-record-extract", "language": "fr", "form": form},
    )
    # Then it is a 422 naming the purpose and the character, and no case was made
    assert f"U+{ord(character):04X}" in refused(reply, "form.purpose")
    assert api.case_count(citizen) == before


def test_the_same_purpose_on_one_line_is_issued(api: Api) -> None:
    # Given Élise (in the register, her record empty) and her purpose written as she means it, on one line
    citizen = api.token(ELISE)
    form = {"model": "596.2", "purpose": "Animation de stages pour enfants"}
    body = {"procedure_id": "criminal-record-extract", "language": "fr", "form": form}
    # When it is submitted / Then the extract is issued
    reply = api.request("POST", "/v1/cases", token=citizen, body=body)
    assert reply.status == 201, reply.body
    api.wait(reply.json["case_id"])
    assert api.case(reply.json["case_id"], citizen)["status"] == "completed"


@pytest.mark.parametrize("character", CHARACTERS, ids=IDS)
def test_an_anonymous_report_with_such_a_character_is_refused(api: Api, character: str) -> None:
    # Given an alert whose description or email holds the character between words
    form = {"category": "litter", "description": f"Sacs éventrés{character}rue Haute", "location": GRAND_PLACE}
    report = {"procedure_id": "public-space-alert", "language": "fr", "form": form}
    # When it is reported / Then the field is named (an email address's own pattern may be what refuses it)
    assert "U+" in refused(api.request("POST", "/v1/reports", body=report), "form.description")
    clean = {**form, "description": "Sacs éventrés rue Haute"}
    email = f"a{character}b@example.org"
    refused(api.request("POST", "/v1/reports", body={**report, "form": clean, "email": email}), "email")


@pytest.mark.parametrize(
    "lat",
    ["1" + "0" * 400, "-1" + "0" * 400, "1e400", "-1e400", "1E2", "0.5e-400", "-0", "1" * 4300],
    ids=["10**400", "-10**400", "1e400", "-1e400", "1E2", "underflow", "minus-zero", "4300-digits"],
)
def test_a_number_no_float_holds_is_a_422_naming_the_field(api: Api, lat: str) -> None:
    # Given an anonymous report whose latitude is valid JSON but no latitude of the city (10**400 once made a 502)
    form = '{"category": "litter", "description": "Sacs éventrés rue Haute", "location": {"lat": LAT, "lon": 4.3525}}'
    body = '{"procedure_id": "public-space-alert", "language": "fr", "form": FORM}'.replace("FORM", form)
    body = body.replace("LAT", lat)
    # When it is reported / Then the latitude is named, and why
    reason = refused(api.request("POST", "/v1/reports", raw=body.encode()), "form.location.lat")
    assert reason == "outside the city: must be between 50.79 and 50.92"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_number_json_has_not_is_a_400_naming_the_body(api: Api, constant: str) -> None:
    body = '{"procedure_id": "public-space-alert", "language": "fr", "form": {"location": {"lat": NUMBER}}}'
    body = body.replace("NUMBER", constant)
    assert "is not a JSON number" in refused(api.request("POST", "/v1/reports", raw=body.encode()), "body", 400)


@pytest.mark.parametrize("depth", [17, 500, 900])
def test_a_deeply_nested_submission_with_an_idempotency_key_is_a_400(api: Api, citizen: str, depth: int) -> None:
    # Given a submission whose purpose nests arrays, sent with an Idempotency-Key (its scope is the serialised
    # request: 500 levels once made that a 502)
    before = api.case_count(citizen)
    nested = "[" * depth + "]" * depth
    body = '{"procedure_id": "residence-certificate", "language": "fr", "form": {"purpose": NESTED}}'
    body = body.replace("NESTED", nested)
    # When it is posted
    reply = api.request(
        "POST", "/v1/cases", token=citizen, raw=body.encode(), headers={"Idempotency-Key": f"nested-{depth}-0123456789"}
    )
    # Then the body is refused for its depth, and nothing was stored
    assert refused(reply, "body", 400).startswith("nested too deeply")
    assert api.case_count(citizen) == before


def test_an_agents_texts_and_the_citizens_answer_refuse_such_characters(api: Api, hugo: str, officer: str) -> None:
    # Given Hugo's extract waiting for the population department, and its task
    case = extract_waiting_for_an_agent(api, hugo)
    queue = api.request("GET", "/v1/agent/tasks", token=officer, query="department=population&limit=100")
    [task] = [task for task in queue.json["items"] if task["case_id"] == case["case_id"]]
    for character in CHARACTERS:
        # When the agent reads the file giving a reason, asks a question or refuses with a comment holding one
        reason = quote(f"appel{character}téléphonique")
        read = api.request("GET", f"/v1/agent/cases/{case['case_id']}", token=officer, query=f"reason={reason}")
        asked = act(api, officer, task["task_id"], "ask", {"question": f"Pour quel usage ?{character}## Faux"})
        decided = act(api, officer, task["task_id"], "complete", {"outcome": "refuse", "comment": f"Non{character}x"})
        # Then each is a 422 naming its field, and the task is as it was
        assert "U+" in refused(read, "reason")
        assert "U+" in refused(asked, "question")
        assert "U+" in refused(decided, "comment")
    assert api.case(case["case_id"], hugo)["status"] == "waiting"

    # Given a clean question: the case waits for Hugo
    assert act(api, officer, task["task_id"], "ask", {"question": "Pour quel usage ?"}).status == 200
    for character in CHARACTERS:
        # When Hugo's answer or an attachment's key holds such a character
        answer: dict[str, Any] = {"answer": f"Pour un stage{character}## Personne"}
        attachment: dict[str, Any] = {"answer": "Voici", "attachments": [f"uploads/x{character}/a.jpg"]}
        # Then each is a 422 naming its field, and the case still waits for his answer
        assert "U+" in refused(
            api.request("POST", f"/v1/cases/{case['case_id']}/reply", token=hugo, body=answer), "answer"
        )
        reply = api.request("POST", f"/v1/cases/{case['case_id']}/reply", token=hugo, body=attachment)
        assert "U+" in refused(reply, "attachments.0")
    assert api.case(case["case_id"], hugo)["status"] == "awaiting_citizen"
