"""The street artist permit and the greening request: their catalogue entries, their form rules, their context
builders (choices resolved to labels in the case's language) and their documents, rendered to PDF in fr, nl and en
(text read back with pypdf) against the bundled registers."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pypdf
import pytest

from omnicity.adapters.registries import get_registers
from omnicity.adapters.rendering import render_document
from omnicity.capabilities.review import Review
from omnicity.catalogue import get_catalogue
from omnicity.catalogue.document_contexts import build_context, choice_label
from omnicity.domain.errors import StepInputError, ValidationFailedError
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
from omnicity.forms.validation import FORM_RULES, QUIET_ZONES, validate_form

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 29)
REFERENCE = "BXL-2026-000077"
DOCUMENT_ID = "doc-9a1b2c3d4e5f60718293"
VERIFY_URL = f"https://my.brussels.example/verify/{DOCUMENT_ID}"
LANGUAGES = ["fr", "nl", "en"]
ELISE, PIETER = "87031413235", "79051708730"

PERMIT = "street-artist-permit"
GREENING = "greening-request"

PERMIT_FORM: dict[str, Any] = {
    "artist_name": "Mimi la Magnifique",
    "discipline": "living_statue",
    "amplified": False,
    "start_date": "2027-01-05",
    "end_date": "2027-12-31",
    "zones": ["mont_des_arts", "rue_neuve", "atomium"],
}
GREENING_FORM: dict[str, Any] = {
    "kind": "tree_pit",
    "address": {"street": "Rue du Marché aux Herbes", "number": "12", "box": "3", "postal_code": "1000"},
    "description": "Des plantes vivaces au pied du tilleul devant chez moi.",
    "owner_consent": True,
}

# Per language: what the permit (PERMIT_FORM, Élise) and the letter (GREENING_FORM, Pieter) must say.
PERMIT_TEXT = {
    "fr": ["Autorisation d'artiste de rue", "Nom d'artiste Mimi la Magnifique", "Titulaire Élise Exemplaire",
           "Discipline Statue vivante", "Sonorisation non", "Période du 5 janvier 2027 au 31 décembre 2027",
           "Zones Mont des Arts, Rue Neuve, Abords de l'Atomium (Heysel)", "Aucun amplificateur",
           "entrées des commerces", "sans terminal de paiement", "entre 10 h et 22 h",
           f"Code de vérification {DOCUMENT_ID}"],
    "nl": ["Vergunning voor straatartiesten", "Artiestennaam Mimi la Magnifique", "Houder Élise Exemplaire",
           "Discipline Levend standbeeld", "Geluidsversterking neen", "Periode van 5 januari 2027 tot 31 december 2027",
           "Zones Kunstberg, Nieuwstraat, Omgeving van het Atomium (Heizel)", "Geen versterker",
           "ingangen van winkels", "zonder betaalterminal", "tussen 10 en 22 uur", f"Verificatiecode {DOCUMENT_ID}"],
    "en": ["Street artist permit", "Artist name Mimi la Magnifique", "Holder Élise Exemplaire",
           "Discipline Living statue", "Amplified sound no", "Period from 5 January 2027 to 31 December 2027",
           "Zones Mont des Arts (Kunstberg), Rue Neuve (Nieuwstraat), Atomium surroundings (Heysel)",
           "No amplifier", "entrances of shops", "no payment terminal", "between 10 a.m. and 10 p.m.",
           f"Verification code {DOCUMENT_ID}"],
}  # fmt: skip
GREENING_TEXT = {
    "fr": ["Autorisation de verdurisation", "Monsieur,", "Demandeur Pieter Voorbeeld", "Aménagement Pied d'arbre",
           "Adresse Rue du Marché aux Herbes 12 boîte 3, 1000 Bruxelles", "au moins 1,50 mètre",
           "L'entretien (arrosage, désherbage, taille) est à votre charge", "Aucune construction permanente",
           "sans creuser à plus de 10 centimètres", f"Code de vérification {DOCUMENT_ID}"],
    "nl": ["Toelating tot vergroening", "Geachte heer Voorbeeld,", "Aanvrager Pieter Voorbeeld",
           "Inrichting Boomspiegel", "Adres Rue du Marché aux Herbes 12 bus 3, 1000 Brussel", "minstens 1,50 meter",
           "Het onderhoud (water geven, wieden, snoeien) is voor uw rekening", "Geen enkele vaste constructie",
           "zonder dieper dan 10 centimeter te graven", f"Verificatiecode {DOCUMENT_ID}"],
    "en": ["Greening permission", "Dear Pieter Voorbeeld,", "Applicant Pieter Voorbeeld", "Kind of greening Tree pit",
           "Address Rue du Marché aux Herbes 12 box 3, 1000 Bruxelles/Brussel", "at least 1.50 metres",
           "You look after the upkeep (watering, weeding, pruning)", "No permanent structure",
           "without digging deeper than 10 centimetres", f"Verification code {DOCUMENT_ID}"],
}  # fmt: skip


def _case(
    procedure_id: str,
    nrn: str,
    language: str,
    form: dict[str, Any],
    remarks: str | None = None,
) -> Case:
    decision = TimelineEntry(
        at=NOW,
        status=CaseStatus.IN_PROGRESS,
        event="decided:approve",
        actor="agent:agent-5",
        note=LocalizedText(fr=remarks, nl=remarks, en=remarks) if remarks else None,
    )
    return Case(
        case_id="case-7",
        reference=REFERENCE,
        procedure_id=procedure_id,
        applicant=Applicant(nrn=nrn),
        channel=Channel.COUNTER,
        language=Language(language),
        form=form,
        status=CaseStatus.IN_PROGRESS,
        timeline=[decision],
        submitted_by="citizen",
        created_at=NOW,
        updated_at=NOW,
    )


def _context(procedure_id: str, case: Case) -> dict[str, Any]:
    procedure = get_catalogue().get(procedure_id)
    return build_context(
        procedure, case, get_registers(), document_id=DOCUMENT_ID, issued_on=TODAY, verification_url=VERIFY_URL
    )


def render(procedure_id: str, case: Case) -> tuple[str, int]:
    """The document's text with whitespace collapsed (wrapping is layout), and its number of pages."""
    procedure = get_catalogue().get(procedure_id)
    assert procedure.document is not None
    pdf = render_document(procedure.document.template, case.language.value, _context(procedure_id, case))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages), len(reader.pages)


def validate(procedure_id: str, form: dict[str, Any], uploads_owner: str | None = None) -> dict[str, Any]:
    procedure = get_catalogue().get(procedure_id)
    return validate_form(procedure, form, uploads_owner=uploads_owner, rules=procedure.form_rules, today=TODAY)


def problems(procedure_id: str, form: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationFailedError) as raised:
        validate(procedure_id, form)
    return {detail["field"] for detail in raised.value.details}


def field_of(procedure: Procedure, name: str) -> Any:
    return next(field for field in procedure.fields if field.name == name)


# ---------------------------------------------------------------------------------------------------- catalogue
@pytest.mark.parametrize(
    ("procedure_id", "department", "kind", "template", "sla"),
    [
        (PERMIT, "events", "review", "street-artist-permit", 15),
        (GREENING, "green_spaces", "visit", "greening-letter", 20),
    ],
)
def test_each_is_a_free_document_an_agent_of_its_department_decides_on(
    procedure_id: str, department: str, kind: str, template: str, sla: int
) -> None:
    # Given the procedure's catalogue entry
    procedure = get_catalogue().get(procedure_id)
    # Then it is a free document request on every channel, always decided by an agent of its department
    assert procedure.family == "document_request"
    assert procedure.department == department
    assert procedure.fee_cents == 0
    assert procedure.sla_business_days == sla
    assert set(procedure.channels) == set(Channel)
    review = Review.settings(procedure)
    assert review is not None
    assert (review.department, review.kind, review.when) == (department, kind, "always")
    assert review.outcomes == ["approve", "refuse"]
    assert review.approving == ["approve"]
    # And the document it issues is its own
    assert procedure.document is not None
    assert procedure.document.template == template


def test_the_permit_offers_zones_of_the_city_and_the_quiet_zones_are_among_them() -> None:
    zones = field_of(get_catalogue().get(PERMIT), "zones")
    values = {choice.value for choice in zones.choices}
    assert (zones.min_items, zones.max_items) == (1, 3)
    assert set(QUIET_ZONES) <= values
    assert "flagey" not in " ".join(values)  # Place Flagey is in Ixelles, not in the City of Brussels
    assert {"ilot_sacre", "mont_des_arts", "sainte_catherine", "rue_neuve", "sablon", "bourse"} <= values


def test_the_permits_artist_need_not_live_in_the_city_but_a_greener_must() -> None:
    assert get_catalogue().get(PERMIT).eligibility == ["alive_in_register"]
    assert get_catalogue().get(GREENING).eligibility == ["registered_in_city"]


# ---------------------------------------------------------------------------------------------------- forms
def test_a_complete_permit_form_is_accepted() -> None:
    assert validate(PERMIT, PERMIT_FORM) == PERMIT_FORM
    assert validate(PERMIT, PERMIT_FORM | {"amplified": True, "zones": ["bourse"]})["amplified"] is True


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"end_date": "2028-01-06"}, {"form.end_date"}),  # 12 months and a day
        ({"end_date": "2027-01-04"}, {"form.end_date"}),  # before the start
        ({"start_date": "2026-11-28"}, {"form.start_date"}),  # in the past
        ({"zones": ["bourse", "sablon", "rue_neuve", "atomium"]}, {"form.zones"}),
        ({"zones": []}, {"form.zones"}),
        ({"zones": ["bourse", "place_flagey"]}, {"form.zones[1]"}),
        ({"zones": ["bourse", "bourse"]}, {"form.zones[1]"}),
        ({"amplified": True, "zones": ["bourse", "sablon"]}, {"form.amplified"}),
        ({"amplified": True, "zones": ["ilot_sacre"]}, {"form.amplified"}),
        ({"amplified": "yes"}, {"form.amplified"}),
        ({"discipline": "fire_eating", "artist_name": ""}, {"form.discipline", "form.artist_name"}),
    ],
)
def test_a_bad_permit_form_names_the_field(change: dict[str, Any], fields: set[str]) -> None:
    assert problems(PERMIT, PERMIT_FORM | change) == fields


def test_the_period_may_last_exactly_12_months() -> None:
    assert validate(PERMIT, PERMIT_FORM | {"end_date": "2028-01-05"})["end_date"] == "2028-01-05"


def test_a_complete_greening_form_is_accepted_with_or_without_photos() -> None:
    assert validate(GREENING, GREENING_FORM) == GREENING_FORM
    photos = ["uploads/owner-1/a1b2c3.jpg"]
    assert validate(GREENING, GREENING_FORM | {"photos": photos}, uploads_owner="owner-1")["photos"] == photos


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"owner_consent": False}, {"form.owner_consent"}),
        ({"owner_consent": None}, {"form.owner_consent"}),
        (
            {"address": {"street": "Chaussée de Haecht", "number": "2", "postal_code": "1030"}},
            {"form.address.postal_code"},
        ),
        ({"kind": "hedge"}, {"form.kind"}),
        ({"description": "Fleurs"}, {"form.description"}),
    ],
)
def test_a_bad_greening_form_names_the_field(change: dict[str, Any], fields: set[str]) -> None:
    assert problems(GREENING, GREENING_FORM | change) == fields


def test_a_required_boolean_accepts_false_so_the_consent_needs_its_rule() -> None:
    # Given the consent field without its rule / Then false passes: the rule is what makes it mandatory
    procedure = get_catalogue().get(GREENING)
    form = GREENING_FORM | {"owner_consent": False}
    assert validate_form(procedure, form, today=TODAY)["owner_consent"] is False
    assert FORM_RULES["owner_consent_given"](form) == [
        {"field": "form.owner_consent", "reason": "the owner's consent is required"}
    ]
    assert FORM_RULES["owner_consent_given"]({}) == []  # absent: reported as required by the field itself


def test_the_quiet_zones_rule_reports_only_amplified_sound_there() -> None:
    rule = FORM_RULES["no_amplified_sound_in_quiet_zones"]
    assert rule({"amplified": False, "zones": ["sablon"]}) == []
    assert rule({"amplified": True, "zones": ["bourse"]}) == []
    assert rule({"amplified": True}) == []
    assert rule({"amplified": True, "zones": ["sablon", "bourse", "ilot_sacre"]}) == [
        {"field": "form.amplified", "reason": "amplified sound is not allowed in: sablon, ilot_sacre"}
    ]


# ---------------------------------------------------------------------------------------------------- contexts
@pytest.mark.parametrize(
    ("language", "label"), [("fr", "Façade fleurie"), ("nl", "Geveltuin"), ("en", "Facade garden")]
)
def test_a_choice_resolves_to_its_label_in_the_language(language: str, label: str) -> None:
    assert choice_label(get_catalogue().get(GREENING), "kind", "facade_garden", Language(language)) == label


@pytest.mark.parametrize(("field", "value"), [("kind", "hedge"), ("address", "1000"), ("colour", "green")])
def test_an_unknown_choice_is_a_step_input_error(field: str, value: str) -> None:
    with pytest.raises(StepInputError):
        choice_label(get_catalogue().get(GREENING), field, value, Language.FR)


def test_the_permit_context_holds_the_holder_and_the_terms_in_the_case_language() -> None:
    context = _context(PERMIT, _case(PERMIT, PIETER, "nl", PERMIT_FORM | {"amplified": True}))
    assert context["person"]["last_name"] == "Voorbeeld"
    assert context["artist_name"] == "Mimi la Magnifique"
    assert context["discipline"] == "Levend standbeeld"
    assert context["zones"] == ["Kunstberg", "Nieuwstraat", "Omgeving van het Atomium (Heizel)"]
    assert context["amplified"] is True
    assert (context["start_date"], context["end_date"]) == (date(2027, 1, 5), date(2027, 12, 31))
    assert (context["reference"], context["document_id"]) == (REFERENCE, DOCUMENT_ID)


def test_the_greening_context_holds_the_address_with_its_section_and_the_visit_remarks() -> None:
    form = GREENING_FORM | {"address": {"street": "Rue Marie-Christine", "number": "8", "postal_code": "1020"}}
    context = _context(GREENING, _case(GREENING, ELISE, "fr", form, remarks="Laisser 2 m devant la porte."))
    assert context["kind"] == "tree_pit"
    assert context["kind_label"] == "Pied d'arbre"
    assert context["address"] == {
        "street": "Rue Marie-Christine",
        "number": "8",
        "box": None,
        "postal_code": "1020",
        "municipality_fr": "Laeken",
        "municipality_nl": "Laken",
    }
    assert context["remarks"] == "Laisser 2 m devant la porte."
    assert _context(GREENING, _case(GREENING, ELISE, "fr", GREENING_FORM))["remarks"] is None


@pytest.mark.parametrize(("procedure_id", "form"), [(PERMIT, PERMIT_FORM), (GREENING, GREENING_FORM)])
def test_a_context_without_a_needed_form_value_is_a_step_input_error(procedure_id: str, form: dict[str, Any]) -> None:
    incomplete = {name: value for name, value in form.items() if name not in ("zones", "address")}
    with pytest.raises(StepInputError):
        _context(procedure_id, _case(procedure_id, ELISE, "fr", incomplete))


# ---------------------------------------------------------------------------------------------------- documents
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_permit_is_rendered_on_one_page_in_the_language_asked(language: str) -> None:
    # Given Élise's approved request / When the permit is rendered in `language`
    text, pages = render(PERMIT, _case(PERMIT, ELISE, language, PERMIT_FORM))
    # Then it holds the holder, the terms, the conditions and the verification code, in that language only
    for part in PERMIT_TEXT[language]:
        assert part in text, part
    for other in set(LANGUAGES) - {language}:
        assert PERMIT_TEXT[other][0] not in text
    assert REFERENCE in text
    assert "Ville de Bruxelles" in text
    assert "Stad Brussel" in text
    assert pages == 1


@pytest.mark.parametrize(
    ("language", "allowed", "refused"),
    [
        ("fr", "Sonorisation autorisée", "Aucun amplificateur"),
        ("nl", "Geluidsversterking toegestaan", "Geen versterker"),
        ("en", "Amplified sound allowed", "No amplifier"),
    ],
)
def test_an_amplified_permit_states_the_sound_limit(language: str, allowed: str, refused: str) -> None:
    form = PERMIT_FORM | {"amplified": True, "zones": ["manneken_pis", "sainte_catherine", "parc_de_bruxelles"]}
    text, pages = render(PERMIT, _case(PERMIT, ELISE, language, form))
    assert allowed in text
    assert "75 dB(A)" in text
    assert refused not in text
    assert pages == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_greening_letter_is_rendered_on_one_page_in_the_language_asked(language: str) -> None:
    # Given Pieter's approved tree pit / When the letter is rendered in `language`
    text, pages = render(GREENING, _case(GREENING, PIETER, language, GREENING_FORM))
    # Then it holds the address, the kind and the conditions, in that language only
    for part in GREENING_TEXT[language]:
        assert part in text, part
    for other in set(LANGUAGES) - {language}:
        assert GREENING_TEXT[other][0] not in text
    assert REFERENCE in text
    assert pages == 1


@pytest.mark.parametrize(
    ("kind", "language", "condition"),
    [
        ("facade_garden", "fr", "30 centimètres de profondeur"),
        ("facade_garden", "nl", "niet dieper dan 30 centimeter"),
        ("planter", "en", "The planter stays movable"),
        ("planter", "nl", "De plantenbak blijft verplaatsbaar"),
    ],
)
def test_the_letter_states_the_conditions_of_its_kind_and_the_visit_remarks(
    kind: str, language: str, condition: str
) -> None:
    remarks = "Plant at least 2 m from the door; keep the gas meter free."
    text, pages = render(GREENING, _case(GREENING, ELISE, language, GREENING_FORM | {"kind": kind}, remarks))
    assert condition in text
    assert GREENING_TEXT[language][8] not in text  # the tree pit's condition
    assert remarks in text
    assert pages == 1
