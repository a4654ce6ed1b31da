"""The procedure catalogue: the bundled procedures, and how a catalogue directory is checked when it loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from omnicity.catalogue import Catalogue, get_catalogue
from omnicity.errors import NotFoundError
from omnicity.models import Channel, Language, LocalizedText, Procedure
from omnicity.rendering import TEMPLATES_DIR

RESIDENCE = "residence-certificate"


def _texts(text: LocalizedText) -> list[str]:
    return [text.in_language(language) for language in Language]


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


def test_residence_certificate_is_a_free_document_request_in_three_languages() -> None:
    # Given the residence certificate
    procedure = get_catalogue().get(RESIDENCE)

    # Then it is a free document request
    assert procedure.family == "document_request"
    assert procedure.fee_cents == 0
    assert procedure.document is not None
    # and its title is given in three different, non-empty languages
    titles = _texts(procedure.title)
    assert all(title.strip() for title in titles)
    assert len(set(titles)) == 3


def test_residence_certificate_fields_are_labelled_in_three_languages() -> None:
    # Given the residence certificate's form
    procedure = get_catalogue().get(RESIDENCE)
    assert procedure.fields

    # Then every field label and every choice label is non-empty in fr, nl and en
    for field in procedure.fields:
        assert all(label.strip() for label in _texts(field.label)), field.name
        for choice in field.choices or []:
            assert all(label.strip() for label in _texts(choice.label)), f"{field.name}={choice.value}"


def test_every_bundled_document_has_a_template_in_each_language() -> None:
    # Given the procedures that issue a document
    documents = [procedure.document for procedure in get_catalogue().all() if procedure.document is not None]
    assert documents

    # Then each has a template per language the case may be in
    for document in documents:
        for language in Language:
            assert (TEMPLATES_DIR / f"{document.template}.{language.value}.j2").is_file(), (document.template, language)


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
