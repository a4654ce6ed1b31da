"""The stalled-case sweep: a case left submitted or in progress by an execution that ended without telling (an
Express run past its limit, a MarkFailed that gave up) is marked failed, so no case is left without a terminal or
waiting status; a case a step is still moving, or one waiting for someone, is left alone."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from infra.local.runtime import LocalRuntime
from omnicity.adapters.cases import CaseRepository
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from tests.conftest import ELISE, ROOT

NOW = datetime.now(UTC)


def stored_case(repository: CaseRepository, status: CaseStatus, last_moved: datetime) -> Case:
    case_id = str(uuid.uuid4())
    created = repository.create(
        Case(
            case_id=case_id,
            reference=f"BXL-2099-{case_id[:6]}",
            procedure_id="residence-certificate",
            applicant=Applicant(nrn=ELISE),
            channel=Channel.PORTAL,
            language=Language.FR,
            form={"purpose": "employment"},
            status=CaseStatus.SUBMITTED,
            timeline=[TimelineEntry(at=last_moved, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
            submitted_by="citizen",
            created_at=last_moved,
            updated_at=last_moved,
        )
    )
    if status is CaseStatus.SUBMITTED:
        return created
    return repository.save(created.with_entry("moved", actor="system", at=last_moved, status=status), previous=created)


def test_the_in_flight_entries_hold_only_cases_a_step_is_about_to_move(repository: CaseRepository) -> None:
    # Given cases in every kind of state, last moved an hour ago, and one in progress that moved just now
    old = NOW - timedelta(hours=1)
    submitted = stored_case(repository, CaseStatus.SUBMITTED, old)
    in_progress = stored_case(repository, CaseStatus.IN_PROGRESS, old - timedelta(minutes=1))
    others = [stored_case(repository, status, old) for status in (CaseStatus.WAITING, CaseStatus.COMPLETED)]
    recent = stored_case(repository, CaseStatus.IN_PROGRESS, NOW)
    # When the cases in flight not moved for half an hour are read
    found = [case.case_id for case in repository.in_flight_before(NOW - timedelta(minutes=30))]
    # Then the two in flight and old are there, oldest first; not the waiting, closed or recent ones
    assert found.index(in_progress.case_id) < found.index(submitted.case_id)
    assert not {case.case_id for case in [*others, recent]} & set(found)
    # And a case that moves on leaves them
    repository.save(submitted.with_entry("waiting", actor="system", at=NOW, status=CaseStatus.WAITING))
    assert submitted.case_id not in {case.case_id for case in repository.in_flight_before(NOW)}


def test_the_scheduled_sweep_fails_the_stalled_cases_and_leaves_the_others(
    runtime: LocalRuntime, repository: CaseRepository
) -> None:
    # Given a case in progress that no step has moved for an hour, one moved a minute ago, one waiting for an agent
    stalled = stored_case(repository, CaseStatus.IN_PROGRESS, NOW - timedelta(hours=1))
    moving = stored_case(repository, CaseStatus.IN_PROGRESS, NOW - timedelta(minutes=1))
    waiting = stored_case(repository, CaseStatus.WAITING, NOW - timedelta(hours=1))
    # When the scheduled sweep runs (the template gives it 15 minutes)
    scheduled = json.loads((ROOT / "events" / "recover_stalled_cases.json").read_text())
    result = runtime.bridge.invoke_function("RecoverStalledCasesFunction", scheduled)
    # Then the stalled case is failed, with the cause agents see and the reason the citizen reads
    assert stalled.case_id in result["failed"]
    failed = repository.get(stalled.case_id)
    assert failed.status is CaseStatus.FAILED
    assert failed.failure is not None
    assert failed.failure.error == "WorkflowStalled"
    assert "15 minutes" in failed.failure.cause
    assert failed.reason is not None
    # and the others are as they were
    assert repository.get(moving.case_id).status is CaseStatus.IN_PROGRESS
    assert repository.get(waiting.case_id).status is CaseStatus.WAITING
    # And a second round finds nothing more to do for it
    again = runtime.bridge.invoke_function("RecoverStalledCasesFunction", scheduled)
    assert stalled.case_id not in again["failed"]
