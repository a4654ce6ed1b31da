"""Cancelling a case: one operation for every procedure, whose rules the procedure's capabilities contribute.

A case can be cancelled when at least one of its capabilities offers it (a booking does, until
``cancellable_until_days_before`` its day) and none says it is too late; only its citizen may (to anyone else, the
same 404 as a case that does not exist), and only while it is open. The case ends ``cancelled`` in one conditional
write; then each capability does its part (``on_cancelled``: the day's place is given back by the call that
cancelled, a review's open task is withdrawn and its workflow ends). Cancelling again answers the cancelled case,
and finishes what a failed first call left (a withdrawal that did not go through).
"""

from __future__ import annotations

from datetime import UTC, datetime

from omnicity.application.case_reads import readable_case
from omnicity.application.ports import CaseUpdates
from omnicity.application.views import CaseView
from omnicity.capabilities.base import CAPABILITIES, Cancellation, CancelTerms, Places, TaskWithdrawal
from omnicity.catalogue import Catalogue
from omnicity.domain.errors import NotCancellableError, NotFoundError, field_error
from omnicity.domain.identity import Principal
from omnicity.domain.models import Case, CaseStatus
from omnicity.observability import logger


class Cancellations:
    """Every collaborator is required: a function builds this once, at cold start."""

    def __init__(
        self,
        cases: CaseUpdates,
        catalogue: Catalogue,
        places: Places,
        withdrawals: TaskWithdrawal,
    ) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._places = places
        self._withdrawals = withdrawals

    def cancel(self, principal: Principal, case_id: str) -> CaseView:
        case = readable_case(self._cases, self._catalogue, principal, case_id)
        if not principal.owns(case.applicant.nrn):
            raise NotFoundError(f"no case {case_id!r}")
        procedure = self._catalogue.get(case.procedure_id)
        context = Cancellation(
            places=self._places, withdrawals=self._withdrawals, actor=principal.actor, today=self._places.today()
        )
        terms = CAPABILITIES.cancellation(procedure, case, context)
        if not any(term.allowed for term in terms):
            raise NotCancellableError(f"a {procedure.id} case cannot be cancelled")
        if case.status is not CaseStatus.CANCELLED:
            if case.status.is_terminal:
                raise NotCancellableError(f"the case is already {case.status.value}")
            _check_in_time(terms)
        cancelled_now = False  # whether this call moved the case to cancelled

        def change(current: Case) -> Case | None:
            nonlocal cancelled_now
            cancelled_now = False
            if current.status is CaseStatus.CANCELLED:
                return None
            if current.status.is_terminal:
                raise NotCancellableError(f"the case is already {current.status.value}")
            cancelled_now = True
            at = datetime.now(UTC)
            return current.with_entry("cancelled", actor=principal.actor, at=at, status=CaseStatus.CANCELLED)

        case = self._cases.update(case_id, change)
        if cancelled_now:
            logger.info("case cancelled", extra={"case_id": case_id, "procedure_id": procedure.id})
        CAPABILITIES.on_cancelled(procedure, case, context, first=cancelled_now)
        return CaseView.of(case, for_agent=False)


def _check_in_time(terms: list[CancelTerms]) -> None:
    """409 naming each rule that says it is too late."""
    refusals = [term for term in terms if term.refusal is not None]
    if refusals:
        details = [field_error(term.field or "case_id", term.refusal or "") for term in refusals]
        raise NotCancellableError("this case can no longer be cancelled", details)
