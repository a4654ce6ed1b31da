"""The civil status, criminal record and identity cards registers: their data files, their adapters, the family ties."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from omnicity.adapters.fonts import printable
from omnicity.adapters.registries import Registers, get_registers
from omnicity.adapters.registries.cards import (
    Card,
    CardKind,
    CardStatus,
    SimulatedCardRegister,
    card_check_digits,
    get_card_register,
)
from omnicity.adapters.registries.civil_status import (
    Act,
    ActPerson,
    ActType,
    Relationship,
    Role,
    SimulatedCivilStatusRegister,
    ascendants,
    descendants,
    get_civil_status_register,
    is_public,
    may_obtain_extract,
    relationship,
)
from omnicity.adapters.registries.criminal_record import (
    CriminalRecord,
    CriminalRecordEntry,
    ExtractModel,
    SimulatedCriminalRecordRegister,
    get_criminal_record_register,
)
from omnicity.adapters.registries.national import SimulatedNationalRegister, get_national_register
from omnicity.domain.models import LocalizedText
from omnicity.domain.nrn import InvalidNrnError, format_nrn, make_nrn

ELISE, MARC, LEA, NOE = "87031413235", "84110221118", "12042312477", "16080905794"
PIETER, GRIET, JENS, FIEN = "79051708730", "81120504637", "05022816318", "09101109854"
GIULIA, KARIM, SAMI = "90062131814", "88010914582", "21120300967"
HUGO, GEORGETTE, LOTTE, SIOBHAN = "72030324138", "31101803648", "95012606293", "92093027445"
ON = date(2026, 11, 29)
BRUSSELS = LocalizedText(fr="Bruxelles", nl="Brussel", en="Brussels")


DATA_FILES = sorted(
    entry.name
    for entry in resources.files("omnicity.adapters.registries").joinpath("data").iterdir()
    if entry.name.endswith(".json")
)


def _data(name: str) -> dict[str, Any]:
    text = resources.files("omnicity.adapters.registries").joinpath("data", name).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


@pytest.fixture(scope="module")
def civil_status() -> SimulatedCivilStatusRegister:
    return SimulatedCivilStatusRegister()


def _act(number: str, kind: ActType, day: date, *persons: ActPerson, drawn_up_on: date | None = None) -> Act:
    return Act(
        number=number,
        type=kind,
        occurred_on=day,
        place=BRUSSELS,
        drawn_up_on=drawn_up_on or day,
        persons=list(persons),
    )


def _named(role: Role, nrn: str | None = None, first_name: str = "Test") -> ActPerson:
    return ActPerson(role=role, first_name=first_name, last_name="Persona", nrn=nrn)


# ---------------------------------------------------------------------------------------------------- data files
@pytest.mark.parametrize("name", DATA_FILES)
def test_every_text_of_the_data_files_is_printed_as_written(name: str) -> None:
    # Given a register's data file (names, streets, places, courts, offences...)
    texts = _strings(_data(name))
    assert texts
    # Then a document prints each of its texts exactly as written: none needs a character the documents' font lacks
    for text in texts:
        assert printable(text) == text, text


def test_every_person_an_act_links_by_nrn_is_that_person_of_the_national_register() -> None:
    # Given the acts and the national register
    national = get_national_register()
    acts = _data("civil_status_register.json")["acts"]
    linked = [(act, named) for act in acts for named in act["persons"] if "nrn" in named]
    assert len(linked) >= 20

    # Then each NRN is the register's, with the same names and birth date (a birth act's child: its date)
    for act, named in linked:
        person = national.find(named["nrn"])
        assert person is not None, named
        assert (named["first_name"], named["last_name"]) == (person.first_name, person.last_name)
        born = act["occurred_on"] if named["role"] == "child" else named.get("birth_date")
        assert born in (None, person.birth_date.isoformat()), named


def test_the_acts_have_the_mix_the_demos_rely_on(civil_status: SimulatedCivilStatusRegister) -> None:
    # Given the bundled acts
    national = get_national_register()
    acts = civil_status.acts()

    # Then the children of the register's households have birth acts naming their parents
    for child, parents in {
        LEA: {ELISE, MARC},
        NOE: {ELISE, MARC},
        JENS: {PIETER, GRIET},
        SAMI: {GIULIA, KARIM},
    }.items():
        assert civil_status.parents_of(child) == parents
    # And a couple of the register is married; the deceased person of the register has a death act
    assert civil_status.spouses_of(ELISE) == {MARC}
    deceased = [person.nrn for person in national.people() if not person.alive]
    assert [act.subjects[0].nrn for act in acts if act.type is ActType.DEATH and act.subjects[0].nrn] == deceased
    # And at least two acts are over 100 years old, about ancestors the national register does not hold
    public = [act for act in acts if is_public(act, ON)]
    assert len(public) >= 2
    assert all(named.nrn is None for act in public for named in act.persons)
    # And every type of act is there
    assert {act.type for act in acts} == set(ActType)


def test_criminal_records_and_cards_belong_to_people_of_the_national_register() -> None:
    # Given the criminal record and cards data files
    national = get_national_register()
    holders = [record["nrn"] for record in _data("criminal_record.json")["records"]]
    holders += [card["holder"] for card in _data("cards.json")["cards"]]

    # Then each names a person of the national register
    assert all(national.find(nrn) is not None for nrn in holders)


# ---------------------------------------------------------------------------------------------------- acts
def test_an_act_is_found_by_its_number_whatever_the_spaces_and_case(civil_status: SimulatedCivilStatusRegister) -> None:
    # Given the birth act of Léa / When looked up as typed by a citizen / Then it is found
    act = civil_status.act(" 2012/b/01847 ")
    assert act is not None
    assert act.type is ActType.BIRTH
    assert [named.nrn for named in act.subjects] == [LEA]
    # And an unknown number is None
    assert civil_status.act("2012/B/99999") is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": "2013/B/00001"}, "year it was drawn up"),
        ({"number": "2012/M/00001"}, "letter B"),
        ({"drawn_up_on": date(2012, 4, 22)}, "on or after"),
        ({"persons": [_named(Role.CHILD)]}, "at least one parent"),
        ({"persons": [_named(Role.CHILD), _named(Role.CHILD), _named(Role.MOTHER)]}, "1 to 1 child"),
        ({"persons": [_named(Role.CHILD), _named(Role.SPOUSE)]}, "names no spouse"),
        ({"type": ActType.MARRIAGE, "number": "2012/M/00001", "persons": [_named(Role.SPOUSE)]}, "2 to 2 spouse"),
    ],
)
def test_an_inconsistent_act_is_refused(changes: dict[str, Any], message: str) -> None:
    # Given a valid birth act's data with one inconsistency
    data: dict[str, Any] = {
        "number": "2012/B/00001",
        "type": ActType.BIRTH,
        "occurred_on": date(2012, 4, 23),
        "place": BRUSSELS,
        "drawn_up_on": date(2012, 4, 24),
        "persons": [_named(Role.CHILD), _named(Role.MOTHER)],
    }
    Act(**data)  # valid as it stands

    # When validated with the change / Then refused, saying why
    with pytest.raises(ValidationError, match=message):
        Act(**(data | changes))


def test_two_acts_with_one_number_are_refused() -> None:
    # Given two acts sharing a number / When a register is built / Then it is refused
    act = _act("2012/D/00001", ActType.DEATH, date(2012, 1, 1), _named(Role.DECEASED))
    with pytest.raises(ValueError, match="2012/D/00001"):
        SimulatedCivilStatusRegister([act, act])


# ---------------------------------------------------------------------------------------------------- family ties
def test_ascendants_and_descendants_follow_birth_acts_over_generations() -> None:
    # Given three generations linked by two birth acts
    grandmother, mother = make_nrn(date(1940, 1, 1), 2), make_nrn(date(1965, 1, 1), 2)
    child = make_nrn(date(1990, 1, 1), 1)
    born = ActType.BIRTH
    register = SimulatedCivilStatusRegister(
        [
            _act("1965/B/00001", born, date(1965, 1, 1), _named(Role.CHILD, mother), _named(Role.MOTHER, grandmother)),
            _act("1990/B/00001", born, date(1990, 1, 1), _named(Role.CHILD, child), _named(Role.MOTHER, mother)),
        ]
    )

    # Then the grandchild's ascendants are both, the grandmother's descendants are both, and nothing loops
    assert ascendants(register, child) == {mother, grandmother}
    assert descendants(register, grandmother) == {mother, child}
    assert ascendants(register, grandmother) == frozenset()
    # And an NRN written with separators is the same person; an invalid one has no family
    assert ascendants(register, format_nrn(child)) == {mother, grandmother}
    assert descendants(register, "not a number") == frozenset()


@pytest.mark.parametrize(
    ("applicant", "number", "expected"),
    [
        (ELISE, "1987/B/00123", Relationship.CONCERNED),  # her own birth
        (ELISE, "2011/M/00412", Relationship.CONCERNED),  # her own marriage
        (MARC, "1987/B/00123", Relationship.SPOUSE),  # his wife's birth
        (ELISE, "2012/B/01847", Relationship.ASCENDANT),  # her daughter's birth
        (LEA, "1987/B/00123", Relationship.DESCENDANT),  # her mother's birth
        (LEA, "2011/M/00412", Relationship.DESCENDANT),  # her parents' marriage
        (HUGO, "2024/D/00388", Relationship.DESCENDANT),  # his mother's death
        (HUGO, "1931/B/02964", Relationship.DESCENDANT),  # his mother's birth
        (PIETER, "2012/B/01847", None),  # a neighbour's child
        (ELISE, "2024/D/00388", None),  # a stranger's death
        (NOE, "2012/B/01847", None),  # his sister: siblings are not in the list
    ],
)
def test_relationship_to_an_act(
    civil_status: SimulatedCivilStatusRegister, applicant: str, number: str, expected: Relationship | None
) -> None:
    # Given an applicant and a bundled act
    act = civil_status.act(number)
    assert act is not None

    # When their relationship to whom the act is about is asked / Then it is the closest tie, or none
    assert relationship(civil_status, applicant, act) is expected


def test_a_parent_named_in_a_birth_act_is_an_ascendant_even_when_the_child_has_no_nrn() -> None:
    # Given an old birth act whose child has no NRN but whose mother has one
    mother = make_nrn(date(1950, 5, 5), 2)
    act = _act("1975/B/00001", ActType.BIRTH, date(1975, 1, 1), _named(Role.CHILD), _named(Role.MOTHER, mother))
    register = SimulatedCivilStatusRegister([act])

    # Then the mother is the child's ascendant for that act
    assert relationship(register, mother, act) is Relationship.ASCENDANT


@pytest.mark.parametrize(
    ("drawn_up_on", "on", "public"),
    [
        (date(1926, 11, 28), date(2026, 11, 29), True),  # over 100 years
        (date(1926, 11, 29), date(2026, 11, 29), False),  # exactly 100 years: not yet over
        (date(1926, 11, 30), date(2026, 11, 29), False),
        (date(1900, 2, 27), date(2000, 2, 29), True),  # 1900 had no 29 February: the 28th stands for it
        (date(1900, 2, 28), date(2000, 2, 29), False),
    ],
)
def test_an_act_is_public_once_over_100_years_old(drawn_up_on: date, on: date, public: bool) -> None:
    act = _act(f"{drawn_up_on.year}/D/00001", ActType.DEATH, drawn_up_on, _named(Role.DECEASED))
    assert is_public(act, on) is public


def test_anyone_may_obtain_an_old_act_but_only_family_a_recent_one(civil_status: SimulatedCivilStatusRegister) -> None:
    # Given Pieter, who is no relative of the Prototype ancestors nor of Léa
    old, recent = civil_status.act("1898/B/00872"), civil_status.act("2012/B/01847")
    assert old is not None
    assert recent is not None

    # Then he may obtain the act of 1898, not the one of 2012; Léa's mother may obtain hers
    assert may_obtain_extract(civil_status, PIETER, old, ON)
    assert not may_obtain_extract(civil_status, PIETER, recent, ON)
    assert may_obtain_extract(civil_status, ELISE, recent, ON)


# ---------------------------------------------------------------------------------------------------- criminal record
def test_most_people_have_no_criminal_record_entry() -> None:
    # Given the bundled criminal record
    register = get_criminal_record_register()
    people = get_national_register().people()

    # Then exactly Hugo and Lotte have entries, oldest first; everyone else none
    with_entries = {person.nrn for person in people if register.entries(person.nrn)}
    assert with_entries == {HUGO, LOTTE}
    days = [entry.decided_on for entry in register.entries(HUGO)]
    assert days == sorted(days)
    assert len(days) == 2
    # And the same entries for any model and any way of writing the number
    assert register.entries(format_nrn(HUGO), ExtractModel.MINORS) == register.entries(HUGO)


def test_an_invalid_number_never_reads_as_a_clean_criminal_record() -> None:
    # Given the criminal record / When asked about a malformed number / Then it raises instead of saying "none"
    with pytest.raises(InvalidNrnError):
        get_criminal_record_register().entries("72030324139")


def test_criminal_record_entries_are_oldest_first_and_one_record_per_person() -> None:
    text = LocalizedText(fr="x", nl="x", en="x")
    newer = CriminalRecordEntry(decided_on=date(2020, 1, 1), court=text, offence=text, sentence=text)
    older = newer.model_copy(update={"decided_on": date(2010, 1, 1)})
    # Given entries out of order / Then the record is refused
    with pytest.raises(ValidationError, match="oldest first"):
        CriminalRecord(nrn=HUGO, entries=[newer, older])
    # Given two records of one person / Then the register is refused
    record = CriminalRecord(nrn=HUGO, entries=[older, newer])
    with pytest.raises(ValueError, match="share"):
        SimulatedCriminalRecordRegister([record, record])


def test_article_596_models_need_a_purpose_and_595_does_not() -> None:
    assert {model.value for model in ExtractModel if model.needs_purpose} == {"596.1", "596.2"}
    assert not ExtractModel.GENERAL.needs_purpose


# ---------------------------------------------------------------------------------------------------- cards
@pytest.fixture(scope="module")
def cards() -> SimulatedCardRegister:
    return SimulatedCardRegister()


def test_every_bundled_card_number_has_valid_check_digits() -> None:
    # Given the cards data file / Then every number is 123-1234567-12 with its mod-97 check digits
    for card in _data("cards.json")["cards"]:
        digits = card["number"].replace("-", "")
        assert card_check_digits(digits[:10]) == digits[10:], card["number"]


def test_a_renewed_card_replaces_the_expired_one(cards: SimulatedCardRegister) -> None:
    # Given Élise, whose first card expired after she got a new one
    held = cards.cards(ELISE)
    # Then both are on record, oldest first, and the current and active card is the new one
    assert [card.status for card in held] == [CardStatus.EXPIRED, CardStatus.ACTIVE]
    assert cards.current_card(ELISE) == held[-1]
    assert cards.active_card(ELISE, ON) == held[-1]
    assert cards.active_card(format_nrn(ELISE), ON) == held[-1]


def test_an_expired_card_a_revoked_card_and_no_card_give_no_active_card(cards: SimulatedCardRegister) -> None:
    # Given Hugo (expired card), Georgette (card revoked at her death, within its validity) and Sami (no card)
    hugo, georgette = cards.current_card(HUGO), cards.current_card(GEORGETTE)
    assert hugo is not None
    assert hugo.status is CardStatus.EXPIRED
    assert georgette is not None
    assert georgette.status is CardStatus.REVOKED
    assert georgette.valid_from <= ON <= georgette.valid_until
    # Then none of them has an active card; Sami has no card at all
    for nrn in (HUGO, GEORGETTE, SAMI):
        assert cards.active_card(nrn, ON) is None
    assert cards.current_card(SAMI) is None
    assert cards.cards("garbage") == ()


def test_every_other_living_person_has_an_active_card(cards: SimulatedCardRegister) -> None:
    # Given the living people of the national register
    living = {person.nrn for person in get_national_register().people() if person.alive}
    # Then all but Hugo (expired) and Sami (none) have a card they can use
    assert {nrn for nrn in living if cards.active_card(nrn, ON) is not None} == living - {HUGO, SAMI}
    # And a Belgian child under 12 holds a Kids-ID, an EU citizen an E card
    noe, siobhan = cards.active_card(NOE, ON), cards.active_card(SIOBHAN, ON)
    assert noe is not None
    assert noe.kind is CardKind.KIDS_ID
    assert siobhan is not None
    assert siobhan.kind is CardKind.E_CARD


def test_a_card_is_usable_only_within_its_validity_whatever_its_status_says() -> None:
    # Given an active card valid in 2020-2030
    card = Card(
        number="592-1234567-32",
        holder=ELISE,
        kind=CardKind.EID,
        valid_from=date(2020, 1, 1),
        valid_until=date(2030, 1, 1),
        status=CardStatus.ACTIVE,
    )
    register = SimulatedCardRegister([card])
    # Then it is usable inside its validity, not before nor after, even though the register still says active
    assert register.active_card(ELISE, date(2030, 1, 1)) == card
    assert register.active_card(ELISE, date(2030, 1, 2)) is None
    assert register.active_card(ELISE, date(2019, 12, 31)) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": "592-1234567-33"}, "check digits"),
        ({"number": "5921234567-32"}, "written 123-1234567-12"),
        ({"valid_until": date(2020, 1, 1)}, "valid until a day after"),
        ({"holder": "87031413236"}, "national register number"),
    ],
)
def test_an_invalid_card_is_refused(changes: dict[str, Any], message: str) -> None:
    data: dict[str, Any] = {
        "number": "592-1234567-32",
        "holder": ELISE,
        "kind": CardKind.EID,
        "valid_from": date(2020, 1, 1),
        "valid_until": date(2030, 1, 1),
        "status": CardStatus.ACTIVE,
    }
    with pytest.raises(ValidationError, match=message):
        Card(**(data | changes))


def test_two_cards_with_one_number_are_refused() -> None:
    card = Card(
        number="592-1234567-32",
        holder=ELISE,
        kind=CardKind.EID,
        valid_from=date(2020, 1, 1),
        valid_until=date(2030, 1, 1),
        status=CardStatus.ACTIVE,
    )
    with pytest.raises(ValueError, match="592-1234567-32"):
        SimulatedCardRegister([card, card.model_copy(update={"holder": MARC})])


def test_card_check_digits_are_the_remainder_modulo_97_or_97() -> None:
    assert card_check_digits("5921234567") == "32"
    assert card_check_digits("0000000097") == "97"  # a remainder of 0 is written 97
    with pytest.raises(ValueError, match="ten digits"):
        card_check_digits("592123456")


# ---------------------------------------------------------------------------------------------------- Registers
def test_registers_bundle_the_simulated_adapters_by_default() -> None:
    # Given the registers of this process, and a bundle built with only a national register
    registers = get_registers()
    mine = Registers(national=SimulatedNationalRegister([]))

    # Then every register is there, and the ones not given are this process's
    assert registers.national is get_national_register()
    assert registers.civil_status is get_civil_status_register()
    assert registers.criminal_record is get_criminal_record_register()
    assert registers.cards is get_card_register()
    assert (mine.civil_status, mine.criminal_record, mine.cards) == (
        registers.civil_status,
        registers.criminal_record,
        registers.cards,
    )
