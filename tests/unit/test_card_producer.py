"""The card producer port and its simulated adapter (a moto table built from template.yaml, a fake Step Functions),
and the workflow steps of a PIN letter order (in-memory fakes): an order is placed once, confirmed once, and every
retry or race on the way leaves one letter and an answer on the token the workflow waits on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local.provision import create_table
from infra.local.runtime import FAKE_CREDENTIALS
from infra.local.template import REGION, describe
from omnicity.adapters.card_producer import (
    OrderStatus,
    PinLetterOrder,
    SimulatedCardProducer,
    order_id_for,
)
from omnicity.adapters.notifications import compose
from omnicity.adapters.registries import Registers, get_national_register
from omnicity.application.card_order import PinLetterDispatches, PinLetterOrders
from omnicity.application.workflow import Notifications
from omnicity.catalogue import get_catalogue
from omnicity.catalogue.eligibility import active_eid_card
from omnicity.domain.errors import ConflictError, StepInputError, TransientError
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from tests.conftest import ELISE, PIETER, TEMPLATE
from tests.fakes import FakeCaseRepository, FakeSender

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DELAY = timedelta(hours=1)
CARD = "592-7705142-28"  # Élise's active eID
HUGO = "72030324138"  # fictional; his only card expired
SAMI = "21120300967"  # fictional; no card at all


def gone(code: str = "TaskTimedOut") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "nobody waits"}}, "SendTaskSuccess")


@dataclass
class FakeStepFunctions:
    """Step Functions' SendTaskSuccess: records answers; tokens in ``closed`` are no longer waited on."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: set[str] = field(default_factory=set)
    error: ClientError | None = None
    before_answer: Any = None

    def send_task_success(self, *, taskToken: str, output: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if self.before_answer is not None:
            self.before_answer()
        if self.error is not None:
            raise self.error
        if taskToken in self.closed:
            raise gone()
        self.sent.append((taskToken, json.loads(output)))
        self.closed.add(taskToken)  # a task answered is closed: answering it again fails
        return {}


@pytest.fixture(scope="module")
def table_name() -> Iterator[str]:
    table = describe(TEMPLATE).tables["CasesTable"]
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        create_table(boto3.client("dynamodb", region_name=REGION), table)
        yield table.name


@pytest.fixture
def states() -> FakeStepFunctions:
    return FakeStepFunctions()


@pytest.fixture
def producer(table_name: str, states: FakeStepFunctions) -> SimulatedCardProducer:
    client = boto3.client("dynamodb", region_name=REGION)
    return SimulatedCardProducer(table_name, delay=DELAY, client=client, stepfunctions=states)


_counter = iter(range(1, 10_000))


def order(token: str = "token-1", case_id: str | None = None, card: str = CARD) -> PinLetterOrder:  # noqa: S107
    case_id = case_id or f"case-{next(_counter)}"
    return PinLetterOrder(order_id=order_id_for(case_id), case_id=case_id, card_number=card, callback_token=token)


# ------------------------------------------------------------------------------------------------ the adapter
def test_an_order_is_confirmed_once_it_is_due_and_only_then(
    producer: SimulatedCardProducer, states: FakeStepFunctions
) -> None:
    # Given an order placed now (the producer takes an hour)
    placed = order()
    assert producer.order_pin_letter(placed, now=NOW) == placed.order_id
    # When the producer looks before the hour, then after it
    early = producer.confirm_due(NOW + DELAY - timedelta(seconds=1))
    late = producer.confirm_due(NOW + DELAY)
    # Then nothing is confirmed early; then the waiting workflow hears the order id and the Brussels dispatch date
    assert early == []
    assert late == [placed.order_id]
    assert states.sent == [("token-1", {"order_id": placed.order_id, "dispatched_on": "2026-03-02"})]
    stored = producer.get(placed.order_id)
    assert stored is not None
    assert stored.status is OrderStatus.DISPATCHED
    assert stored.dispatched_on == date(2026, 3, 2)
    # And the order left the queue: later rounds find nothing
    assert producer.confirm_due(NOW + 10 * DELAY) == []
    assert len(states.sent) == 1


def test_the_due_queue_is_oldest_first_and_bounded(producer: SimulatedCardProducer) -> None:
    later, earlier = order(), order()
    producer.order_pin_letter(later, now=NOW + timedelta(days=30, minutes=5))
    producer.order_pin_letter(earlier, now=NOW + timedelta(days=30))
    due = producer.due(NOW + timedelta(days=31), limit=100)
    ids = [o.order_id for o in due]
    assert ids.index(earlier.order_id) < ids.index(later.order_id)
    assert len(producer.due(NOW + timedelta(days=31), limit=1)) == 1


def test_a_repeated_order_places_nothing_more(producer: SimulatedCardProducer, states: FakeStepFunctions) -> None:
    # Given an order
    placed = order()
    producer.order_pin_letter(placed, now=NOW)
    first = producer.get(placed.order_id)
    # When the same order comes again, later (a retried step with the same input)
    assert producer.order_pin_letter(placed, now=NOW + timedelta(minutes=10)) == placed.order_id
    # Then it is the same order, due when it first was, and one letter is dispatched
    assert producer.get(placed.order_id) == first
    producer.confirm_due(NOW + DELAY)
    assert [token for token, _ in states.sent] == ["token-1"]


def test_a_retried_step_with_a_new_token_is_answered_on_the_new_token_only(
    producer: SimulatedCardProducer, states: FakeStepFunctions
) -> None:
    # Given an order, repeated with the token of a second attempt (Step Functions gives each attempt its own)
    first = order("attempt-1")
    producer.order_pin_letter(first, now=NOW)
    producer.order_pin_letter(first.model_copy(update={"callback_token": "attempt-2"}), now=NOW + timedelta(seconds=5))
    # When it is due
    confirmed = producer.confirm_due(NOW + DELAY)
    # Then one letter, answered on the token the workflow now waits on
    assert confirmed == [first.order_id]
    assert [token for token, _ in states.sent] == ["attempt-2"]


def test_a_new_token_after_the_dispatch_is_answered_at_once_with_the_same_dispatch(
    producer: SimulatedCardProducer, states: FakeStepFunctions
) -> None:
    # Given an order dispatched yesterday, whose answer reached a step attempt that had already failed
    first = order("attempt-1")
    producer.order_pin_letter(first, now=NOW)
    producer.confirm_due(NOW + DELAY)
    # When the retried attempt orders again, a day later, with its new token
    producer.order_pin_letter(first.model_copy(update={"callback_token": "attempt-2"}), now=NOW + timedelta(days=1))
    # Then the producer answers that token on its next round, with the letter's original dispatch date
    assert producer.confirm_due(NOW + timedelta(days=1)) == [first.order_id]
    assert states.sent[-1] == ("attempt-2", {"order_id": first.order_id, "dispatched_on": "2026-03-02"})


def test_an_answer_nobody_waits_for_is_dropped_and_the_order_closed(
    producer: SimulatedCardProducer, states: FakeStepFunctions
) -> None:
    # Given an order whose workflow timed out meanwhile
    placed = order("expired")
    producer.order_pin_letter(placed, now=NOW)
    states.closed.add("expired")
    # When it is due: the answer is refused, the letter is dispatched anyway and leaves the queue
    assert producer.confirm_due(NOW + DELAY) == [placed.order_id]
    stored = producer.get(placed.order_id)
    assert stored is not None
    assert stored.status is OrderStatus.DISPATCHED
    assert producer.confirm_due(NOW + 2 * DELAY) == []


def test_an_answer_sent_twice_after_a_crash_is_harmless(
    producer: SimulatedCardProducer, states: FakeStepFunctions
) -> None:
    # Given a round that answered the workflow but crashed before marking the order (simulated: answered by hand)
    placed = order("token-crash")
    producer.order_pin_letter(placed, now=NOW)
    states.send_task_success(taskToken="token-crash", output=json.dumps({"order_id": placed.order_id}))
    # When the next round runs: the repeated answer is refused (the task is closed) and the order is closed once
    assert producer.confirm_due(NOW + DELAY) == [placed.order_id]
    assert [token for token, _ in states.sent] == ["token-crash"]


def test_a_throttled_answer_keeps_the_order_pending(producer: SimulatedCardProducer, states: FakeStepFunctions) -> None:
    placed = order()
    producer.order_pin_letter(placed, now=NOW)
    states.error = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendTaskSuccess")
    with pytest.raises(TransientError):
        producer.confirm_due(NOW + DELAY)
    stored = producer.get(placed.order_id)
    assert stored is not None
    assert stored.status is OrderStatus.PENDING
    states.error = None
    assert placed.order_id in producer.confirm_due(NOW + DELAY)


def test_a_token_renewed_during_a_round_is_answered_in_the_next(
    producer: SimulatedCardProducer, states: FakeStepFunctions
) -> None:
    # Given a round answering an order while a retried step renews its token
    placed = order("attempt-1")
    producer.order_pin_letter(placed, now=NOW)

    def retried_step() -> None:
        states.before_answer = None
        producer.order_pin_letter(placed.model_copy(update={"callback_token": "attempt-2"}), now=NOW)

    states.before_answer = retried_step
    # When the round ends, the order stays pending (its token changed); the next round answers the new token
    assert producer.confirm_due(NOW + DELAY) == []
    assert producer.confirm_due(NOW + DELAY) == [placed.order_id]
    assert [token for token, _ in states.sent] == ["attempt-1", "attempt-2"]


def test_an_order_id_is_never_reused_for_another_card(producer: SimulatedCardProducer) -> None:
    placed = order()
    producer.order_pin_letter(placed, now=NOW)
    with pytest.raises(ConflictError):
        producer.order_pin_letter(placed.model_copy(update={"card_number": "592-3318846-72"}), now=NOW)


def test_the_producer_refuses_a_negative_delay_and_an_order_a_bad_card_number(table_name: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        SimulatedCardProducer(table_name, delay=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="check digits"):
        order(card="592-7705142-29")


def test_order_ids_are_stable_per_case_and_distinct_between_cases() -> None:
    assert order_id_for("case-a") == order_id_for("case-a")
    assert order_id_for("case-a") != order_id_for("case-b")


# ------------------------------------------------------------------------------------------------ the workflow
@dataclass
class FakeCardProducer:
    orders: dict[str, PinLetterOrder] = field(default_factory=dict)
    calls: int = 0

    def order_pin_letter(self, order: PinLetterOrder) -> str:
        self.calls += 1
        self.orders[order.order_id] = order  # one order per id; a repeat only takes the new token
        return order.order_id


@dataclass
class World:
    """The card order's steps and the notification after them, each built over the same fakes, as its function
    builds it."""

    orders: PinLetterOrders
    dispatches: PinLetterDispatches
    notifications: Notifications
    cases: FakeCaseRepository
    producer: FakeCardProducer
    sender: FakeSender

    def add(
        self, nrn: str = ELISE, status: CaseStatus = CaseStatus.IN_PROGRESS, language: Language = Language.FR
    ) -> Case:
        case_id = f"case-{next(_counter)}"
        return self.cases.put(
            Case(
                case_id=case_id,
                reference=f"BXL-2026-{next(_counter):06d}",
                procedure_id="eid-pin-code",
                applicant=Applicant(nrn=nrn, email="someone@example.be"),
                channel=Channel.PORTAL,
                language=language,
                form={},
                status=status,
                timeline=[TimelineEntry(at=NOW, status=status, event="submitted", actor="citizen")],
                submitted_by="citizen",
                created_at=NOW,
                updated_at=NOW,
            )
        )


@pytest.fixture
def world() -> World:
    cases, producer, sender = FakeCaseRepository(), FakeCardProducer(), FakeSender()
    registers = Registers(national=get_national_register())
    return World(
        PinLetterOrders(cases, registers.cards, producer),
        PinLetterDispatches(cases),
        Notifications(cases, get_catalogue(), registers, sender),
        cases,
        producer,
        sender,
    )


def test_the_order_step_orders_the_active_card_and_the_case_waits(world: World) -> None:
    case = world.add()
    order_id = world.orders.order_pin_letter(case.case_id, "token-1")
    assert order_id == order_id_for(case.case_id)
    assert world.producer.orders[order_id].card_number == CARD
    waiting = world.cases.get(case.case_id)
    assert waiting.status is CaseStatus.WAITING
    assert waiting.timeline[-1].event == "pin_letter_ordered"


def test_a_retried_order_step_hands_the_new_token_and_leaves_the_case_as_it_is(world: World) -> None:
    case = world.add()
    world.orders.order_pin_letter(case.case_id, "attempt-1")
    waiting = world.cases.get(case.case_id)
    world.orders.order_pin_letter(case.case_id, "attempt-2")
    assert world.producer.orders[order_id_for(case.case_id)].callback_token == "attempt-2"
    assert len(world.producer.orders) == 1
    assert world.cases.get(case.case_id) == waiting


@pytest.mark.parametrize("status", [CaseStatus.SUBMITTED, CaseStatus.REJECTED, CaseStatus.COMPLETED])
def test_no_letter_is_ordered_for_a_case_not_in_progress(world: World, status: CaseStatus) -> None:
    case = world.add(status=status)
    with pytest.raises(StepInputError):
        world.orders.order_pin_letter(case.case_id, "token")
    assert world.producer.calls == 0


def test_no_letter_is_ordered_when_the_card_is_no_longer_active(world: World) -> None:
    case = world.add(nrn=HUGO)
    with pytest.raises(StepInputError, match="no active card"):
        world.orders.order_pin_letter(case.case_id, "token")


def test_the_dispatch_is_recorded_once_by_the_producer(world: World) -> None:
    case = world.add()
    world.orders.order_pin_letter(case.case_id, "token")
    order_id = order_id_for(case.case_id)
    assert world.dispatches.record_dispatch(case.case_id, order_id, date(2026, 3, 3)) == "dispatched"
    assert world.dispatches.record_dispatch(case.case_id, order_id, date(2026, 3, 3)) == "dispatched"
    recorded = world.cases.get(case.case_id)
    assert recorded.status is CaseStatus.IN_PROGRESS
    entries = [entry for entry in recorded.timeline if entry.event == "pin_letter_dispatched"]
    assert len(entries) == 1
    assert entries[0].actor == "card-producer"
    assert entries[0].note is not None
    assert entries[0].note.en == "2026-03-03"


def test_a_dispatch_for_another_order_or_a_closed_case_changes_nothing(world: World) -> None:
    case = world.add()
    world.orders.order_pin_letter(case.case_id, "token")
    with pytest.raises(StepInputError):
        world.dispatches.record_dispatch(case.case_id, order_id_for("another-case"), date(2026, 3, 3))
    closed = world.add(status=CaseStatus.CANCELLED)
    assert world.dispatches.record_dispatch(closed.case_id, order_id_for(closed.case_id), date(2026, 3, 3)) == "closed"


def test_the_email_says_where_the_letter_goes_without_the_street(world: World) -> None:
    # Given Pieter's case, in Dutch, whose letter was dispatched
    case = world.add(nrn=PIETER, language=Language.NL)
    world.orders.order_pin_letter(case.case_id, "token")
    world.dispatches.record_dispatch(case.case_id, order_id_for(case.case_id), date(2026, 3, 3))
    # When he is told
    world.notifications.notify(case.case_id, "pin_letter_sent")
    # Then the email names his municipality in Dutch, not his street nor his card
    (email,) = world.sender.sent
    assert "domicilieadres in 1020 Laken." in email.body
    assert "Bockstael" not in email.body
    assert "592-3318846-72" not in email.body


@pytest.mark.parametrize(
    ("language", "municipality", "expected"),
    [
        (Language.FR, "1000 Bruxelles", "à votre adresse de domicile à 1000 Bruxelles."),
        (Language.NL, "1000 Brussel", "naar uw domicilieadres in 1000 Brussel."),
        (Language.EN, "1000 Bruxelles / Brussel", "to your registered address in 1000 Bruxelles / Brussel."),
    ],
)
def test_the_letter_email_exists_in_every_language(language: Language, municipality: str, expected: str) -> None:
    procedure = get_catalogue().get("eid-pin-code")
    mail = compose("pin_letter_sent", _case(language), procedure, "x@example.be", {"municipality": municipality})
    assert expected in mail.body
    assert "BXL-2026-000001" in mail.subject
    assert procedure.title.in_language(language) in mail.subject


def test_without_a_known_municipality_the_email_still_reads() -> None:
    mail = compose(
        "pin_letter_sent", _case(Language.FR), get_catalogue().get("eid-pin-code"), "x@example.be", {"municipality": ""}
    )
    assert "à votre adresse de domicile. Comptez" in mail.body


def _case(language: Language) -> Case:
    return Case(
        case_id="case-mail",
        reference="BXL-2026-000001",
        procedure_id="eid-pin-code",
        applicant=Applicant(nrn=ELISE, email="someone@example.be"),
        channel=Channel.PORTAL,
        language=language,
        form={},
        status=CaseStatus.IN_PROGRESS,
        timeline=[TimelineEntry(at=NOW, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
        submitted_by="citizen",
        created_at=NOW,
        updated_at=NOW,
    )


# ------------------------------------------------------------------------------------------------ eligibility
@pytest.mark.parametrize(
    ("nrn", "reason"),
    [(ELISE, None), (PIETER, None), (HUGO, "no_active_eid_card"), (SAMI, "no_active_eid_card")],
    ids=["active", "active-nl", "expired", "none"],
)
def test_only_an_active_card_gets_new_codes(nrn: str, reason: str | None) -> None:
    registers = Registers(national=get_national_register())
    assert active_eid_card(_case(Language.FR).model_copy(update={"applicant": Applicant(nrn=nrn)}), registers) == reason
