"""The slot book against a moto table built from template.yaml: capacity taken atomically under concurrency, places
given back, open days listed with one Query; and a submission that cannot be stored or started gives its place back."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local.runtime import LocalRuntime
from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.documents import Uploads
from omnicity.adapters.executions import WorkflowStarter
from omnicity.adapters.slots import SlotBook, SlotFullError
from omnicity.application.submissions import Submissions
from omnicity.application.views import SubmitCaseRequest
from omnicity.capabilities.base import Submission
from omnicity.capabilities.booking import Booking, open_slots
from omnicity.catalogue import Catalogue, get_catalogue, retention_days_of
from omnicity.domain.errors import ConflictError, TransientError
from omnicity.domain.identity import Principal
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, Procedure, Role, TimelineEntry
from tests.conftest import ELISE
from tests.fakes import CountingClient, NoLimit, make_case

MONDAY = date(2026, 3, 2)
WEDNESDAY = MONDAY + timedelta(days=2)
NEXT_MONDAY = MONDAY + timedelta(days=7)


def procedure(capacity: int = 3) -> Procedure:
    """The bulky-items procedure under a fresh id (its own slots) and the capacity the test needs."""
    bulky = get_catalogue().get("bulky-items-removal")
    booking = Booking.required(bulky).model_copy(update={"capacity_per_day": capacity})
    capabilities = {**bulky.capabilities, "booking": booking}
    return bulky.model_copy(update={"id": f"bulky-{uuid.uuid4().hex[:8]}", "capabilities": capabilities})


def take(book: SlotBook, bulky: Procedure, day: date) -> None:
    """One place on ``day``, within the procedure's capacity (SlotFullError when none is left)."""
    book.book(bulky.id, day, Booking.required(bulky).capacity_per_day)


def test_twenty_concurrent_bookings_of_a_day_with_capacity_three_give_exactly_three(table: str) -> None:
    # Given a day with 3 places, and 20 citizens booking it at the same moment (the local runtime gives moto
    # DynamoDB's per-item atomic writes: see infra/local/atomic_writes.py)
    bulky = procedure(capacity=3)
    book = SlotBook(table, client=boto3.client("dynamodb"), today=lambda: MONDAY)
    start = threading.Barrier(20)
    booked: list[int] = []
    full: list[int] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        start.wait()
        try:
            take(book, bulky, WEDNESDAY)
        except SlotFullError:
            with lock:
                full.append(index)
        else:
            with lock:
                booked.append(index)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly 3 got a place, the 17 others were told the day is full, and the day holds 3 bookings
    assert len(booked) == 3
    assert len(full) == 17
    assert book.booked(bulky.id, WEDNESDAY) == 3
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"SLOT#{bulky.id}"}, "sk": {"S": WEDNESDAY.isoformat()}}
    )["Item"]
    assert item["booked"] == {"N": "3"}
    assert item["capacity"] == {"N": "3"}


def test_a_full_day_names_the_date_field(table: str) -> None:
    # Given a day of 1 place, taken
    bulky = procedure(capacity=1)
    book = SlotBook(table, client=boto3.client("dynamodb"), today=lambda: MONDAY)
    take(book, bulky, WEDNESDAY)
    # When the booking capability reserves it for another case / Then a 409 naming the form's date field
    case = make_case(bulky.id, form={"collection_date": WEDNESDAY.isoformat()})
    with pytest.raises(SlotFullError) as raised:
        Booking().reserve(bulky, case, Submission(places=book, uploads=Uploads("unused")))
    assert raised.value.http_status == 409
    assert raised.value.details == [
        {"field": "form.collection_date", "reason": "this day is full: choose another day among the open slots"}
    ]
    assert book.booked(bulky.id, WEDNESDAY) == 1


def test_freeing_gives_a_place_back_and_never_goes_below_zero(table: str) -> None:
    # Given a full day of 2 places
    bulky = procedure(capacity=2)
    book = SlotBook(table, client=boto3.client("dynamodb"), today=lambda: MONDAY)
    take(book, bulky, WEDNESDAY)
    take(book, bulky, WEDNESDAY)
    # When one booking is cancelled, a new one fits again
    book.free(bulky.id, WEDNESDAY)
    assert book.booked(bulky.id, WEDNESDAY) == 1
    take(book, bulky, WEDNESDAY)
    assert book.booked(bulky.id, WEDNESDAY) == 2
    # And freeing more than was booked (or a day never booked) leaves no negative count
    for _ in range(3):
        book.free(bulky.id, WEDNESDAY)
    book.free(bulky.id, NEXT_MONDAY)
    assert book.booked(bulky.id, WEDNESDAY) == 0
    assert book.booked(bulky.id, NEXT_MONDAY) == 0


def test_the_open_days_come_from_one_query_merged_with_the_calendar(table: str) -> None:
    # Given a day full, a day partly booked, and the rest never booked
    bulky = procedure(capacity=2)
    seeding = SlotBook(table, client=boto3.client("dynamodb"), today=lambda: MONDAY)
    thursday = WEDNESDAY + timedelta(days=1)
    take(seeding, bulky, WEDNESDAY)
    take(seeding, bulky, WEDNESDAY)
    take(seeding, bulky, thursday)
    # When the open days are listed
    client = CountingClient(boto3.client("dynamodb"))
    listed = open_slots(bulky, SlotBook(table, client=client, today=lambda: MONDAY))
    # Then DynamoDB was asked once, with a Query (never a Scan)
    assert client.calls == ["query"]
    # And the full day is left out, the partly booked one shows what remains, the others their full capacity
    by_day = {slot.date: (slot.remaining, slot.capacity) for slot in listed.items}
    assert WEDNESDAY not in by_day
    assert by_day[thursday] == (1, 2)
    assert by_day[thursday + timedelta(days=1)] == (2, 2)
    assert all(day.weekday() < 5 for day in by_day)
    assert min(by_day) == thursday
    assert max(by_day) <= MONDAY + timedelta(days=30)
    assert [slot.date for slot in listed.items] == sorted(by_day)


# ------------------------------------------------------------------------------------------ the submission's hook
class StepFunctions:
    """Just enough of a Step Functions client: ``start_execution`` raises ``error``, or records the call."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.started: list[str] = []

    def start_execution(self, **request: Any) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.started.append(request["name"])
        return {"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:m:x"}


class BrokenRepository(CaseRepository):
    """A repository whose case writes fail (the table refuses the transaction)."""

    def create(self, case: Case) -> Case:
        raise ConflictError(f"case {case.case_id} or reference {case.reference} already exists")


def service(repository: CaseRepository, bulky: Procedure, book: SlotBook, client: StepFunctions) -> Submissions:
    uploads = Uploads("unused")
    return Submissions(
        repository,
        Catalogue([bulky]),
        WorkflowStarter(lambda _family: "arn:aws:states:eu-west-1:123456789012:stateMachine:m", client),
        book,
        uploads,
        NoLimit(),
    )


ELISE_ON_THE_PORTAL = Principal(role=Role.CITIZEN, subject=ELISE, channel=Channel.PORTAL, nrn=ELISE)


def request(bulky: Procedure, day: date) -> SubmitCaseRequest:
    form = {
        "address": {"street": "Rue Haute", "number": "120", "postal_code": "1000"},
        "items": [{"item": "sofa", "quantity": 1}],
        "collection_date": day.isoformat(),
    }
    return SubmitCaseRequest(procedure_id=bulky.id, language=Language.FR, form=form)


def test_a_submission_books_its_day_before_the_case_is_stored(table: str) -> None:
    bulky = procedure(capacity=1)
    book = SlotBook(table, client=boto3.client("dynamodb"), today=lambda: MONDAY)
    client = StepFunctions()
    created = service(CaseRepository(table, retention=retention_days_of), bulky, book, client).submit(
        ELISE_ON_THE_PORTAL, request(bulky, WEDNESDAY)
    )
    assert created.status is CaseStatus.SUBMITTED
    assert client.started == [created.case_id]
    assert book.booked(bulky.id, WEDNESDAY) == 1


def test_a_case_that_cannot_be_stored_gives_its_place_back(table: str) -> None:
    # Given a table that refuses the case
    bulky = procedure(capacity=1)
    book = SlotBook(table, client=boto3.client("dynamodb"), today=lambda: MONDAY)
    cases = service(BrokenRepository(table, retention=retention_days_of), bulky, book, StepFunctions())
    # When the citizen submits
    with pytest.raises(ConflictError):
        cases.submit(ELISE_ON_THE_PORTAL, request(bulky, WEDNESDAY))
    # Then the day's only place is free again
    assert book.booked(bulky.id, WEDNESDAY) == 0


def test_a_workflow_that_cannot_start_gives_its_place_back(table: str) -> None:
    # Given Step Functions that throttles
    bulky = procedure(capacity=1)
    book = SlotBook(table, client=boto3.client("dynamodb"), today=lambda: MONDAY)
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "StartExecution")
    repository = CaseRepository(table, retention=retention_days_of)
    cases = service(repository, bulky, book, StepFunctions(throttled))
    # When the citizen submits
    with pytest.raises(TransientError):
        cases.submit(ELISE_ON_THE_PORTAL, request(bulky, WEDNESDAY))
    # Then the case is recorded failed, and the place is free again for someone else
    assert book.booked(bulky.id, WEDNESDAY) == 0
    mine, _ = repository.list_for_citizen(ELISE, limit=5)
    failed = next(case for case in mine if case.procedure_id == bulky.id)
    assert failed.status is CaseStatus.FAILED


def test_a_day_the_rules_refuse_books_nothing(table: str) -> None:
    bulky = procedure(capacity=1)
    book = SlotBook(table, client=boto3.client("dynamodb"), today=lambda: MONDAY)
    client = StepFunctions()
    saturday = MONDAY + timedelta(days=5)
    with pytest.raises(Exception, match="invalid fields"):
        service(CaseRepository(table, retention=retention_days_of), bulky, book, client).submit(
            ELISE_ON_THE_PORTAL, request(bulky, saturday)
        )
    assert book.booked(bulky.id, saturday) == 0
    assert client.started == []


# ------------------------------------------------------------------------------------------ the API's sample events
EVENTS = Path(__file__).resolve().parents[2] / "events"


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text(encoding="utf-8")))


def test_the_slot_and_cancel_sample_events_answer(runtime: LocalRuntime, table: str) -> None:
    # Given the open days (sample event: the public slots of bulky-items-removal)
    listed = runtime.bridge.invoke_function("ApiFunction", sample("api_list_slots.json"))
    assert listed["statusCode"] == 200
    first = json.loads(listed["body"])["items"][0]
    # And Élise's collection on the last of them, stored under the sample event's case id
    event = sample("api_cancel_case.json")
    case_id = event["pathParameters"]["case_id"]
    day = date.fromisoformat(json.loads(listed["body"])["items"][-1]["date"])
    bulky = get_catalogue().get("bulky-items-removal")
    now = datetime.now(UTC)
    CaseRepository(table, retention=retention_days_of).create(
        Case(
            case_id=case_id,
            reference="BXL-2099-000777",
            procedure_id=bulky.id,
            applicant=Applicant(nrn=ELISE, email="elise.exemplaire@example.be"),
            channel=Channel.PORTAL,
            language=Language.FR,
            form=dict(request(bulky, day).form),
            status=CaseStatus.SUBMITTED,
            timeline=[TimelineEntry(at=now, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
            submitted_by="citizen",
            created_at=now,
            updated_at=now,
        )
    )
    take(SlotBook(table), bulky, day)
    # When the sample cancellation is sent
    cancelled = runtime.bridge.invoke_function("ApiFunction", event)
    # Then the case is cancelled and the day's place is free again
    assert cancelled["statusCode"] == 200, cancelled["body"]
    assert json.loads(cancelled["body"])["status"] == "cancelled"
    assert SlotBook(table).booked(bulky.id, day) == 0
    assert first["capacity"] == Booking.required(bulky).capacity_per_day
