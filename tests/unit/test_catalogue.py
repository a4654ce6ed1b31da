"""The procedure catalogue: the bundled procedures, and how a catalogue directory is checked when it loads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from omnicity.catalogue import Catalogue, get_catalogue
from omnicity.domain.errors import NotFoundError
from omnicity.domain.models import Channel, Language, LocalizedText, Procedure

RESIDENCE = "residence-certificate"
PROCEDURES = get_catalogue().all()


def _localized_texts(value: object, where: str = "") -> Iterator[tuple[str, LocalizedText]]:
    """Every text of ``value`` (a procedure) with where it sits (``fields[2].choices[0].label``), found by walking
    the model: a text the model gains later is checked without changing the tests."""
    if isinstance(value, LocalizedText):
        yield where, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _localized_texts(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _localized_texts(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _localized_texts(item, f"{where}[{key}]")


def _procedure_data(procedure_id: str, **changes: Any) -> dict[str, Any]:
    text = {"fr": "Texte", "nl": "Tekst", "en": "Text"}
    data: dict[str, Any] = {
        "id": procedure_id,
        "family": "document_request",
        "title": text,
        "summary": text,
        "help": text,
        "department": "population",
        "sla_business_days": 0,
        "channels": ["portal"],
        "eligibility": [],
        "fields": [{"name": "purpose", "type": "text", "label": text}],
    }
    return data | changes


def _write(directory: Path, file_name: str, data: dict[str, Any]) -> None:
    (directory / file_name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------- bundled
def test_the_bundled_catalogue_loads_and_holds_the_residence_certificate() -> None:
    # Given the catalogue shipped with the code
    catalogue = Catalogue.from_directory()

    # Then it loads, lists its procedures sorted by id, and the residence certificate is among them
    ids = [procedure.id for procedure in catalogue.all()]
    assert RESIDENCE in ids
    assert ids == sorted(ids)
    assert catalogue.get(RESIDENCE).id == RESIDENCE


def test_the_residence_certificate_is_a_free_document_request() -> None:
    # Given the residence certificate
    procedure = get_catalogue().get(RESIDENCE)

    # Then it is a free document request
    assert procedure.family == "document_request"
    assert procedure.fee_cents == 0
    assert procedure.document is not None


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda procedure: procedure.id)
def test_every_text_of_a_procedure_is_written_in_each_language(procedure: Procedure) -> None:
    # Given every text of the procedure a citizen or an agent reads (titles, help, labels, choices, instructions...)
    texts = list(_localized_texts(procedure))
    assert {"title", "summary", "help"} <= {where for where, _ in texts}

    # Then each is written, not blank, in every language a case may be in
    for where, text in texts:
        for language in Language:
            assert text.in_language(language).strip(), f"{procedure.id}: {where} has no {language.value} text"


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda procedure: procedure.id)
def test_a_procedures_sentences_are_translated_not_copied(procedure: Procedure) -> None:
    # Given the procedure's texts but its labels (a label may be one word several languages share: "Discipline")
    sentences = [(where, text) for where, text in _localized_texts(procedure) if not where.endswith(".label")]

    # Then each says it differently in every language
    for where, text in sentences:
        translations = [text.in_language(language) for language in Language]
        assert len(set(translations)) == len(translations), f"{procedure.id}: {where} is the same in two languages"


def test_get_of_an_unknown_procedure_raises_not_found() -> None:
    # Given the catalogue / When an unknown procedure is asked for / Then NotFoundError
    with pytest.raises(NotFoundError, match="no-such-procedure"):
        get_catalogue().get("no-such-procedure")


# ---------------------------------------------------------------------------------------------------- from_directory
def test_from_directory_loads_valid_files(tmp_path: Path) -> None:
    # Given a directory with two valid procedures
    _write(tmp_path, "birth-certificate.yaml", _procedure_data("birth-certificate"))
    _write(tmp_path, "alpha-permit.yaml", _procedure_data("alpha-permit", channels=["counter"]))

    # When it is loaded
    catalogue = Catalogue.from_directory(tmp_path)

    # Then both are there, with what the files say
    assert [procedure.id for procedure in catalogue.all()] == ["alpha-permit", "birth-certificate"]
    assert catalogue.get("alpha-permit").channels == [Channel.COUNTER]


def test_from_directory_rejects_an_id_that_does_not_match_the_file_name(tmp_path: Path) -> None:
    # Given a file whose procedure id is not its file name
    _write(tmp_path, "birth-certificate.yaml", _procedure_data("death-certificate"))

    # When it is loaded / Then it is refused, naming the file
    with pytest.raises(ValueError, match=r"birth-certificate\.yaml"):
        Catalogue.from_directory(tmp_path)


def test_duplicate_procedure_ids_are_refused() -> None:
    # Given two procedures with the same id
    first = Procedure.model_validate(_procedure_data("birth-certificate"))
    second = Procedure.model_validate(_procedure_data("birth-certificate", department="civil_status"))

    # When a catalogue is built from them / Then it is refused instead of one silently replacing the other
    with pytest.raises(ValueError, match="duplicate"):
        Catalogue([first, second])


@pytest.mark.parametrize("name", ["Purpose", "1st_purpose", "purpose-of-use", "purpose of use", "", "a" * 41])
def test_from_directory_rejects_an_invalid_field_name(tmp_path: Path, name: str) -> None:
    # Given a procedure whose field has a name outside the allowed pattern
    text = {"fr": "Texte", "nl": "Tekst", "en": "Text"}
    data = _procedure_data("birth-certificate", fields=[{"name": name, "type": "text", "label": text}])
    _write(tmp_path, "birth-certificate.yaml", data)

    # When it is loaded / Then validation fails on that field's name
    with pytest.raises(ValidationError) as raised:
        Catalogue.from_directory(tmp_path)
    assert any(error["loc"] == ("fields", 0, "name") for error in raised.value.errors())


# ---------------------------------------------------------------------------------------------------- families
def test_a_procedure_of_an_unknown_family_is_refused_at_load(tmp_path: Path) -> None:
    # Given a procedure whose family no state machine runs (a typo)
    _write(tmp_path, "birth-certificate.yaml", _procedure_data("birth-certificate", family="document_requests"))

    # When it is loaded / Then it is refused, naming the procedure and the family, before any case is submitted
    with pytest.raises(ValueError, match=r"birth-certificate: family 'document_requests'"):
        Catalogue.from_directory(tmp_path)


@pytest.mark.parametrize(("family", "capability"), [("card_order", "card_order"), ("field_service", "review")])
def test_a_procedure_without_a_capability_its_family_needs_is_refused_at_load(
    tmp_path: Path, family: str, capability: str
) -> None:
    # Given a procedure of a family whose steps read a capability's settings, which it does not declare
    _write(tmp_path, "birth-certificate.yaml", _procedure_data("birth-certificate", family=family))

    # When it is loaded / Then it is refused, naming the procedure, the family and the capability
    with pytest.raises(ValueError, match=rf"birth-certificate: the family '{family}' needs .*'{capability}'"):
        Catalogue.from_directory(tmp_path)


def test_a_card_order_procedure_with_its_capability_loads(tmp_path: Path) -> None:
    # Given a card order procedure that declares the card order
    _write(
        tmp_path, "new-codes.yaml", _procedure_data("new-codes", family="card_order", capabilities={"card_order": {}})
    )

    # When it is loaded / Then it is there, of its family
    assert Catalogue.from_directory(tmp_path).get("new-codes").family == "card_order"
