"""The population certificates, the civil status extract and the criminal record extract: their catalogue entries,
their eligibility rules, their context builders and their templates, rendered to PDF in fr, nl and en (text read back
with pypdf) against the bundled registers."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pypdf
import pytest

from omnicity.adapters.registries import Registers, get_registers
from omnicity.adapters.registries.national import SimulatedNationalRegister, get_national_register
from omnicity.adapters.rendering import render_document
from omnicity.catalogue import get_catalogue
from omnicity.catalogue.document_contexts import build_context
from omnicity.catalogue.eligibility import (
    alive_in_register,
    belgian_national,
    check,
    civil_status_act_access,
    criminal_record_entries,
    has_criminal_record_entries,
)
from omnicity.domain.errors import StepInputError
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language
from omnicity.domain.nrn import format_nrn, make_nrn

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
ISSUED_ON = date(2026, 11, 29)
REFERENCE = "BXL-2026-000042"
DOCUMENT_ID = "doc-5f0c2a7e91d34b8a6c10"
VERIFY_URL = f"https://my.brussels.example/verify/{DOCUMENT_ID}"
LANGUAGES = ["fr", "nl", "en"]

ELISE, MARC, LEA, PIETER, GRIET = "87031413235", "84110221118", "12042312477", "79051708730", "81120504637"
GIULIA, HUGO, GEORGETTE, SIOBHAN = "90062131814", "72030324138", "31101803648", "92093027445"
NOBODY = make_nrn(date(1990, 5, 5), 101)

NEW_PROCEDURES = [
    "household-composition-certificate",
    "nationality-certificate",
    "life-certificate",
    "residence-history-certificate",
    "civil-status-extract",
]
TITLES = {
    "household-composition-certificate": {
        "fr": "Certificat de composition de ménage",
        "nl": "Attest van gezinssamenstelling",
        "en": "Certificate of household composition",
    },
    "nationality-certificate": {
        "fr": "Certificat de nationalité belge",
        "nl": "Bewijs van Belgische nationaliteit",
        "en": "Certificate of Belgian nationality",
    },
    "life-certificate": {"fr": "Certificat de vie", "nl": "Levensbewijs", "en": "Life certificate"},
    "residence-history-certificate": {
        "fr": "Certificat de résidence avec historique des adresses",
        "nl": "Verblijfsattest met adreshistoriek",
        "en": "Certificate of residence with address history",
    },
    "criminal-record-extract": {
        "fr": "Extrait de casier judiciaire",
        "nl": "Uittreksel uit het strafregister",
        "en": "Extract from the criminal record",
    },
}


def _case(procedure_id: str, nrn: str, language: str = "fr", form: dict[str, Any] | None = None) -> Case:
    return Case(
        case_id="case-1",
        reference=REFERENCE,
        procedure_id=procedure_id,
        applicant=Applicant(nrn=nrn),
        channel=Channel.PORTAL,
        language=Language(language),
        form=form or {},
        status=CaseStatus.IN_PROGRESS,
        timeline=[],
        submitted_by="citizen",
        created_at=NOW,
        updated_at=NOW,
    )


def _context(
    procedure_id: str, nrn: str, language: str, form: dict[str, Any] | None = None, registers: Registers | None = None
) -> dict[str, Any]:
    procedure, case = get_catalogue().get(procedure_id), _case(procedure_id, nrn, language, form)
    return build_context(
        procedure,
        case,
        registers or get_registers(),
        document_id=DOCUMENT_ID,
        issued_on=ISSUED_ON,
        verification_url=VERIFY_URL,
    )


def render(
    procedure_id: str, nrn: str, language: str, form: dict[str, Any] | None = None, registers: Registers | None = None
) -> str:
    """The PDF the document step would issue, as text with whitespace collapsed (wrapping is layout)."""
    procedure = get_catalogue().get(procedure_id)
    assert procedure.document is not None
    context = _context(procedure_id, nrn, language, form, registers)
    pdf = render_document(procedure.document.template, language, context)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def assert_issued(text: str, titles: dict[str, str], language: str, *names: str) -> None:
    """The common part: the title in the language asked (and in no other), the names, the reference, both city names."""
    assert titles[language] in text
    for other, title in titles.items():
        if other != language and title not in titles[language]:
            assert title not in text, other
    for name in names:
        assert name in text
    assert REFERENCE in text
    assert DOCUMENT_ID in text
    assert "Ville de Bruxelles" in text
    assert "Stad Brussel" in text


def in_order(text: str, *parts: str) -> bool:
    positions = [text.find(part) for part in parts]
    return -1 not in positions and positions == sorted(positions)


# ---------------------------------------------------------------------------------------------------- catalogue
@pytest.mark.parametrize("procedure_id", NEW_PROCEDURES)
def test_each_new_procedure_is_a_free_document_issued_at_once_on_every_channel(procedure_id: str) -> None:
    # Given the procedure's catalogue entry
    procedure = get_catalogue().get(procedure_id)

    # Then it is a free document request, issued at once, on the portal, the kiosks and the counter
    assert procedure.family == "document_request"
    assert procedure.fee_cents == 0
    assert procedure.sla_business_days == 0
    assert set(procedure.channels) == set(Channel)
    assert procedure.department == ("civil_status" if procedure_id == "civil-status-extract" else "population")
    assert procedure.document is not None


# ---------------------------------------------------------------------------------------------------- eligibility
@pytest.mark.parametrize(
    ("procedure_id", "nrn", "reason"),
    [
        ("household-composition-certificate", ELISE, None),
        ("household-composition-certificate", NOBODY, "not_in_register"),
        ("nationality-certificate", PIETER, None),
        ("nationality-certificate", SIOBHAN, "not_belgian"),  # Irish, living in the city
        ("nationality-certificate", GIULIA, "not_belgian"),
        ("life-certificate", ELISE, None),
        ("life-certificate", GEORGETTE, "deceased"),
        ("life-certificate", NOBODY, "not_in_register"),
        ("residence-history-certificate", HUGO, None),
        ("residence-history-certificate", GEORGETTE, "deceased"),
    ],
)
def test_each_certificate_admits_or_refuses_with_the_reason(procedure_id: str, nrn: str, reason: str | None) -> None:
    # Given an applicant / When the procedure's rules are checked / Then the verdict and its reason
    verdict = check(get_catalogue().get(procedure_id), _case(procedure_id, nrn), get_registers())
    assert verdict.eligible is (reason is None)
    assert verdict.reason == reason


def test_the_single_rules_refuse_for_their_own_reason() -> None:
    registers = get_registers()
    assert alive_in_register(_case("life-certificate", ELISE), registers) is None
    assert alive_in_register(_case("life-certificate", GEORGETTE), registers) == "deceased"
    assert alive_in_register(_case("life-certificate", NOBODY), registers) == "not_in_register"
    assert belgian_national(_case("nationality-certificate", NOBODY), registers) == "not_in_register"
    assert belgian_national(_case("nationality-certificate", format_nrn(PIETER)), registers) is None


@pytest.mark.parametrize(
    ("nrn", "act_type", "act_number", "reason"),
    [
        (ELISE, "birth", "1987/B/00123", None),  # her own birth
        (MARC, "birth", "1987/B/00123", None),  # his wife's
        (ELISE, "birth", "2012/B/01847", None),  # her daughter's
        (LEA, "marriage", "2011/M/00412", None),  # her parents' marriage
        (HUGO, "death", "2024/D/00388", None),  # his mother's death
        (PIETER, "birth", "1898/B/00872", None),  # anyone: over 100 years old
        (NOBODY, "marriage", "1924/M/00419", None),  # anyone, even someone the register does not hold
        (PIETER, "birth", "2012/B/01847", "civil_status_act_restricted"),
        (ELISE, "death", "2024/D/00388", "civil_status_act_restricted"),
        (ELISE, "birth", "2012/B/99999", "civil_status_act_not_found"),
        (ELISE, "death", "2012/B/01847", "civil_status_act_not_found"),  # the number of an act of another type
    ],
)
def test_civil_status_act_access(nrn: str, act_type: str, act_number: str, reason: str | None) -> None:
    # Given an applicant asking for an act / When the rule runs / Then it admits them or says why not
    case = _case("civil-status-extract", nrn, form={"act_type": act_type, "act_number": act_number})
    assert civil_status_act_access(case, get_registers()) == reason


def test_civil_status_act_access_without_the_form_it_needs_is_a_step_error() -> None:
    with pytest.raises(StepInputError, match="act_type"):
        civil_status_act_access(_case("civil-status-extract", ELISE, form={"act_type": "divorce"}), get_registers())


def test_criminal_record_entries_tell_whether_the_extract_needs_a_review() -> None:
    # Given Hugo (two entries) and Élise (none) asking for a general extract
    registers = get_registers()
    hugo = _case("criminal-record-extract", HUGO, form={"model": "595"})
    elise = _case("criminal-record-extract", ELISE, form={"model": "595"})

    # Then Hugo's entries are there, oldest first, and only his extract needs a review
    assert [entry.decided_on for entry in criminal_record_entries(hugo, registers)] == [
        date(2014, 6, 12),
        date(2019, 3, 21),
    ]
    assert has_criminal_record_entries(hugo, registers)
    assert not has_criminal_record_entries(elise, registers)
    # And a form without a model is a step error, not a clean record
    with pytest.raises(StepInputError, match="model"):
        has_criminal_record_entries(_case("criminal-record-extract", HUGO), registers)


# ---------------------------------------------------------------------------------------------------- household
HOUSEHOLD_ROWS = {
    "fr": [
        "Marc Fictif personne de référence, né le 2 novembre 1984",
        "Élise Exemplaire épouse, née le 14 mars 1987",
        "Léa Fictif fille, née le 23 avril 2012",
        "Noé Fictif fils, né le 9 août 2016",
    ],
    "nl": [
        "Marc Fictif referentiepersoon, geboren op 2 november 1984",
        "Élise Exemplaire echtgenote, geboren op 14 maart 1987",
        "Léa Fictif dochter, geboren op 23 april 2012",
        "Noé Fictif zoon, geboren op 9 augustus 2016",
    ],
    "en": [
        "Marc Fictif reference person, born 2 November 1984",
        "Élise Exemplaire wife, born 14 March 1987",
        "Léa Fictif daughter, born 23 April 2012",
        "Noé Fictif son, born 9 August 2016",
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_household_composition_lists_every_member_with_birth_date_and_relation(language: str) -> None:
    # Given Élise, who lives with her husband Marc and their two children
    # When she gets the certificate in `language`
    text = render("household-composition-certificate", ELISE, language)

    # Then it names her, with her number, and lists the four members, the eldest (the reference person) first
    assert_issued(text, TITLES["household-composition-certificate"], language, "Élise", "Exemplaire")
    assert format_nrn(ELISE) in text
    assert in_order(text, *HOUSEHOLD_ROWS[language])
    assert {"fr": "Nombre de membres 4", "nl": "Aantal gezinsleden 4", "en": "Number of members 4"}[language] in text
    assert {"fr": "1000 Bruxelles", "nl": "1000 Brussel", "en": "1000 Bruxelles/Brussel"}[language] in text


def test_a_partner_without_a_marriage_act_is_another_member_of_the_household() -> None:
    # Given Giulia, who lives with Karim (not married to him) and their son
    text = render("household-composition-certificate", GIULIA, "en")
    # Then Karim, the eldest, is the reference person, Giulia another member, Sami his son
    assert in_order(
        text,
        "Karim Essai reference person, born 9 January 1988",
        "Giulia Bozzetto other member of the household, born 21 June 1990",
        "Sami Essai son, born 3 December 2021",
    )
    assert "Number of members 3" in text


def test_a_deceased_person_is_no_member_of_the_household() -> None:
    # Given a register in which the deceased Georgette was in Hugo's household
    people = [
        person.model_copy(update={"household_id": "HH-0006"}) if person.nrn == GEORGETTE else person
        for person in get_national_register().people()
    ]
    registers = Registers(national=SimulatedNationalRegister(people))
    # When Hugo gets his household composition
    text = render("household-composition-certificate", HUGO, "fr", registers=registers)
    # Then he alone is listed, as the reference person, though she was older
    assert "Hugo Maquette personne de référence, né le 3 mars 1972" in text
    assert "Georgette" not in text
    assert "Nombre de membres 1" in text


# ---------------------------------------------------------------------------------------------------- nationality
@pytest.mark.parametrize(
    ("language", "row", "statement"),
    [
        ("fr", "Nationalité belge", "possède la nationalité belge"),
        ("nl", "Nationaliteit Belgische", "de Belgische nationaliteit heeft"),
        ("en", "Nationality Belgian", "holds Belgian nationality"),
    ],
)
def test_nationality_certificate_states_belgian_nationality(language: str, row: str, statement: str) -> None:
    # Given Pieter, a Belgian of Laeken / When he gets the certificate in `language`
    text = render("nationality-certificate", PIETER, language)
    # Then it names him, states his nationality and his number
    assert_issued(text, TITLES["nationality-certificate"], language, "Pieter", "Voorbeeld")
    assert row in text
    assert statement in text
    assert format_nrn(PIETER) in text
    assert {"fr": "17 mai 1979", "nl": "17 mei 1979", "en": "17 May 1979"}[language] in text


def test_belgian_nationality_is_never_certified_for_someone_else() -> None:
    # Given Siobhán, Irish / When her certificate would be built anyway (say the catalogue lost its rule)
    # Then the builder refuses
    with pytest.raises(StepInputError, match="Belgian"):
        _context("nationality-certificate", SIOBHAN, "en")


# ---------------------------------------------------------------------------------------------------- life
@pytest.mark.parametrize(
    ("language", "statement", "born"),
    [
        ("fr", "est en vie à la date du présent certificat", "14 mars 1987"),
        ("nl", "in leven is op de datum van dit bewijs", "14 maart 1987"),
        ("en", "is alive on the date of this certificate", "14 March 1987"),
    ],
)
def test_life_certificate_states_the_person_is_alive(language: str, statement: str, born: str) -> None:
    text = render("life-certificate", ELISE, language)
    assert_issued(text, TITLES["life-certificate"], language, "Élise", "Exemplaire")
    assert statement in text
    assert born in text
    assert format_nrn(ELISE) in text


def test_a_life_certificate_is_never_built_for_a_deceased_person() -> None:
    with pytest.raises(StepInputError, match="deceased"):
        _context("life-certificate", GEORGETTE, "fr")


# ---------------------------------------------------------------------------------------------------- residence history
HISTORY = {
    "fr": [
        "Rue du Marché aux Herbes 47 boîte 3",
        "depuis le 1er septembre 2015",
        "Avenue de la Reine 112, 1020 Laeken",
        "du 1er juin 2010 au 1er septembre 2015",
        "Rue de Fer 12, 5000 Namur",
        "du 15 septembre 2005 au 1er juin 2010",
    ],
    "nl": [
        "Rue du Marché aux Herbes 47 bus 3",
        "sinds 1 september 2015",
        "Avenue de la Reine 112, 1020 Laken",
        "van 1 juni 2010 tot 1 september 2015",
        "Rue de Fer 12, 5000 Namen",
        "van 15 september 2005 tot 1 juni 2010",
    ],
    "en": [
        "Rue du Marché aux Herbes 47 box 3",
        "since 1 September 2015",
        "Avenue de la Reine 112, 1020 Laeken/Laken",
        "from 1 June 2010 to 1 September 2015",
        "Rue de Fer 12, 5000 Namur/Namen",
        "from 15 September 2005 to 1 June 2010",
    ],
}
NO_HISTORY = {
    "fr": "Aucune résidence principale précédente",
    "nl": "geen vorige hoofdverblijfplaats",
    "en": "No previous main residence",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_residence_history_lists_every_address_with_its_dates_newest_first(language: str) -> None:
    # Given Élise, in Brussels since 2015, before that in Laeken and in Namur
    text = render("residence-history-certificate", ELISE, language)
    # Then the current address comes first, then each earlier one, newest first, with the days it began and ended
    assert_issued(text, TITLES["residence-history-certificate"], language, "Élise", "Exemplaire")
    assert in_order(text, *HISTORY[language])
    assert NO_HISTORY[language] not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_residence_history_says_when_there_is_no_earlier_address(language: str) -> None:
    text = render("residence-history-certificate", GRIET, language)
    assert NO_HISTORY[language] in text
    assert "Emile Bockstaellaan 210" in text


# ---------------------------------------------------------------------------------------------------- civil status
EXTRACTS: dict[str, dict[str, list[str]]] = {
    # Léa's birth, asked for by her mother
    "2012/B/01847": {
        "fr": [
            "Extrait d'acte de naissance",
            "Date de naissance 23 avril 2012",
            "Lieu de naissance Bruxelles",
            "Acte établi le 24 avril 2012",
            "Enfant Nom Fictif Prénom(s) Léa",
            "Mère Nom Exemplaire Prénom(s) Élise",
            "Père Nom Fictif Prénom(s) Marc",
        ],
        "nl": [
            "Uittreksel uit de geboorteakte",
            "Geboortedatum 23 april 2012",
            "Geboorteplaats Brussel",
            "Akte opgemaakt op 24 april 2012",
            "Kind Naam Fictif Voornaam/voornamen Léa",
            "Moeder Naam Exemplaire Voornaam/voornamen Élise",
            "Vader Naam Fictif Voornaam/voornamen Marc",
        ],
        "en": [
            "Extract of a birth record",
            "Date of birth 23 April 2012",
            "Place of birth Brussels",
            "Record drawn up on 24 April 2012",
            "Child Surname Fictif Given name(s) Léa",
            "Mother Surname Exemplaire Given name(s) Élise",
            "Father Surname Fictif Given name(s) Marc",
        ],
    },
    # Élise and Marc's marriage, asked for by Élise
    "2011/M/00412": {
        "fr": [
            "Extrait d'acte de mariage",
            "Date du mariage 18 juin 2011",
            "Premier conjoint Nom Exemplaire Prénom(s) Élise Date de naissance 14 mars 1987 Lieu de naissance Liège",
            "Second conjoint Nom Fictif Prénom(s) Marc Date de naissance 2 novembre 1984 Lieu de naissance Mons",
        ],
        "nl": [
            "Uittreksel uit de huwelijksakte",
            "Datum van het huwelijk 18 juni 2011",
            "Eerste echtgeno(o)t(e) Naam Exemplaire Voornaam/voornamen Élise",
            "Geboortedatum 14 maart 1987 Geboorteplaats Luik",
            "Tweede echtgeno(o)t(e) Naam Fictif Voornaam/voornamen Marc",
            "Geboortedatum 2 november 1984 Geboorteplaats Bergen",
        ],
        "en": [
            "Extract of a marriage record",
            "Date of marriage 18 June 2011",
            "First spouse Surname Exemplaire Given name(s) Élise Date of birth 14 March 1987 Place of birth Liège",
            "Second spouse Surname Fictif Given name(s) Marc Date of birth 2 November 1984 Place of birth Mons",
        ],
    },
    # Georgette's death, asked for by her son Hugo
    "2024/D/00388": {
        "fr": ["Extrait d'acte de décès", "Date du décès 7 février 2024", "Personne décédée Nom Prototype"],
        "nl": [
            "Uittreksel uit de overlijdensakte",
            "Datum van overlijden 7 februari 2024",
            "Overledene Naam Prototype",
        ],
        "en": ["Extract of a death record", "Date of death 7 February 2024", "Deceased Surname Prototype"],
    },
}
APPLICANT_OF = {"2012/B/01847": ELISE, "2011/M/00412": ELISE, "2024/D/00388": HUGO}
TYPE_OF = {"B": "birth", "M": "marriage", "D": "death"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("number", sorted(EXTRACTS))
def test_civil_status_extract_holds_the_acts_number_date_place_and_persons(number: str, language: str) -> None:
    # Given an act and a relative entitled to it
    form = {"act_type": TYPE_OF[number.split("/")[1]], "act_number": number}
    # When the extract is issued in `language`
    text = render("civil-status-extract", APPLICANT_OF[number], language, form)
    # Then it holds the act's number, the event's date and place, and each person in their role, in order
    titles = {lang: rows[0] for lang, rows in EXTRACTS[number].items()}
    assert_issued(text, titles, language, number)
    assert in_order(text, *EXTRACTS[number][language])


def test_an_extract_of_an_old_act_names_people_without_national_register_numbers() -> None:
    # Given the birth act of 1898, asked for by Pieter, who is not related
    text = render("civil-status-extract", PIETER, "fr", {"act_type": "birth", "act_number": "1898/B/00872"})
    # Then it names the child and his parents, and no national register number
    assert in_order(
        text,
        "Date de naissance 3 mai 1898",
        "Enfant Nom Prototype Prénom(s) Prosper",
        "Père Nom Prototype Prénom(s) Désiré Date de naissance 11 février 1869 Lieu de naissance Anderlecht",
        "Mère Nom Van Hecke Prénom(s) Mathilde",
    )
    assert "Numéro de registre national" not in text


def test_an_extract_the_applicant_may_not_obtain_is_never_built() -> None:
    # Given Pieter asking for Léa's birth act, and a number that names no act
    # When the context would be built anyway / Then the builder refuses
    with pytest.raises(StepInputError, match="may not obtain"):
        _context("civil-status-extract", PIETER, "fr", {"act_type": "birth", "act_number": "2012/B/01847"})
    with pytest.raises(StepInputError, match="no such act"):
        _context("civil-status-extract", ELISE, "fr", {"act_type": "birth", "act_number": "2012/B/99999"})


# ---------------------------------------------------------------------------------------------------- criminal record
HUGO_ENTRIES = {
    "fr": [
        "Date de la décision 12 juin 2014",
        "Juridiction Tribunal de police de Bruxelles",
        "Peine Amende de 1 200 EUR et déchéance du droit de conduire de trois mois",
        "Date de la décision 21 mars 2019",
        "Infraction Coups et blessures volontaires (article 398 du Code pénal)",
        "Peine Peine de travail de 80 heures",
    ],
    "nl": [
        "Datum van de beslissing 12 juni 2014",
        "Rechtscollege Politierechtbank Brussel",
        "Datum van de beslissing 21 maart 2019",
        "Misdrijf Opzettelijke slagen en verwondingen (artikel 398 van het Strafwetboek)",
        "Straf Werkstraf van 80 uur",
    ],
    "en": [
        "Date of the decision 12 June 2014",
        "Court Brussels Police Court",
        "Sentence Fine of EUR 1,200 and a three-month driving ban",
        "Date of the decision 21 March 2019",
        "Offence Intentional assault and battery (Article 398 of the Criminal Code)",
        "Sentence Community service of 80 hours",
    ],
}
NO_ENTRIES = {"fr": "Néant.", "nl": "Blanco.", "en": "No entries."}
GENERAL_MODEL = {
    "fr": "Modèle 595 Base légale article 595 du Code d'instruction criminelle",
    "nl": "Model 595 Wettelijke grondslag artikel 595 van het Wetboek van strafvordering",
    "en": "Model 595 Legal basis Article 595 of the Code of Criminal Procedure",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_criminal_record_extract_shows_the_entries(language: str) -> None:
    # Given Hugo, with two entries, asking for a general extract
    text = render("criminal-record-extract", HUGO, language, {"model": "595"})
    # Then it names him, the model and its legal basis, and both entries, oldest first
    assert_issued(text, TITLES["criminal-record-extract"], language, "Hugo", "Maquette")
    assert format_nrn(HUGO) in text
    assert GENERAL_MODEL[language] in text
    assert in_order(text, *HUGO_ENTRIES[language])
    assert NO_ENTRIES[language] not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_criminal_record_extract_says_no_entries(language: str) -> None:
    # Given Élise, with a clean record
    text = render("criminal-record-extract", ELISE, language, {"model": "595"})
    # Then the extract says so, and shows no entry
    assert_issued(text, TITLES["criminal-record-extract"], language, "Élise", "Exemplaire")
    assert NO_ENTRIES[language] in text
    assert GENERAL_MODEL[language] in text
    assert HUGO_ENTRIES[language][0].split(" 1")[0] not in text  # no "Date of the decision" row at all


@pytest.mark.parametrize(
    ("language", "model", "expected"),
    [
        ("fr", "596.2", ["Modèle 596.2", "article 596, alinéa 2, du Code d'instruction criminelle", "mineurs"]),
        (
            "nl",
            "596.2",
            ["Model 596.2", "artikel 596, tweede lid, van het Wetboek van strafvordering", "minderjarigen"],
        ),
        (
            "en",
            "596.1",
            ["Model 596.1", "Article 596, first paragraph, of the Code of Criminal Procedure", "laid down by a law"],
        ),
    ],
)
def test_an_article_596_extract_states_its_model_and_the_activity(
    language: str, model: str, expected: list[str]
) -> None:
    # Given Élise asking for an article 596 extract for an activity
    text = render("criminal-record-extract", ELISE, language, {"model": model, "purpose": "Plaine de jeux Laeken"})
    # Then the extract states the model, its legal basis and what it is for, and the activity
    for part in expected:
        assert part in text
    assert "Plaine de jeux Laeken" in text


@pytest.mark.parametrize(
    ("form", "message"),
    [({"model": "596.2"}, "activity"), ({"model": "596.3", "purpose": "x"}, "model"), ({}, "model")],
)
def test_a_criminal_record_extract_without_its_model_or_purpose_is_never_built(
    form: dict[str, Any], message: str
) -> None:
    with pytest.raises(StepInputError, match=message):
        _context("criminal-record-extract", ELISE, "fr", form)
