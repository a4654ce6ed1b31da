"""Eligibility rules against a national register of people built here."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, date, datetime

import pytest

from omnicity.adapters.registries import Registers, get_registers
from omnicity.adapters.registries.national import Address, Person, SimulatedNationalRegister
from omnicity.catalogue import eligibility, get_catalogue
from omnicity.catalogue.eligibility import check
from omnicity.domain.city import get_messages
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, Procedure
from omnicity.domain.nrn import birth_date, format_nrn, make_nrn

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
RESIDENT = make_nrn(date(1987, 3, 14), 132)
DECEASED = make_nrn(date(1931, 10, 18), 364)
SCHAERBEEK = make_nrn(date(1990, 6, 21), 318)
UNKNOWN = make_nrn(date(2001, 1, 1), 5)


def _born(nrn: str) -> date:
    born = birth_date(nrn)
    assert born is not None
    return born


def _person(nrn: str, postal_code: str = "1000", municipality_fr: str = "Bruxelles", *, alive: bool = True) -> Person:
    return Person(
        nrn=nrn,
        first_name="Test",
        last_name="Persona",
        birth_date=_born(nrn),
        gender="F",
        nationality="BE",
        preferred_language="fr",
        email="test.persona@example.org",
        address=Address(
            street="Rue de la Loi",
            number="1",
            postal_code=postal_code,
            municipality_fr=municipality_fr,
            municipality_nl=municipality_fr,
            settled_on=date(2010, 1, 1),
        ),
        previous_addresses=[],
        household_id=f"HH-{nrn}",
        alive=alive,
    )


REGISTER = SimulatedNationalRegister(
    [
        _person(RESIDENT),
        _person(DECEASED, "1120", "Neder-Over-Heembeek", alive=False),
        _person(SCHAERBEEK, "1030", "Schaerbeek"),
    ]
)


def _case(nrn: str) -> Case:
    return Case(
        case_id="case-1",
        reference="BXL-2026-000001",
        procedure_id="residence-certificate",
        applicant=Applicant(nrn=nrn),
        channel=Channel.PORTAL,
        language=Language.FR,
        form={},
        status=CaseStatus.IN_PROGRESS,
        timeline=[],
        submitted_by="citizen",
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def procedure() -> Procedure:
    return get_catalogue().get("residence-certificate")


def test_a_registered_resident_is_eligible(procedure: Procedure) -> None:
    # Given a person living at a Brussels address / When checked / Then eligible, without a reason
    verdict = check(procedure, _case(RESIDENT), Registers(national=REGISTER))
    assert verdict.eligible
    assert verdict.reason is None


def test_an_nrn_written_with_separators_is_found(procedure: Procedure) -> None:
    # Given the resident's NRN as printed on the card / When checked / Then eligible
    assert check(procedure, _case(format_nrn(RESIDENT)), Registers(national=REGISTER)).eligible


@pytest.mark.parametrize(
    ("nrn", "reason"),
    [(UNKNOWN, "not_in_register"), (DECEASED, "deceased"), (SCHAERBEEK, "not_resident")],
)
def test_an_ineligible_applicant_gets_the_reason(procedure: Procedure, nrn: str, reason: str) -> None:
    # Given an unknown, a deceased (though living in the city) or a non-resident applicant
    # When checked
    verdict = check(procedure, _case(nrn), Registers(national=REGISTER))

    # Then not eligible, with the matching reason
    assert not verdict.eligible
    assert verdict.reason == reason


@pytest.mark.parametrize(
    ("postal_code", "municipality_fr", "eligible"),
    [
        ("1000", "Bruxelles", True),
        ("1020", "Laeken", True),
        ("1120", "Neder-Over-Heembeek", True),
        ("1130", "Haren", True),
        ("1050", "Bruxelles", True),  # avenue Louise: the City's part of 1050
        ("1050", "Ixelles", False),  # same postal code, another municipality
        ("1040", "Etterbeek", False),
        ("1030", "Schaerbeek", False),
        ("1000", "Schaerbeek", False),
    ],
)
def test_residence_depends_on_postal_code_and_municipality(
    procedure: Procedure, postal_code: str, municipality_fr: str, eligible: bool
) -> None:
    # Given a living person at an address
    nrn = make_nrn(date(1975, 5, 5), 21)
    register = SimulatedNationalRegister([_person(nrn, postal_code, municipality_fr)])

    # When checked
    verdict = check(procedure, _case(nrn), Registers(national=register))

    # Then only addresses of the City of Brussels pass
    assert verdict.eligible is eligible
    assert verdict.reason == (None if eligible else "not_resident")


def test_an_unknown_rule_name_raises_lookup_error(procedure: Procedure) -> None:
    # Given a procedure naming a rule that does not exist
    misconfigured = procedure.model_copy(update={"eligibility": ["registered_in_city", "owns_a_unicorn"]})

    # When checked / Then the misconfiguration is loud, not a silent pass
    with pytest.raises(LookupError, match="owns_a_unicorn"):
        check(misconfigured, _case(RESIDENT), Registers(national=REGISTER))


def test_a_procedure_without_rules_admits_anyone(procedure: Procedure) -> None:
    # Given a procedure with no eligibility rule / When an unknown person is checked / Then eligible
    assert check(
        procedure.model_copy(update={"eligibility": []}), _case(UNKNOWN), Registers(national=REGISTER)
    ).eligible


# ---------------------------------------------------------------------------------------------------- reason codes
def _reason_codes_in_rules() -> set[str]:
    """Every string a rule function of the eligibility module returns (a rule returns a reason code or None)."""
    tree = ast.parse(inspect.getsource(eligibility))
    return {
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


# One case per reason code a rule can return: the procedure, the applicant and the form. The residence codes use this
# file's register (it has someone living outside the city); the others the simulated registers' fictional people.
OWN_REGISTER = Registers(national=REGISTER)
REASON_CASES: dict[str, tuple[str, str, dict[str, str], Registers | None]] = {
    "not_in_register": ("residence-certificate", UNKNOWN, {}, OWN_REGISTER),
    "deceased": ("residence-certificate", DECEASED, {}, OWN_REGISTER),
    "not_resident": ("residence-certificate", SCHAERBEEK, {}, OWN_REGISTER),
    "not_belgian": ("nationality-certificate", "92093027445", {}, None),  # Siobhán, Irish, living in the city
    "civil_status_act_not_found": (
        "civil-status-extract",
        "87031413235",  # Élise, asking for a birth act the register does not hold
        {"act_type": "birth", "act_number": "2012/B/99999"},
        None,
    ),
    "civil_status_act_restricted": (
        "civil-status-extract",
        "79051708730",  # Pieter, asking for the birth act of a child who is not his
        {"act_type": "birth", "act_number": "2012/B/01847"},
        None,
    ),
    "no_active_eid_card": ("eid-pin-code", "72030324138", {}, None),  # Hugo: his only card expired
}


def test_every_reason_code_a_rule_returns_has_a_case_here() -> None:
    # Given the codes the rules can return / Then each has its case below (a new code needs one)
    assert set(REASON_CASES) == _reason_codes_in_rules()


@pytest.mark.parametrize("code", sorted(REASON_CASES))
def test_each_reason_code_is_what_its_procedure_answers_its_case(code: str) -> None:
    # Given the case of a reason code
    procedure_id, nrn, form, registers = REASON_CASES[code]
    case = _case(nrn).model_copy(update={"procedure_id": procedure_id, "form": form})
    # When its procedure's rules are checked / Then it is refused for that reason
    verdict = check(get_catalogue().get(procedure_id), case, registers or get_registers())
    assert not verdict.eligible
    assert verdict.reason == code


@pytest.mark.parametrize("code", sorted(_reason_codes_in_rules()))
def test_every_reason_code_has_a_message_in_three_languages(code: str) -> None:
    # Given a reason code an eligibility rule returns
    # When the citizen-facing messages are looked up
    text = get_messages().reason(code)

    # Then it is told in fr, nl and en, each non-empty and different
    translations = [text.in_language(language) for language in Language]
    assert all(translation.strip() for translation in translations)
    assert len(set(translations)) == 3
