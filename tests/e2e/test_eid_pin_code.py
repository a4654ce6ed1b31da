"""New PIN/PUK codes for an eID: the order goes to the (simulated) card producer, the case waits for its confirmation
(a task token), then the citizen is told the letter is on its way to their registered address.

The runtime here answers at once (``CardProducerDelaySeconds=0``) and runs no schedule timer: each test fires the
producer's schedule itself (``run_schedules``, one tick of the timer), so every step is observed deterministically.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime
from infra.local.scheduler import LocalScheduler
from omnicity import aws
from omnicity.adapters.card_producer import order_id_for
from omnicity.adapters.cases import CaseRepository
from omnicity.catalogue import retention_days_of
from omnicity.config import load_settings
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from tests.conftest import ELISE, PIETER, ROOT, TEMPLATE, Api

PROCEDURE = "eid-pin-code"
SIMULATOR = "CardProducerSimulatorFunction.ConfirmDueOrders"
HUGO = "72030324138"  # fictional; his only card expired in 2025
SAMI = "21120300967"  # fictional; a child with no card at all


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """The platform with a card producer that answers at once, and no timer: tests fire the schedule themselves."""
    aws.reset_clients()
    load_settings.cache_clear()
    with LocalRuntime(
        TEMPLATE, mode="inprocess", parameters={"CardProducerDelaySeconds": "0"}, schedule_interval=0
    ) as local:
        yield local
    aws.reset_clients()
    load_settings.cache_clear()


def submit(api: Api, token: str, language: str = "fr", form: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"procedure_id": PROCEDURE, "language": language, "form": form if form is not None else {}}
    reply = api.request("POST", "/v1/cases", token=token, body=body)
    assert reply.status == 201, reply.body
    return dict(reply.json)


def order_item(runtime: LocalRuntime, case_id: str) -> dict[str, Any]:
    table = runtime.description.tables["CasesTable"].name
    key = {"pk": {"S": f"PRODUCER#ORDER#{order_id_for(case_id)}"}, "sk": {"S": "ORDER"}}
    item = boto3.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    assert item is not None, f"no order for case {case_id}"
    return dict(item)


def events(case: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in case["timeline"]]


def mails_about(api: Api, reference: str) -> list[dict[str, Any]]:
    return [mail for mail in api.outbox() if reference in mail["subject"]]


def test_the_letter_is_ordered_the_case_waits_and_completes_when_the_producer_confirms(
    api: Api, runtime: LocalRuntime
) -> None:
    # Given Pieter, Dutch-speaking, living in Laeken, with an active eID
    token = api.token(PIETER)
    # When he asks for new codes
    created = submit(api, token, language="nl", form={"reason": "forgotten"})
    # Then the case waits for the card producer, with the order on its timeline
    waiting = api.wait_for_status(created["case_id"], token, "waiting")
    assert events(waiting)[-1] == "pin_letter_ordered"
    order = order_item(runtime, created["case_id"])
    assert order["status"]["S"] == "pending"
    assert order["card_number"]["S"] == "592-3318846-72"
    assert "holder" not in order
    assert "street" not in str(order)  # the producer reads the address in the register: the order carries none
    assert mails_about(api, created["reference"]) == []
    # When the producer's schedule runs (the letter is due at once here)
    replies = runtime.run_schedules()
    assert order_id_for(created["case_id"]) in replies[SIMULATOR]["confirmed"]
    # Then the workflow resumes and the case is completed, the dispatch recorded by the producer
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created["case_id"], token)
    assert case["status"] == "completed"
    assert events(case)[-3:] == ["pin_letter_dispatched", "notified:pin_letter_sent", "completed"]
    dispatched = next(entry for entry in case["timeline"] if entry["event"] == "pin_letter_dispatched")
    assert dispatched["actor"] == "card-producer"
    assert case["documents"] == []
    assert order_item(runtime, created["case_id"])["status"]["S"] == "dispatched"
    # And Pieter is told in Dutch that the letter goes to his registered address in Laeken, without the street
    (mail,) = mails_about(api, created["reference"])
    assert mail["subject"].startswith("Nieuwe pin- en pukcode van de identiteitskaart: uw codebrief is onderweg")
    assert "naar uw domicilieadres in 1020 Laken." in mail["body"]
    assert "Bockstael" not in mail["body"]
    assert "592-3318846-72" not in mail["body"]


def test_the_email_names_the_municipality_in_the_case_language(api: Api, runtime: LocalRuntime) -> None:
    # Given Élise, who lives in Brussels, asking in English
    token = api.token(ELISE)
    created = submit(api, token, language="en")
    api.wait_for_status(created["case_id"], token, "waiting")
    # When the producer confirms
    runtime.run_schedules()
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    # Then the email is in English and names both names of her municipality, not her street
    (mail,) = mails_about(api, created["reference"])
    assert "your registered address in 1000 Bruxelles / Brussel." in mail["body"]
    assert "Marché aux Herbes" not in mail["body"]


def test_the_schedule_on_a_timer_confirms_the_order_by_itself(api: Api, runtime: LocalRuntime) -> None:
    # Given the producer's schedule running on a fast timer (what make run does every few seconds)
    timer = LocalScheduler(runtime.description.schedules, runtime.bridge.invoke_payload, interval=0.05)
    timer.start()
    try:
        # When Élise asks for new codes, and nobody does anything else
        token = api.token(ELISE)
        created = submit(api, token)
        # Then the case completes by itself
        assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    finally:
        timer.stop()
    assert api.case(created["case_id"], token)["status"] == "completed"


@pytest.mark.parametrize(
    ("nrn", "why"),
    [(HUGO, "his card expired"), (SAMI, "he never had a card")],
    ids=["expired", "none"],
)
def test_without_an_active_card_the_request_is_rejected_with_the_reason(api: Api, nrn: str, why: str) -> None:
    # Given someone registered in the city without an active card (why)
    token = api.token(nrn)
    # When they ask for new codes
    created = submit(api, token)
    # Then the case is rejected with the localized reason, nothing is ordered, and they are told
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created["case_id"], token)
    assert case["status"] == "rejected", why
    assert case["reason"]["fr"].startswith("Le registre des cartes d'identité ne mentionne aucune carte")
    assert case["reason"]["nl"].startswith("Het register van de identiteitskaarten vermeldt geen geldige")
    assert case["reason"]["en"].startswith("The identity cards register shows no valid electronic card")
    assert "pin_letter_ordered" not in events(case)
    boto_table = api.runtime.description.tables["CasesTable"].name
    key = {"pk": {"S": f"PRODUCER#ORDER#{order_id_for(created['case_id'])}"}, "sk": {"S": "ORDER"}}
    assert "Item" not in boto3.client("dynamodb").get_item(TableName=boto_table, Key=key)
    (mail,) = mails_about(api, created["reference"])
    assert "Le registre des cartes d'identité ne mentionne aucune carte" in mail["body"]


def test_a_retried_order_step_orders_nothing_more(api: Api, runtime: LocalRuntime) -> None:
    # Given a case waiting for the producer
    token = api.token(ELISE)
    created = submit(api, token)
    case_id = created["case_id"]
    api.wait_for_status(case_id, token, "waiting")
    first = order_item(runtime, case_id)
    # When the order step runs again with the same input (Step Functions retrying it after a lost reply)
    again = runtime.bridge.invoke_function(
        "OrderPinLetterFunction", {"case_id": case_id, "task_token": first["callback_token"]["S"]}
    )
    # Then it answers with the same order, and neither the order nor the case moved
    assert again == {"case_id": case_id, "order_id": order_id_for(case_id)}
    assert order_item(runtime, case_id) == first
    assert events(api.case(case_id, token)).count("pin_letter_ordered") == 1
    # And the producer dispatches one letter, once: a second round finds nothing due
    replies = runtime.run_schedules()
    assert replies[SIMULATOR]["confirmed"] == [order_id_for(case_id)]
    assert api.wait(case_id)["status"] == "SUCCEEDED"
    assert runtime.run_schedules()[SIMULATOR]["confirmed"] == []
    case = api.case(case_id, token)
    assert case["status"] == "completed"
    assert events(case).count("pin_letter_dispatched") == 1
    assert len(mails_about(api, created["reference"])) == 1


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"reason": "bored"}, "form.reason"),
        ({"card_number": "592-3318846-72"}, "form.card_number"),
        ({"reason": 3}, "form.reason"),
    ],
    ids=["unknown-choice", "unknown-field", "wrong-type"],
)
def test_bad_input_is_refused_naming_the_field(api: Api, form: dict[str, Any], field: str) -> None:
    token = api.token(ELISE)
    reply = api.request(
        "POST", "/v1/cases", token=token, body={"procedure_id": PROCEDURE, "language": "fr", "form": form}
    )
    assert reply.status == 422, reply.body
    assert field in [detail["field"] for detail in reply.json["error"]["details"]]


def test_a_bad_language_is_refused(api: Api) -> None:
    token = api.token(ELISE)
    reply = api.request("POST", "/v1/cases", token=token, body={"procedure_id": PROCEDURE, "language": "de"})
    assert reply.status == 422, reply.body


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "events" / name).read_text(encoding="utf-8")))


def test_the_new_functions_answer_their_sample_events(runtime: LocalRuntime) -> None:
    # Given the sample events' case, in progress (no workflow: each function is invoked by hand, as with sam local)
    order_event = sample("order_pin_letter.json")
    case_id = order_event["case_id"]
    now = datetime.now(UTC)
    CaseRepository(runtime.description.tables["CasesTable"].name, retention=retention_days_of).create(
        Case(
            case_id=case_id,
            reference="BXL-2099-000404",
            procedure_id=PROCEDURE,
            applicant=Applicant(nrn=ELISE, email="elise.exemplaire@example.be"),
            channel=Channel.KIOSK,
            language=Language.FR,
            form={},
            status=CaseStatus.IN_PROGRESS,
            timeline=[TimelineEntry(at=now, status=CaseStatus.IN_PROGRESS, event="validated", actor="system")],
            submitted_by="citizen",
            created_at=now,
            updated_at=now,
        )
    )
    # When the order step, the producer's schedule and the dispatch step get their sample events
    ordered = runtime.bridge.invoke_function("OrderPinLetterFunction", order_event)
    confirmed = runtime.bridge.invoke_function("CardProducerSimulatorFunction", sample("card_producer_simulator.json"))
    recorded = runtime.bridge.invoke_function("RecordDispatchFunction", sample("record_dispatch.json"))
    # Then the order is the case's, the producer dispatches it (nobody waits on the sample's fake token: the answer
    # is dropped) and the dispatch moves the case on
    assert ordered == {"case_id": case_id, "order_id": sample("record_dispatch.json")["dispatch"]["order_id"]}
    assert confirmed == {"confirmed": [ordered["order_id"]]}
    assert order_item(runtime, case_id)["status"]["S"] == "dispatched"
    assert recorded == {"case_id": case_id, "outcome": "dispatched"}
