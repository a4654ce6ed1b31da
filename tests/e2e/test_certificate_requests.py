"""The population certificates and the civil status extract end to end: API -> state machine -> Lambda steps ->
DynamoDB, S3 and the outbox, for each procedure: issued in the language asked, refused by a rule with the reason,
and bad input answered 422 with nothing stored."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from omnicity.domain.city import get_messages
from omnicity.domain.nrn import format_nrn, make_nrn
from tests.conftest import ELISE, PIETER, Api, is_not_found, pdf_text

NOBODY = make_nrn(date(1990, 5, 5), 101)  # a valid number that the simulated register does not hold
GEORGETTE = "31101803648"  # deceased
SIOBHAN = "92093027445"  # Irish, living in 1000 Bruxelles
HUGO = "72030324138"  # Georgette's son

LEA_BIRTH = {"act_type": "birth", "act_number": "2012/B/01847"}  # Élise's daughter
ISSUED_EVENTS = ["submitted", "validated", "eligibility_confirmed", "document_issued", "notified:document_ready"]

# For each procedure: who asks, the form, and per language the document's title and what it must hold.
HAPPY: dict[str, dict[str, Any]] = {
    "household-composition-certificate": {
        "nrn": ELISE,
        "form": {"purpose": "family_allowances"},
        "fr": ["Certificat de composition de ménage", "Marc Fictif personne de référence, né le 2 novembre 1984",
               "Élise Exemplaire épouse, née le 14 mars 1987", "Léa Fictif fille, née le 23 avril 2012",
               "Noé Fictif fils, né le 9 août 2016"],
        "nl": ["Attest van gezinssamenstelling", "Marc Fictif referentiepersoon, geboren op 2 november 1984",
               "Élise Exemplaire echtgenote, geboren op 14 maart 1987", "Léa Fictif dochter, geboren op 23 april 2012",
               "Noé Fictif zoon, geboren op 9 augustus 2016"],
        "en": ["Certificate of household composition", "Marc Fictif reference person, born 2 November 1984",
               "Élise Exemplaire wife, born 14 March 1987", "Léa Fictif daughter, born 23 April 2012",
               "Noé Fictif son, born 9 August 2016"],
    },
    "nationality-certificate": {
        "nrn": PIETER,
        "form": {},
        "fr": ["Certificat de nationalité belge", "Voorbeeld", "Pieter", "Nationalité belge"],
        "nl": ["Bewijs van Belgische nationaliteit", "Voorbeeld", "Pieter", "Nationaliteit Belgische"],
        "en": ["Certificate of Belgian nationality", "Voorbeeld", "Pieter", "Nationality Belgian"],
    },
    "life-certificate": {
        "nrn": SIOBHAN,
        "form": {"purpose": "pension"},
        "fr": ["Certificat de vie", "Sampleton", "Siobhán", "est en vie à la date du présent certificat"],
        "nl": ["Levensbewijs", "Sampleton", "Siobhán", "in leven is op de datum van dit bewijs"],
        "en": ["Life certificate", "Sampleton", "Siobhán", "is alive on the date of this certificate"],
    },
    "residence-history-certificate": {
        "nrn": ELISE,
        "form": {"purpose": "nationality"},
        "fr": ["Certificat de résidence avec historique des adresses", "depuis le 1er septembre 2015",
               "Avenue de la Reine 112, 1020 Laeken", "du 1er juin 2010 au 1er septembre 2015",
               "Rue de Fer 12, 5000 Namur", "du 15 septembre 2005 au 1er juin 2010"],
        "nl": ["Verblijfsattest met adreshistoriek", "sinds 1 september 2015", "Avenue de la Reine 112, 1020 Laken",
               "van 1 juni 2010 tot 1 september 2015", "Rue de Fer 12, 5000 Namen",
               "van 15 september 2005 tot 1 juni 2010"],
        "en": ["Certificate of residence with address history", "since 1 September 2015",
               "Avenue de la Reine 112, 1020 Laeken/Laken", "from 1 June 2010 to 1 September 2015",
               "Rue de Fer 12, 5000 Namur/Namen", "from 15 September 2005 to 1 June 2010"],
    },
    "civil-status-extract": {
        "nrn": ELISE,
        "form": LEA_BIRTH,
        "fr": ["Extrait d'acte de naissance", "2012/B/01847", "Date de naissance 23 avril 2012",
               "Lieu de naissance Bruxelles", "Enfant Nom Fictif Prénom(s) Léa", "Mère Nom Exemplaire Prénom(s) Élise",
               "Père Nom Fictif Prénom(s) Marc"],
        "nl": ["Uittreksel uit de geboorteakte", "2012/B/01847", "Geboortedatum 23 april 2012",
               "Geboorteplaats Brussel", "Kind Naam Fictif Voornaam/voornamen Léa",
               "Moeder Naam Exemplaire Voornaam/voornamen Élise", "Vader Naam Fictif Voornaam/voornamen Marc"],
        "en": ["Extract of a birth record", "2012/B/01847", "Date of birth 23 April 2012", "Place of birth Brussels",
               "Child Surname Fictif Given name(s) Léa", "Mother Surname Exemplaire Given name(s) Élise",
               "Father Surname Fictif Given name(s) Marc"],
    },
}  # fmt: skip


def submit(api: Api, token: str, procedure_id: str, language: str, form: dict[str, Any]) -> Any:
    return api.submit(token, language=language, form=form, procedure_id=procedure_id)


def run(api: Api, token: str, procedure_id: str, language: str, form: dict[str, Any]) -> dict[str, Any]:
    """Submit, wait for the workflow to end, and return the case as its owner sees it."""
    reply = submit(api, token, procedure_id, language, form)
    assert reply.status == 201, reply.body
    assert api.wait(reply.json["case_id"])["status"] == "SUCCEEDED"
    return api.case(reply.json["case_id"], token)


# ---------------------------------------------------------------------------------------------------- issued
@pytest.mark.parametrize("language", ["fr", "nl", "en"])
@pytest.mark.parametrize("procedure_id", sorted(HAPPY))
def test_the_document_is_issued_at_once_in_the_language_asked(
    api: Api, s3: Any, procedure_id: str, language: str
) -> None:
    # Given a citizen the procedure admits, signed in on the portal
    scenario = HAPPY[procedure_id]
    token = api.token(scenario["nrn"])
    # When they ask for the document in `language`
    case = run(api, token, procedure_id, language, scenario["form"])

    # Then the case is completed with one document in that language, through every step
    assert case["status"] == "completed", case.get("reason")
    assert [doc["language"] for doc in case["documents"]] == [language]
    assert [entry["event"] for entry in case["timeline"]][: len(ISSUED_EVENTS)] == ISSUED_EVENTS
    assert case["timeline"][-1]["event"] == "completed"
    # And the PDF holds the title in that language and the key data, with the reference and both city names
    text = pdf_text(s3, case["case_id"], case["documents"][0]["document_id"])
    for part in scenario[language]:
        assert part in text, part
    assert case["reference"] in text
    assert "Ville de Bruxelles" in text
    assert "Stad Brussel" in text
    for other in {"fr", "nl", "en"} - {language}:
        if scenario[other][0] not in scenario[language][0]:
            assert scenario[other][0] not in text
    # And the citizen was told once
    assert len([mail for mail in api.outbox() if case["reference"] in mail["subject"]]) == 1


def test_a_certificate_names_the_applicant_and_their_number(api: Api, s3: Any) -> None:
    # Given Pieter / When he gets a life certificate at a kiosk / Then it is his, and the case has the kiosk channel
    token = api.token(PIETER, client="kiosk")
    case = run(api, token, "life-certificate", "nl", {})
    assert case["channel"] == "kiosk"
    text = pdf_text(s3, case["case_id"], case["documents"][0]["document_id"])
    assert "Pieter" in text
    assert "Voorbeeld" in text
    assert format_nrn(PIETER) in text


def test_a_descendant_gets_the_death_act_of_a_parent(api: Api, s3: Any) -> None:
    # Given Hugo, son of the deceased Georgette / When he asks for her death act
    token = api.token(HUGO)
    case = run(api, token, "civil-status-extract", "fr", {"act_type": "death", "act_number": "2024/D/00388"})
    # Then the extract is issued, with the act's date and the deceased
    assert case["status"] == "completed"
    text = pdf_text(s3, case["case_id"], case["documents"][0]["document_id"])
    assert "Extrait d'acte de décès" in text
    assert "Date du décès 7 février 2024" in text
    assert "Personne décédée Nom Prototype Prénom(s) Georgette" in text


# ---------------------------------------------------------------------------------------------------- refused
@pytest.mark.parametrize(
    ("procedure_id", "nrn", "form", "code"),
    [
        ("household-composition-certificate", GEORGETTE, {}, "deceased"),
        ("nationality-certificate", SIOBHAN, {}, "not_belgian"),
        ("life-certificate", GEORGETTE, {"purpose": "pension"}, "deceased"),
        ("residence-history-certificate", NOBODY, {}, "not_in_register"),
        ("civil-status-extract", PIETER, LEA_BIRTH, "civil_status_act_restricted"),
        ("civil-status-extract", ELISE, LEA_BIRTH | {"act_type": "marriage"}, "civil_status_act_not_found"),
    ],
)
def test_a_rule_refuses_with_the_reason_in_three_languages(
    api: Api, procedure_id: str, nrn: str, form: dict[str, Any], code: str
) -> None:
    # Given a citizen the procedure's rules do not admit
    token = api.token(nrn)
    # When they ask for the document
    case = run(api, token, procedure_id, "fr", form)
    # Then the case is rejected with the rule's reason in fr, nl and en, and no document is issued
    assert case["status"] == "rejected"
    assert case["reason"] == get_messages().reason(code).model_dump()
    assert case["documents"] == []
    assert "rejected" in [entry["event"] for entry in case["timeline"]]
    assert "document_issued" not in [entry["event"] for entry in case["timeline"]]


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("procedure_id", "form", "fields"),
    [
        ("household-composition-certificate", {"purpose": "tourism"}, {"form.purpose"}),
        ("nationality-certificate", {"purpose": "tourism"}, {"form.purpose"}),
        ("life-certificate", {"purpose": 3}, {"form.purpose"}),
        ("residence-history-certificate", {"purpose": "tourism", "since": "2010"}, {"form.purpose", "form.since"}),
        ("civil-status-extract", {"act_type": "divorce", "act_number": "12/B/1"}, {"form.act_type", "form.act_number"}),
        ("civil-status-extract", {"act_type": "birth", "act_number": "2012/X/01847"}, {"form.act_number"}),
        ("civil-status-extract", {"act_number": "2012/B/01847"}, {"form.act_type"}),
    ],
)
def test_bad_input_is_422_naming_each_form_field_and_stores_nothing(
    api: Api, procedure_id: str, form: dict[str, Any], fields: set[str]
) -> None:
    # Given Élise's current number of cases
    token = api.token(ELISE)
    before = api.case_count(token)
    # When she submits a form with bad fields
    reply = submit(api, token, procedure_id, "en", form)
    # Then each bad field is named in one 422, and no case was created
    assert reply.status == 422, reply.body
    error = reply.json["error"]
    assert error["code"] == "validation_failed"
    assert {detail["field"] for detail in error["details"]} == fields
    assert all(detail["reason"] for detail in error["details"])
    assert api.case_count(token) == before


# ---------------------------------------------------------------------------------------------------- departments
def test_the_civil_status_department_reads_extract_cases_and_population_does_not(api: Api) -> None:
    # Given a civil status extract issued to Élise
    case = run(api, api.token(ELISE), "civil-status-extract", "en", LEA_BIRTH)
    civil_status = api.token("agent-101", role="agent", client="counter", departments=["civil_status"])
    population = api.token("agent-102", role="agent", client="counter", departments=["population"])
    # When agents of each department read it / Then only civil status sees it; population gets the same 404 as none
    assert api.request("GET", f"/v1/cases/{case['case_id']}", token=civil_status).status == 200
    assert is_not_found(api.request("GET", f"/v1/cases/{case['case_id']}", token=population))
