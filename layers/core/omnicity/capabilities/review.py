"""A person's decision (a review on file, a visit): an agent of the settings' department decides before the outcome.

The workflow opens the task (``omnicity.application.workflow``: when ``when`` calls for it, a condition of
``omnicity.catalogue.review_conditions``) and records the decision. This module says what the rest of the case's life
owes the task: a cancelled case withdraws it (the workflow waiting on it ends), a failed case closes it in the
transaction that fails the case.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from omnicity.adapters.tasks import task_id_for
from omnicity.capabilities.base import Cancellation, Capability, Closure, Settings, register
from omnicity.domain.models import Case, LocalizedText, Procedure

Name = Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]


class ReviewSettings(Settings):
    department: str
    kind: Name = "review"
    when: str = "always"
    outcomes: Annotated[list[Name], Field(min_length=2)] = ["approve", "refuse"]
    approving: list[str] = ["approve"]
    comment_required: bool = False
    instructions: LocalizedText

    @model_validator(mode="after")
    def _approving_are_outcomes(self) -> ReviewSettings:
        unknown = set(self.approving) - set(self.outcomes)
        if unknown:
            raise ValueError(f"approving names outcomes that do not exist: {sorted(unknown)}")
        return self


@register
class Review(Capability[ReviewSettings]):
    name = "review"
    settings_model = ReviewSettings
    public = frozenset({"department", "kind", "outcomes", "comment_required"})

    def on_cancelled(self, procedure: Procedure, case: Case, context: Cancellation, *, first: bool) -> None:
        """The open task leaves its queue and the workflow waiting on it ends; again on a repeated cancel, which
        finishes a withdrawal that failed."""
        context.withdrawals.withdraw(case.case_id, self.required(procedure).kind, context.actor)

    def closing_writes(self, procedure: Procedure, case: Case, context: Closure) -> list[dict[str, Any]]:
        """The task, closed ``failed`` with the case (none when it is not pending or not opened yet)."""
        return context.tasks.closing_writes(case, task_id_for(case.case_id, self.required(procedure).kind))

    def task_ids(self, procedure: Procedure, case_id: str) -> list[str]:
        """One task per case: its id is derived from the case and the kind of work."""
        return [task_id_for(case_id, self.required(procedure).kind)]
