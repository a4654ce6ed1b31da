"""What the state machines hand to the step functions (each builds its step's object at cold start: see
``omnicity.application.workflow``).

Step inputs are validated into models; a malformed input is a :class:`StepInputError` (never retried: the case is
marked failed by the state machine's Catch).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from omnicity.adapters.card_producer import Dispatch
from omnicity.domain.errors import StepInputError


class CaseStep(BaseModel):
    """The state passed between steps: the case id (and what earlier steps added, ignored here)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    case_id: str = Field(min_length=1, max_length=64)


class NotifyStep(CaseStep):
    message: str = Field(min_length=1, max_length=64)


class OpenTaskStep(CaseStep):
    """What a ``.waitForTaskToken`` Task hands the step that queues a human task."""

    task_token: str = Field(min_length=1, max_length=4096)


class Decision(BaseModel):
    """What the API sends back with SendTaskSuccess when an agent completes a task: the task's id and the outcome,
    nothing a person wrote (an execution's history keeps it 90 days); the step reads the rest from the task."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    task_id: str = Field(min_length=1, max_length=64)
    outcome: str = Field(min_length=1, max_length=32)


class DecisionStep(CaseStep):
    decision: Decision


class DispatchStep(CaseStep):
    """The card producer's confirmation of a PIN letter (the output of the task that waited for it)."""

    dispatch: Dispatch


class StepError(BaseModel):
    """What a Catch puts under ``$.error``. ``Cause`` may be null (a task failure sent without a cause): no cause,
    never an input MarkFailed refuses (its case would be left open)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    error: str = Field(alias="Error", default="States.Unknown")
    cause: str = Field(alias="Cause", default="")

    @field_validator("cause", mode="before")
    @classmethod
    def _null_cause(cls, value: Any) -> Any:
        return "" if value is None else value


class FailedStep(CaseStep):
    error: StepError


StepT = TypeVar("StepT", bound=CaseStep)


def parse(model: type[StepT], event: Any) -> StepT:
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(part) for part in err["loc"]) for err in exc.errors())
        raise StepInputError(f"invalid step input: {fields}") from None
