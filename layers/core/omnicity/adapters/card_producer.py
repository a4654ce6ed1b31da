"""The identity card producer: the port a PIN/PUK letter order goes through, and a simulated adapter.

The city does not print PIN/PUK letters: the card producer does, and mails each one to the card holder's address in
the national register. An order names the card (its number) and carries the Step Functions task token of the
workflow waiting for it; when the letter is dispatched the producer answers on that token (``SendTaskSuccess`` with
a :class:`Dispatch`), which resumes the workflow. A real adapter replaces :class:`SimulatedCardProducer` in
``get_card_producer``.

The simulated producer keeps its orders in the single table, and its scheduled function
(``functions/card_producer_simulator``) confirms every pending order once it is due (``CARD_PRODUCER_DELAY_SECONDS``
after it was placed):

=================================  ====================================================  ==========================
pattern                            key                                                   operation
=================================  ====================================================  ==========================
an order by id                     pk=PRODUCER#ORDER#<order_id>, sk=ORDER                PutItem (if absent),
                                                                                         GetItem, UpdateItem
the pending orders due by a time,  gsi2pk=PRODUCER#PENDING, gsi2sk=<due_at>#<order_id>    Query gsi2, ascending,
oldest first                                                                             gsi2sk <= the time
=================================  ====================================================  ==========================

The queue keys exist only while an order is pending (a sparse index): a confirmed order leaves the queue.

Idempotency: an order's id is derived from its case, so a retried workflow step places no second order; it only
hands the producer its new task token (Step Functions gives each attempt a new one) and, if the order was already
confirmed, the confirmation is sent again on the new token. Confirming is at least once: the answer is sent before
the order is marked dispatched, and an answer the workflow no longer waits for (its token closed or expired) is
simply dropped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

from omnicity import aws
from omnicity.adapters.dynamo import ConditionFailedError, TableRepository, call, from_attributes, to_attributes
from omnicity.adapters.registries.cards import CardNumber
from omnicity.config import CardProducerSettings, load_settings
from omnicity.domain.errors import ConflictError
from omnicity.domain.models import brussels_date
from omnicity.observability import logger

__all__ = [
    "CardProducer",
    "Dispatch",
    "OrderStatus",
    "PinLetterOrder",
    "ProducerOrder",
    "SimulatedCardProducer",
    "get_card_producer",
    "get_simulated_card_producer",
    "order_id_for",
]

ORDER_SK: Final = "ORDER"
PENDING_QUEUE: Final = "PRODUCER#PENDING"
QUEUE_INDEX: Final = "gsi2"
_KEY_ATTRIBUTES: Final = ("pk", "sk", "type", "gsi2pk", "gsi2sk")
_NAMESPACE: Final = uuid.UUID("5b0d4c8e-2f61-4f3a-9c1d-7e8a6b3f2d40")
# What Step Functions answers when nobody waits on a task token any more: the task was closed (its execution went on,
# ended or was retried with a new token) or timed out. The confirmation has nobody to tell: it is dropped.
TOKEN_GONE: Final = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
_UPDATE_ATTEMPTS: Final = 3


def order_id_for(case_id: str) -> str:
    """The id of the PIN letter order of a case: the same for every attempt of the step that places it."""
    return "pin-" + uuid.uuid5(_NAMESPACE, case_id).hex[:20]


class OrderStatus(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PinLetterOrder(_Frozen):
    """What the city asks of the producer: a new PIN/PUK letter for one card, mailed to its holder's registered
    address (the producer reads it in the national register: the order carries no address and no NRN)."""

    order_id: Annotated[str, Field(min_length=1, max_length=64)]
    case_id: Annotated[str, Field(min_length=1, max_length=64)]
    card_number: CardNumber
    callback_token: Annotated[str, Field(min_length=1, max_length=4096)]


class Dispatch(BaseModel):
    """The producer's confirmation, the output of the workflow's waiting task: the letter left on ``dispatched_on``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    order_id: Annotated[str, Field(min_length=1, max_length=64)]
    dispatched_on: date


class ProducerOrder(_Frozen):
    """An order as the simulated producer keeps it."""

    order_id: str
    case_id: str
    card_number: CardNumber
    kind: str = "pin_letter"
    status: OrderStatus
    ordered_at: datetime
    due_at: datetime
    callback_token: str
    dispatched_on: date | None = None
    confirmed_at: datetime | None = None


class CardProducer(Protocol):
    """The port: what the city asks of the card producer."""

    def order_pin_letter(self, order: PinLetterOrder) -> str:
        """Place the order (once per ``order_id``: a repeat only updates its callback token); returns its id."""
        ...


def _stamp(moment: datetime) -> str:
    """A fixed-width UTC timestamp: sorting these strings sorts the moments."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> datetime:
    return datetime.now(UTC)


class SimulatedCardProducer(TableRepository):
    """A card producer that dispatches every letter ``delay`` after it was ordered (DynamoDB + Step Functions)."""

    def __init__(
        self,
        table_name: str,
        *,
        delay: timedelta,
        client: Any | None = None,
        stepfunctions: Any | None = None,
    ) -> None:
        if delay < timedelta(0):
            raise ValueError("the producer's delay cannot be negative")
        super().__init__(table_name, client)
        self._delay = delay
        self._stepfunctions = stepfunctions

    @property
    def stepfunctions(self) -> Any:
        if self._stepfunctions is None:
            self._stepfunctions = aws.stepfunctions()
        return self._stepfunctions

    # ------------------------------------------------------------------------------------------ the port
    def order_pin_letter(self, order: PinLetterOrder, now: datetime | None = None) -> str:
        """Record the order, due ``delay`` from now; a repeated order (a retried step) only takes the new token."""
        moment = now or _now()
        placed = ProducerOrder(
            order_id=order.order_id,
            case_id=order.case_id,
            card_number=order.card_number,
            status=OrderStatus.PENDING,
            ordered_at=moment,
            due_at=moment + self._delay,
            callback_token=order.callback_token,
        )
        try:
            call(
                self.client,
                "put_item",
                TableName=self._table,
                Item=self._item(placed),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConditionFailedError:
            self._renew_token(order, moment)
            return order.order_id
        logger.info("PIN letter ordered", extra={"order_id": order.order_id, "case_id": order.case_id})
        return order.order_id

    # ------------------------------------------------------------------------------------------ the simulation
    def get(self, order_id: str) -> ProducerOrder | None:
        response = call(self.client, "get_item", TableName=self._table, Key=_key(order_id), ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else ProducerOrder.model_validate(from_attributes(item, _KEY_ATTRIBUTES))

    def due(self, now: datetime | None = None, limit: int = 50) -> list[ProducerOrder]:
        """The pending orders due by ``now``, oldest first (at most ``limit``)."""
        response = call(
            self.client,
            "query",
            TableName=self._table,
            IndexName=QUEUE_INDEX,
            KeyConditionExpression="gsi2pk = :queue AND gsi2sk <= :until",
            ExpressionAttributeValues={
                ":queue": {"S": PENDING_QUEUE},
                ":until": {"S": f"{_stamp(now or _now())}#~"},  # '~' sorts after every order id
            },
            ScanIndexForward=True,
            Limit=max(1, min(limit, 100)),
        )
        return [ProducerOrder.model_validate(from_attributes(item, _KEY_ATTRIBUTES)) for item in response["Items"]]

    def confirm_due(self, now: datetime | None = None, limit: int = 50) -> list[str]:
        """Dispatch the letters due by ``now``: answer each waiting workflow, then take the order off the queue.

        Returns the ids of the orders confirmed. Safe to run twice at once, or again after a crash: an answer the
        workflow already had (or no longer waits for) is dropped, and the order is marked dispatched once.
        """
        moment = now or _now()
        confirmed = []
        for order in self.due(moment, limit):
            dispatch = Dispatch(order_id=order.order_id, dispatched_on=order.dispatched_on or brussels_date(moment))
            delivered = self._answer(order, dispatch)
            if self._mark_dispatched(order, dispatch, moment):
                confirmed.append(order.order_id)
                logger.info(
                    "PIN letter dispatched",
                    extra={"order_id": order.order_id, "case_id": order.case_id, "workflow_told": delivered},
                )
        return confirmed

    # ------------------------------------------------------------------------------------------ internals
    def _answer(self, order: ProducerOrder, dispatch: Dispatch) -> bool:
        """SendTaskSuccess on the order's token; False when the workflow no longer waits for it."""
        from botocore.exceptions import ClientError

        try:
            with aws.translate_errors("Step Functions send_task_success"):
                self.stepfunctions.send_task_success(taskToken=order.callback_token, output=dispatch.model_dump_json())
        except ClientError as exc:
            if aws.error_code(exc) not in TOKEN_GONE:
                raise
            logger.warning(
                "nobody waits for this order's confirmation any more",
                extra={"order_id": order.order_id, "error": aws.error_code(exc)},
            )
            return False
        return True

    def _mark_dispatched(self, order: ProducerOrder, dispatch: Dispatch, moment: datetime) -> bool:
        """Take the order off the queue, unless its token changed meanwhile (a retried step: answer that one next)."""
        try:
            call(
                self.client,
                "update_item",
                TableName=self._table,
                Key=_key(order.order_id),
                UpdateExpression="SET #status = :dispatched, dispatched_on = :on, confirmed_at = :at "
                "REMOVE gsi2pk, gsi2sk",
                ConditionExpression="#status = :pending AND callback_token = :token",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":dispatched": {"S": OrderStatus.DISPATCHED.value},
                    ":pending": {"S": OrderStatus.PENDING.value},
                    ":on": {"S": dispatch.dispatched_on.isoformat()},
                    ":at": {"S": moment.isoformat()},
                    ":token": {"S": order.callback_token},
                },
            )
        except ConditionFailedError:
            return False
        return True

    def _renew_token(self, order: PinLetterOrder, moment: datetime) -> None:
        """The order exists: keep it, with the new token; a dispatched one is queued again to answer that token."""
        for _ in range(_UPDATE_ATTEMPTS):
            current = self.get(order.order_id)
            if current is None:  # pragma: no cover - orders are never deleted
                raise ConflictError(f"order {order.order_id} vanished while its token was renewed")
            if current.card_number != order.card_number or current.case_id != order.case_id:
                raise ConflictError(f"order {order.order_id} already exists for another card or case")
            values: dict[str, Any] = {
                ":token": {"S": order.callback_token},
                ":read_token": {"S": current.callback_token},
                ":read_status": {"S": current.status.value},
            }
            update = "SET callback_token = :token"
            if current.status is OrderStatus.DISPATCHED:
                update += ", #status = :pending, gsi2pk = :queue, gsi2sk = :due"
                values |= {
                    ":pending": {"S": OrderStatus.PENDING.value},
                    ":queue": {"S": PENDING_QUEUE},
                    ":due": {"S": f"{_stamp(moment)}#{order.order_id}"},
                }
            try:
                call(
                    self.client,
                    "update_item",
                    TableName=self._table,
                    Key=_key(order.order_id),
                    UpdateExpression=update,
                    ConditionExpression="callback_token = :read_token AND #status = :read_status",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                )
            except ConditionFailedError:
                continue  # confirmed or renewed meanwhile: read it again
            logger.info("PIN letter order repeated: token renewed", extra={"order_id": order.order_id})
            return
        raise ConflictError(f"order {order.order_id} kept changing while its token was renewed")

    def _item(self, order: ProducerOrder) -> dict[str, Any]:
        item = to_attributes(order.model_dump(mode="json"))
        item.update(_key(order.order_id))
        item["type"] = {"S": "producer_order"}
        if order.status is OrderStatus.PENDING:
            item["gsi2pk"] = {"S": PENDING_QUEUE}
            item["gsi2sk"] = {"S": f"{_stamp(order.due_at)}#{order.order_id}"}
        return item


def _key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PRODUCER#ORDER#{order_id}"}, "sk": {"S": ORDER_SK}}


def get_simulated_card_producer() -> SimulatedCardProducer:
    """A simulated producer configured from the environment (a function makes its own at cold start: not cached
    here, so a process that runs several stacks, the local runtime's tests, never reuses another's table or delay)."""
    settings = load_settings(CardProducerSettings)
    return SimulatedCardProducer(settings.table_name, delay=timedelta(seconds=settings.card_producer_delay_seconds))


def get_card_producer() -> CardProducer:
    """The card producer adapter for this process: the one place that chooses which adapter runs."""
    return get_simulated_card_producer()
