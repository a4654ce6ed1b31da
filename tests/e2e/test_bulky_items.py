"""Bulky items removal end to end: a collection day chosen among the open slots and booked with the case, a field
crew marking it collected, the citizen told; full days, days the rules refuse and too much volume refused; and the
citizen's cancellation, which frees the place and ends the workflow."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count
from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime
from omnicity.adapters import slots
from omnicity.adapters.slots import SlotBook
from omnicity.application.workflow import HumanSteps
from omnicity.capabilities import booking
from omnicity.capabilities.booking import Booking
from omnicity.catalogue import get_catalogue
from omnicity.domain.models import today_in_brussels
from omnicity.domain.nrn import make_nrn
from tests.conftest import ELISE, PIETER, Api, is_not_found

PROCEDURE = "bulky-items-removal"
SLOTS = f"/v1/procedures/{PROCEDURE}/slots"
RUE_HAUTE = {"street": "Rue Haute", "number": "120", "postal_code": "1000"}
_sequence = count(601)


def form(day: str, **changes: Any) -> dict[str, Any]:
    return {
        "address": RUE_HAUTE,
        "items": [{"item": "sofa", "quantity": 1}, {"item": "chairs", "quantity": 4}],
        "collection_date": day,
        "access_notes": "Code de la porte : 1234",
        **changes,
    }


def submit(api: Api, token: str, day: str, language: str = "fr", **changes: Any) -> Any:
    body = {"procedure_id": PROCEDURE, "language": language, "form": form(day, **changes)}
    return api.request("POST", "/v1/cases", token=token, body=body)


def open_slots(api: Api) -> dict[str, int]:
    """The open days, public (no token): date -> places left."""
    reply = api.request("GET", SLOTS)
    assert reply.status == 200, reply.body
    return {slot["date"]: slot["remaining"] for slot in reply.json["items"]}


def queue(api: Api, agent: str, status: str = "open") -> list[dict[str, Any]]:
    reply = api.request("GET", "/v1/agent/tasks", token=agent, query=f"department=cleanliness&status={status}")
    assert reply.status == 200, reply.body
    return list(reply.json["items"])


def new_citizen(api: Api) -> str:
    """A citizen with no case yet (not in the register: this procedure asks nothing of it)."""
    return api.token(make_nrn(date(1980, 5, 5), next(_sequence)))


def my_cases(api: Api, token: str) -> list[dict[str, Any]]:
    reply = api.request("GET", "/v1/cases", token=token)
    assert reply.status == 200, reply.body
    return list(reply.json["items"])


@pytest.fixture(scope="module")
def crew(api: Api) -> str:
    return api.token("crew-12", role="agent", client="counter", departments=["cleanliness"])


@pytest.fixture(scope="module")
def book(runtime: LocalRuntime) -> SlotBook:
    return SlotBook(next(iter(runtime.description.tables.values())).name, client=boto3.client("dynamodb"))


def test_the_open_days_are_public_weekdays_two_business_days_ahead(api: Api) -> None:
    # When anyone asks for the open days
    reply = api.request("GET", SLOTS)
    # Then they are weekdays, from 2 business days ahead to 30 days ahead, each with its places left
    assert reply.status == 200
    items = reply.json["items"]
    days = [date.fromisoformat(slot["date"]) for slot in items]
    today = today_in_brussels()
    assert days
    assert min(days) >= booking.add_business_days(today, 2)
    assert max(days) <= today + timedelta(days=30)
    assert all(day.weekday() < 5 for day in days)
    assert all(0 < slot["remaining"] <= slot["capacity"] == 8 for slot in items)
    # And a procedure that books no day has no slots
    assert is_not_found(api.request("GET", "/v1/procedures/residence-certificate/slots"))
    assert is_not_found(api.request("GET", "/v1/procedures/no-such-procedure/slots"))


def test_the_procedure_tells_clients_it_books_a_day_and_until_when_it_can_be_cancelled(api: Api) -> None:
    # When a kiosk reads the procedure (public)
    reply = api.request("GET", f"/v1/procedures/{PROCEDURE}")
    # Then its capabilities say it books a day on its collection_date field, cancellable until 2 days before, and
    # that a cleanliness crew decides; an agent's instructions are not published
    assert reply.status == 200
    capabilities = {item["name"]: item["settings"] for item in reply.json["capabilities"]}
    assert list(capabilities) == ["booking", "review"]
    assert capabilities["booking"]["field"] == "collection_date"
    assert capabilities["booking"]["cancellable_until_days_before"] == 2
    assert capabilities["review"]["department"] == "cleanliness"
    assert "instructions" not in capabilities["review"]
    # And a certificate has none
    assert api.request("GET", "/v1/procedures/residence-certificate").json["capabilities"] == []


def test_a_booked_collection_is_marked_collected_by_a_field_crew_and_the_citizen_is_told(api: Api, crew: str) -> None:
    # Given Élise and the first open day
    token = api.token(ELISE)
    day, left = next(iter(open_slots(api).items()))
    # When she books a collection on it
    reply = submit(api, token, day)
    assert reply.status == 201, reply.body
    created = reply.json
    # Then the day has one place less, and the case waits for the cleanliness department's crew
    assert open_slots(api).get(day, 0) == left - 1
    waiting = api.wait_for_status(created["case_id"], token, "waiting")
    assert waiting["form"]["collection_date"] == day
    assert waiting["timeline"][-1]["event"] == "task_opened:collection"
    task = next(task for task in queue(api, crew) if task["reference"] == created["reference"])
    assert task["kind"] == "collection"
    assert task["outcomes"] == ["collected", "not_collected"]
    # When the crew marks it collected (no comment needed)
    done = api.request("POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=crew, body={"outcome": "collected"})
    assert done.status == 200, done.body
    # Then the case is completed with the outcome, and Élise is told in French
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created["case_id"], token)
    assert case["status"] == "completed"
    assert case["outcome"] == "collected"
    mail = next(m for m in api.outbox() if created["reference"] in m["subject"])
    assert mail["to"] == ["elise.exemplaire@example.be"]
    assert "les encombrants ont été enlevés" in mail["body"]
    # And a completed collection can no longer be cancelled
    late = api.request("POST", f"/v1/cases/{created['case_id']}/cancel", token=token)
    assert late.status == 409
    assert late.json["error"]["code"] == "not_cancellable"


def test_a_full_day_is_refused_and_the_citizen_learns_it(api: Api, book: SlotBook) -> None:
    # Given the last open day, filled up by others
    day = list(open_slots(api))[-1]
    procedure = get_catalogue().get(PROCEDURE)
    for _ in range(open_slots(api)[day]):
        book.book(procedure.id, date.fromisoformat(day), Booking.required(procedure).capacity_per_day)
    token = new_citizen(api)
    # Then it is no longer listed, and booking it is a conflict naming the date field
    assert day not in open_slots(api)
    reply = submit(api, token, day)
    assert reply.status == 409
    assert reply.json["error"]["code"] == "slot_full"
    assert reply.json["error"]["details"] == [
        {"field": "form.collection_date", "reason": "this day is full: choose another day among the open slots"}
    ]
    # And nothing was stored for the citizen
    assert my_cases(api, token) == []


def first_weekend_day(after: date) -> date:
    day = after
    while day.weekday() < 5:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize(
    ("chosen", "reason"),
    [
        (lambda today: today + timedelta(days=1), "too soon"),
        (lambda today: today, "too soon"),
        (lambda today: first_weekend_day(booking.add_business_days(today, 2)), "not a collection day"),
        (lambda today: today + timedelta(days=31), "too far ahead"),
    ],
    ids=["tomorrow", "today", "weekend", "beyond-the-horizon"],
)
def test_a_day_the_rules_refuse_is_a_422_naming_the_field_and_books_nothing(
    api: Api, book: SlotBook, chosen: Any, reason: str
) -> None:
    # Given a citizen choosing a day the rules refuse
    token = new_citizen(api)
    day = chosen(today_in_brussels())
    # When they submit
    reply = submit(api, token, day.isoformat())
    # Then the date field is named with the reason, and nothing is stored or booked
    assert reply.status == 422
    [detail] = reply.json["error"]["details"]
    assert detail["field"] == "form.collection_date"
    assert detail["reason"].startswith(reason), detail
    assert my_cases(api, token) == []
    assert book.booked(PROCEDURE, day) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"items": [{"item": "sofa", "quantity": 2}, {"item": "mattress", "quantity": 1}]}, "form.items"),
        ({"items": [{"item": "piano", "quantity": 1}]}, "form.items[0].item"),
        ({"items": [{"item": "chairs", "quantity": 7}]}, "form.items[0].quantity"),
        ({"items": []}, "form.items"),
        ({"address": {**RUE_HAUTE, "postal_code": "2000"}}, "form.address.postal_code"),
        ({"collection_date": "next tuesday"}, "form.collection_date"),
        ({"access_notes": "x" * 501}, "form.access_notes"),
    ],
    ids=["volume-cap", "unknown-item", "too-many", "no-items", "antwerp", "not-a-date", "notes-too-long"],
)
def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(api: Api, changes: dict[str, Any], field: str) -> None:
    token = new_citizen(api)
    day = next(iter(open_slots(api)))
    before = open_slots(api)[day]
    reply = submit(api, token, day, **changes)
    assert reply.status == 422
    assert field in [detail["field"] for detail in reply.json["error"]["details"]], reply.json
    assert my_cases(api, token) == []
    assert open_slots(api)[day] == before


def test_the_volume_cap_says_how_much_is_too_much(api: Api) -> None:
    token = new_citizen(api)
    day = next(iter(open_slots(api)))
    reply = submit(api, token, day, items=[{"item": "sofa", "quantity": 2}, {"item": "chairs", "quantity": 1}])
    assert reply.status == 422
    assert reply.json["error"]["details"] == [{"field": "form.items", "reason": "3.2 m3 in all: at most 3 m3"}]
    # while exactly the cap is fine
    exactly = submit(api, token, day, items=[{"item": "wardrobe", "quantity": 2}, {"item": "fridge", "quantity": 1}])
    assert exactly.status == 201, exactly.body


def test_cancelling_frees_the_place_ends_the_workflow_and_the_case_stays_cancelled(api: Api, crew: str) -> None:
    # Given Pieter's collection, waiting for the crew
    token = api.token(PIETER)
    day = list(open_slots(api))[1]
    created = submit(api, token, day, language="nl").json
    api.wait_for_status(created["case_id"], token, "waiting")
    task = next(task for task in queue(api, crew) if task["reference"] == created["reference"])
    left = open_slots(api)[day]
    # When he cancels it
    reply = api.request("POST", f"/v1/cases/{created['case_id']}/cancel", token=token)
    # Then the case is cancelled, with the step on its timeline, and the day has its place back
    assert reply.status == 200, reply.body
    assert reply.json["status"] == "cancelled"
    assert reply.json["timeline"][-1]["event"] == "cancelled"
    assert open_slots(api)[day] == left + 1
    # And the workflow ended cleanly, the crew's task left the open queue, and the case stayed cancelled
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    assert task["task_id"] not in [t["task_id"] for t in queue(api, crew)]
    assert task["task_id"] in [t["task_id"] for t in queue(api, crew, status="cancelled")]
    late = api.request("POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=crew, body={"outcome": "collected"})
    assert late.status == 409
    case = api.case(created["case_id"], token)
    assert case["status"] == "cancelled"
    assert [entry["event"] for entry in case["timeline"]][-1] == "cancelled"
    # And cancelling again answers the cancelled case, without freeing a second place
    again = api.request("POST", f"/v1/cases/{created['case_id']}/cancel", token=token)
    assert again.status == 200
    assert again.json["status"] == "cancelled"
    assert open_slots(api)[day] == left + 1


def test_a_case_cancelled_right_after_submission_stays_cancelled(api: Api, crew: str) -> None:
    # Given a collection cancelled before its workflow reached the crew (or while it opened the task)
    token = new_citizen(api)
    day = list(open_slots(api))[2]
    left = open_slots(api)[day]
    created = submit(api, token, day).json
    reply = api.request("POST", f"/v1/cases/{created['case_id']}/cancel", token=token)
    assert reply.status == 200, reply.body
    # Then the workflow ends by itself, no task waits in the queue, and the case stays cancelled
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    assert created["reference"] not in [task["reference"] for task in queue(api, crew)]
    case = api.case(created["case_id"], token)
    assert case["status"] == "cancelled"
    assert "failed" not in [entry["event"] for entry in case["timeline"]]
    assert open_slots(api)[day] == left


def test_only_the_citizen_can_cancel_their_booking(api: Api, crew: str) -> None:
    # Given Élise's collection
    elise = api.token(ELISE)
    day = list(open_slots(api))[3]
    created = submit(api, elise, day).json
    # When Pieter, an agent, or a made-up case id try to cancel
    path = f"/v1/cases/{created['case_id']}/cancel"
    by_pieter = api.request("POST", path, token=api.token(PIETER))
    by_agent = api.request("POST", path, token=crew)
    unknown = api.request("POST", "/v1/cases/0b8e4f4e-5a47-4f7e-9a57-3f1f0c2d9b11/cancel", token=elise)
    anonymous = api.request("POST", path)
    # Then it is the same 404 as a case that does not exist (401 without a token), and the case is untouched
    assert is_not_found(by_pieter)
    assert is_not_found(by_agent)
    assert is_not_found(unknown)
    assert by_pieter.json["error"]["code"] == by_agent.json["error"]["code"] == unknown.json["error"]["code"]
    assert anonymous.status == 401
    assert api.case(created["case_id"], elise)["status"] != "cancelled"


def test_a_booking_cannot_be_cancelled_from_the_day_before_the_collection(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Élise's collection
    token = api.token(ELISE)
    day = list(open_slots(api))[4]
    created = submit(api, token, day).json
    api.wait_for_status(created["case_id"], token, "waiting")
    collection = date.fromisoformat(day)
    left = open_slots(api)[day]
    path = f"/v1/cases/{created['case_id']}/cancel"
    # When she tries to cancel on the day before it (and on the day itself)
    for today in (collection - timedelta(days=1), collection):
        monkeypatch.setattr(slots, "today_in_brussels", lambda today=today: today)
        reply = api.request("POST", path, token=token)
        # Then it is refused, saying until when she could have
        assert reply.status == 409
        assert reply.json["error"]["code"] == "not_cancellable"
        [detail] = reply.json["error"]["details"]
        assert detail["field"] == "form.collection_date"
        assert (collection - timedelta(days=2)).isoformat() in detail["reason"]
    monkeypatch.undo()
    # And the booking holds
    assert api.case(created["case_id"], token)["status"] != "cancelled"
    assert open_slots(api)[day] == left
    # While two days before, she still can
    monkeypatch.setattr(slots, "today_in_brussels", lambda: collection - timedelta(days=2))
    assert api.request("POST", path, token=token).status == 200


def test_a_cancellation_while_the_task_is_being_opened_closes_the_task_and_the_workflow(
    api: Api, crew: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the citizen cancelling at the very moment the workflow opens the crew's task (before it is stored)
    token = new_citizen(api)
    day = list(open_slots(api))[5]
    open_task = HumanSteps.open_task

    def cancelled_meanwhile(self: HumanSteps, case_id: str, task_token: str) -> Any:
        assert api.request("POST", f"/v1/cases/{case_id}/cancel", token=token).status == 200
        return open_task(self, case_id, task_token)

    monkeypatch.setattr(HumanSteps, "open_task", cancelled_meanwhile)
    created = submit(api, token, day).json
    # Then the task the step opened is withdrawn at once, the workflow ends cleanly, and the case stays cancelled
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    assert created["reference"] not in [task["reference"] for task in queue(api, crew)]
    assert created["reference"] in [task["reference"] for task in queue(api, crew, status="cancelled")]
    case = api.case(created["case_id"], token)
    assert case["status"] == "cancelled"
    assert [entry["event"] for entry in case["timeline"]] == [
        "submitted",
        "validated",
        "eligibility_confirmed",
        "cancelled",
    ]


def test_twenty_citizens_booking_the_same_day_at_once_get_exactly_its_capacity(api: Api) -> None:
    # Given an open day with N places left, and twenty citizens submitting for it at the same moment through the API
    import threading

    day, left = max(open_slots(api).items(), key=lambda slot: slot[0])  # the farthest day: untouched by others
    tokens = [new_citizen(api) for _ in range(20)]
    start = threading.Barrier(len(tokens))
    statuses: list[int] = []
    lock = threading.Lock()

    def book(token: str) -> None:
        start.wait()
        reply = submit(api, token, day)
        with lock:
            statuses.append(reply.status)

    threads = [threading.Thread(target=book, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly N cases were accepted, the others were told the day is full, and the day is full
    assert sorted(statuses) == [201] * left + [409] * (len(tokens) - left)
    assert day not in open_slots(api)
