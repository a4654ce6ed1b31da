import json
from collections import Counter
from datetime import date
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from omnicity.adapters.registries import Address, Person, SimulatedNationalRegister, get_national_register
from omnicity.domain.nrn import birth_date, format_nrn, is_valid_nrn, make_nrn, registered_sex

CITY_OF_BRUSSELS_POSTAL_CODES = {"1000", "1020", "1120", "1130"}
EXAMPLE_DOMAINS = {"example.org", "example.com", "example.be"}


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    # The data file as written, read without the adapter so the checks do not depend on it
    text = resources.files("omnicity.adapters.registries").joinpath("data", "national_register.json").read_text("utf-8")
    people: list[dict[str, Any]] = json.loads(text)["people"]
    return people


@pytest.fixture(scope="module")
def register() -> SimulatedNationalRegister:
    return SimulatedNationalRegister()


def _address(settled_on: date, street: str = "Rue de la Loi") -> Address:
    return Address(
        street=street,
        number="1",
        postal_code="1000",
        municipality_fr="Bruxelles",
        municipality_nl="Brussel",
        settled_on=settled_on,
    )


def _person(nrn: str, **changes: Any) -> Person:
    fields: dict[str, Any] = {
        "nrn": nrn,
        "first_name": "Test",
        "last_name": "Persona",
        "birth_date": date(1985, 7, 30),
        "gender": "M",
        "nationality": "BE",
        "preferred_language": "fr",
        "email": "test.persona@example.org",
        "address": _address(date(2010, 1, 1)),
        "household_id": "HH-TEST",
    }
    return Person(**(fields | changes))


def test_every_nrn_in_the_data_is_valid_normalised_and_unique(records: list[dict[str, Any]]) -> None:
    # Given the people in the data file
    nrns = [record["nrn"] for record in records]

    # Then every number is valid, written as 11 digits, and no two people share one
    assert 12 <= len(records) <= 24  # a small, hand-written set of fictional people
    assert all(is_valid_nrn(nrn) for nrn in nrns)
    assert all(len(nrn) == 11 and nrn.isdigit() for nrn in nrns)
    assert len(set(nrns)) == len(nrns)


def test_every_nrn_agrees_with_the_person(records: list[dict[str, Any]]) -> None:
    # Given the people in the data file
    for record in records:
        # Then the number encodes their birth date and the sex of their sequence matches their gender
        assert birth_date(record["nrn"]) == date.fromisoformat(record["birth_date"]), record["first_name"]
        if record["gender"] in ("F", "M"):
            assert registered_sex(record["nrn"]) == record["gender"], record["first_name"]


def test_emails_are_on_example_domains_only(records: list[dict[str, Any]]) -> None:
    # Given the people in the data file
    # Then nobody can be mailed for real
    domains = {record["email"].rpartition("@")[2] for record in records}
    assert domains <= EXAMPLE_DOMAINS


def test_the_data_has_the_mix_the_demos_rely_on(records: list[dict[str, Any]]) -> None:
    # Given the people in the data file
    first, second = records[0], records[1]
    household_sizes = Counter(record["household_id"] for record in records)
    large_households = {household for household, size in household_sizes.items() if size >= 3}

    # Then the demo citizen is a French speaker in 1000, followed by a Dutch speaker
    assert (first["preferred_language"], first["address"]["postal_code"]) == ("fr", "1000")
    assert second["preferred_language"] == "nl"
    # And every language, the city's postal codes, residence histories and exactly one deceased person are present
    assert {record["preferred_language"] for record in records} == {"fr", "nl", "en"}
    assert {record["address"]["postal_code"] for record in records} == CITY_OF_BRUSSELS_POSTAL_CODES
    assert sum(1 for record in records if record["previous_addresses"]) >= 3
    assert [record.get("alive", True) for record in records].count(False) == 1
    # And at least two households of several members include a child born in 2000 or later
    assert len(large_households) >= 2
    for household in large_households:
        births = [date.fromisoformat(r["birth_date"]) for r in records if r["household_id"] == household]
        assert any(born.year >= 2000 for born in births), household


def test_the_register_loads_every_record(register: SimulatedNationalRegister, records: list[dict[str, Any]]) -> None:
    # Given the simulated register over the bundled data
    # When everyone is listed
    people = register.people()

    # Then every record was validated into a Person, in file order
    assert [person.nrn for person in people] == [record["nrn"] for record in records]
    assert all(isinstance(person, Person) for person in people)


def test_find_accepts_a_formatted_nrn(register: SimulatedNationalRegister) -> None:
    # Given a person of the register
    demo = register.people()[0]

    # When they are looked up by their number as printed on the card
    found = register.find(format_nrn(demo.nrn))

    # Then they are found
    assert found == demo


def test_find_returns_none_for_a_valid_but_unknown_nrn(register: SimulatedNationalRegister) -> None:
    # Given a valid number nobody in the register holds
    unknown = make_nrn(date(1950, 1, 1), 997)
    assert unknown not in {person.nrn for person in register.people()}

    # When it is looked up
    # Then nobody is found
    assert register.find(unknown) is None


@pytest.mark.parametrize("garbage", ["", "hello", "8703141323", "87031413236", "87.03.14-132.36"])
def test_find_returns_none_for_garbage(register: SimulatedNationalRegister, garbage: str) -> None:
    # Given something that is not a valid number (including a known person's number with a wrong check digit)
    # When it is looked up
    # Then nobody is found and nothing is raised
    assert register.find(garbage) is None


def test_the_factory_hands_out_one_register_per_process() -> None:
    # Given the factory
    # When it is called twice
    # Then the data is loaded once and shared
    assert get_national_register() is get_national_register()
    assert len(get_national_register().people()) > 0


def test_an_injected_register_refuses_duplicate_numbers() -> None:
    # Given two people with the same number
    nrn = make_nrn(date(1985, 7, 30), 33)
    twins = [_person(nrn), _person(nrn, first_name="Other")]

    # When a register is built over them
    # Then it is refused
    with pytest.raises(ValueError, match="share one national register number"):
        SimulatedNationalRegister(twins)


def test_a_person_is_immutable_and_normalises_the_nrn() -> None:
    # Given a person built with a formatted number
    person = _person("85.07.30-033.28")

    # Then the number is stored as 11 digits and the record cannot be changed
    assert person.nrn == "85073003328"
    with pytest.raises(ValidationError):
        person.first_name = "Changed"


def test_a_person_with_a_bad_nrn_is_refused() -> None:
    # Given a record whose number has a wrong checksum
    # When it is validated
    # Then validation fails on the number
    with pytest.raises(ValidationError, match="not a valid national register number"):
        _person("85.07.30-033.29")


@pytest.mark.parametrize(
    "previous",
    [
        [_address(date(2012, 1, 1))],  # settled after the current address
        [_address(date(2010, 1, 1))],  # settled the same day as the current address
        [_address(date(2005, 1, 1)), _address(date(2000, 1, 1))],  # newest first
        [_address(date(1980, 1, 1))],  # before the birth
    ],
)
def test_a_residence_history_out_of_order_is_refused(previous: list[Address]) -> None:
    # Given a current address settled on 2010-01-01 and a history that does not lead up to it
    # When the person is validated
    # Then the history is refused
    with pytest.raises(ValidationError, match=r"previous_addresses|birth date"):
        _person(make_nrn(date(1985, 7, 30), 33), previous_addresses=previous)


def test_a_chronological_residence_history_is_kept() -> None:
    # Given a history oldest first, ending before the current address
    previous = [_address(date(2003, 9, 1), "Rue Haute"), _address(date(2007, 5, 1), "Rue Blaes")]

    # When the person is validated
    person = _person(make_nrn(date(1985, 7, 30), 33), previous_addresses=previous)

    # Then the history is kept as given
    assert [address.street for address in person.previous_addresses] == ["Rue Haute", "Rue Blaes"]
