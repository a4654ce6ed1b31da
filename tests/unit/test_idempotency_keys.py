"""The Idempotency-Key header's rules, and what a submission is keyed and validated by."""

from __future__ import annotations

import re

import pytest

from omnicity.application.idempotency import KEY_PATTERN, parse_key, submission_scope
from omnicity.application.views import SubmitCaseRequest
from omnicity.domain.errors import MalformedRequestError
from omnicity.domain.identity import Principal
from omnicity.domain.models import Channel, Role
from tests.conftest import ELISE

UUID = "8e03978e-40d5-43e8-bc93-6894a57f9324"


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (UUID, UUID),
        (f'"{UUID}"', UUID),  # the IETF draft's structured-field string
        ("a" * 8, "a" * 8),
        ("b" * 128, "b" * 128),
        ("order:2026/03.x_y+z=", "order:2026/03.x_y+z="),
    ],
)
def test_a_well_formed_key_is_read_without_its_quotes(header: str, key: str) -> None:
    assert parse_key(header) == key
    # The documented pattern (openapi.json) accepts exactly what the code accepts
    assert re.fullmatch(KEY_PATTERN, header)


@pytest.mark.parametrize(
    "header",
    ["", "a" * 7, "b" * 129, "with space", "semi;colon", "é" * 10, '"unbalanced', 'unbalanced"', '""', '"short"'],
)
def test_a_malformed_key_is_a_400_naming_the_header(header: str) -> None:
    with pytest.raises(MalformedRequestError) as raised:
        parse_key(header)
    assert raised.value.http_status == 400
    assert [detail["field"] for detail in raised.value.details] == ["Idempotency-Key"]
    assert not re.fullmatch(KEY_PATTERN, header)


def test_the_scope_names_the_caller_and_the_channel_and_holds_the_validated_body() -> None:
    # Given one citizen's request, written twice with its fields in another order and an ignored field
    elise = Principal(role=Role.CITIZEN, subject=ELISE, channel=Channel.KIOSK, nrn=ELISE)
    one = SubmitCaseRequest.model_validate(
        {"procedure_id": "residence-certificate", "language": "fr", "form": {"purpose": "employment", "copies": 1}}
    )
    two = SubmitCaseRequest.model_validate(
        {
            "form": {"copies": 1, "purpose": "employment"},
            "channel": "counter",
            "language": "fr",
            "procedure_id": "residence-certificate",
        }
    )
    scope = submission_scope(elise, UUID, one)
    # Then the scope is the same for both, and names who calls, on which channel, with which key
    assert scope == submission_scope(elise, UUID, two)
    assert (scope["caller"], scope["channel"], scope["key"]) == (f"citizen:{ELISE}", "kiosk", UUID)
    # And another role with the same subject is another caller
    agent = Principal(role=Role.AGENT, subject=ELISE, channel=Channel.KIOSK)
    assert submission_scope(agent, UUID, one)["caller"] != scope["caller"]
