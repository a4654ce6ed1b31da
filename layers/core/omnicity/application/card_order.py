"""The card order family's own steps (``statemachines/card_order.asl.json``, ``omnicity.capabilities.card_order``):
order a PIN/PUK letter for the applicant's active identity card from the card producer, then record the producer's
dispatch. The generic steps around them (validation, eligibility, notification, completion) are
``omnicity.application.workflow``'s.

Like every step, each is idempotent (Step Functions retries it) and built once, at cold start, with every
collaborator it uses (``functions/order_pin_letter``, ``functions/record_dispatch``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from omnicity.adapters.card_producer import CardProducer, PinLetterOrder, order_id_for
from omnicity.adapters.registries import CardRegister
from omnicity.application.ports import CaseUpdates
from omnicity.domain.errors import StepInputError
from omnicity.domain.models import SYSTEM_ACTOR, Case, CaseStatus, LocalizedText

Dispatched = Literal["dispatched", "closed"]
CARD_PRODUCER = "card-producer"  # the actor of the dispatch on the case's timeline


class PinLetterOrders:
    """The step ``order_pin_letter`` (a ``.waitForTaskToken`` Task): the order, with the token the producer's
    confirmation resumes the workflow on."""

    def __init__(self, cases: CaseUpdates, cards: CardRegister, producer: CardProducer) -> None:
        self._cases = cases
        self._cards = cards
        self._producer = producer

    def order_pin_letter(self, case_id: str, task_token: str) -> str:
        """Order a new PIN/PUK letter for the applicant's active card; the case waits for the producer's confirmation.

        The order's id is the case's, so a retried step orders nothing more: the producer only takes the new token.
        """
        case = self._cases.get(case_id)
        retried = case.status is CaseStatus.WAITING and case.has_event("pin_letter_ordered")
        if case.status is not CaseStatus.IN_PROGRESS and not retried:
            raise StepInputError(f"case {case_id} is {case.status}: no letter is ordered")
        card = self._cards.active_card(case.applicant_nrn)
        if card is None:
            raise StepInputError(f"case {case_id}: the applicant has no active card any more")
        order = PinLetterOrder(
            order_id=order_id_for(case_id), case_id=case_id, card_number=card.number, callback_token=task_token
        )
        order_id = self._producer.order_pin_letter(order)

        def change(current: Case) -> Case | None:
            if current.status is not CaseStatus.IN_PROGRESS:
                return None
            return current.with_entry(
                "pin_letter_ordered", actor=SYSTEM_ACTOR, at=datetime.now(UTC), status=CaseStatus.WAITING
            )

        self._cases.update(case_id, change)
        return order_id


class PinLetterDispatches:
    """The step ``record_dispatch``: the producer's confirmation of the letter, on the case."""

    def __init__(self, cases: CaseUpdates) -> None:
        self._cases = cases

    def record_dispatch(self, case_id: str, order_id: str, dispatched_on: date) -> Dispatched:
        """The producer dispatched the case's letter: the case goes on (``dispatched``), unless it ended meanwhile."""
        if order_id != order_id_for(case_id):
            raise StepInputError(f"order {order_id!r} is not the order of case {case_id}")
        event = "pin_letter_dispatched"

        def change(case: Case) -> Case | None:
            if case.status is not CaseStatus.WAITING or case.has_event(event):
                return None
            on = dispatched_on.isoformat()
            note = LocalizedText(fr=on, nl=on, en=on)
            at = datetime.now(UTC)
            return case.with_entry(event, actor=CARD_PRODUCER, at=at, status=CaseStatus.IN_PROGRESS, note=note)

        case = self._cases.update(case_id, change)
        return "dispatched" if case.status is CaseStatus.IN_PROGRESS and case.has_event(event) else "closed"
