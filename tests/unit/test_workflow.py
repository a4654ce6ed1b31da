"""The workflow steps against in-memory fakes: each moves the case once, and a retry does nothing again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from omnicity.adapters.documents import document_id_for, document_key
from omnicity.adapters.registries import Registers
from omnicity.adapters.registries.national import SimulatedNationalRegister
from omnicity.application.workflow import (
    Completion,
    DocumentIssuing,
    EligibilityCheck,
    Failures,
    Notifications,
    RequestValidation,
)
from omnicity.catalogue import get_catalogue
from omnicity.domain.city import get_messages
from omnicity.domain.errors import DeliveryFailedError, StepInputError
from omnicity.domain.models import Case, CaseStatus, Language
from omnicity.domain.nrn import make_nrn
from tests.fakes import (
    FakeCaseRepository,
    FakePlaces,
    FakeRenderer,
    FakeSealer,
    FakeSender,
    FakeStore,
    FakeTaskRepository,
    make_case,
    make_person,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
RESIDENT = make_nrn(date(1987, 3, 14), 132)
PORTAL_URL = "https://my.brussels.example"
UNKNOWN = make_nrn(date(2001, 1, 1), 5)
EMAIL = "elise.exemplaire@example.be"


@dataclass
class World:
    """The generic steps over one set of fakes, as each step function builds its own at cold start."""

    validation: RequestValidation
    eligibility: EligibilityCheck
    documents: DocumentIssuing
    notifications: Notifications
    completion: Completion
    failures: Failures
    cases: FakeCaseRepository
    store: FakeStore
    sender: FakeSender
    renderer: FakeRenderer
    sealer: FakeSealer

    def add(
        self,
        case_id: str = "case-1",
        *,
        nrn: str = RESIDENT,
        email: str | None = EMAIL,
        language: Language = Language.FR,
        status: CaseStatus = CaseStatus.SUBMITTED,
        form: dict[str, Any] | None = None,
    ) -> Case:
        return self.cases.put(
            make_case(
                "residence-certificate",
                form={"purpose": "housing"} if form is None else form,
                status=status,
                nrn=nrn,
                email=email,
                language=language,
                case_id=case_id,
                reference=f"BXL-2026-{len(self.cases.cases) + 1:06d}",
                at=NOW,
            )
        )

    def case(self, case_id: str = "case-1") -> Case:
        return self.cases.get(case_id)


def _make_world() -> World:
    cases, store, sender, renderer, sealer = (
        FakeCaseRepository(),
        FakeStore(),
        FakeSender(),
        FakeRenderer(),
        FakeSealer(),
    )
    register = SimulatedNationalRegister([make_person(RESIDENT, "Élise", "Exemplaire")])
    catalogue, registers = get_catalogue(), Registers(national=register)
    return World(
        RequestValidation(cases, catalogue),
        EligibilityCheck(cases, catalogue, registers),
        DocumentIssuing(cases, catalogue, registers, renderer, sealer, store, portal_url=PORTAL_URL),
        Notifications(cases, catalogue, registers, sender),
        Completion(cases),
        Failures(cases, catalogue, FakeTaskRepository(), FakePlaces(date(2026, 3, 2))),
        cases,
        store,
        sender,
        renderer,
        sealer,
    )


@pytest.fixture
def world() -> World:
    return _make_world()


def _events(case: Case) -> list[str]:
    return [entry.event for entry in case.timeline]


def _in_progress(world: World, **options: Any) -> Case:
    case = world.add(**options)
    world.validation.validate_request(case.case_id)
    return world.case(case.case_id)


def _eligible(world: World, **options: Any) -> Case:
    case = _in_progress(world, **options)
    assert world.eligibility.check_eligibility(case.case_id) == "eligible"
    return world.case(case.case_id)


def _rejected(world: World, **options: Any) -> Case:
    case = _in_progress(world, nrn=UNKNOWN, **options)
    assert world.eligibility.check_eligibility(case.case_id) == "rejected"
    return world.case(case.case_id)


# ---------------------------------------------------------------------------------------------------- validate_request
def test_validate_request_moves_a_submitted_case_in_progress_once(world: World) -> None:
    # Given a submitted case with a valid form
    world.add()

    # When the request is validated, then validated again (a retry)
    first = world.validation.validate_request("case-1")
    second = world.validation.validate_request("case-1")

    # Then the case is in progress with one "validated" entry, and the retry changed nothing
    assert first.status is CaseStatus.IN_PROGRESS
    assert _events(world.case()) == ["submitted", "validated"]
    assert second == first
    assert world.cases.saves == 1


def test_validate_request_rejects_a_form_that_no_longer_fits(world: World) -> None:
    # Given a submitted case whose purpose is no longer one of the procedure's choices
    world.add(form={"purpose": "holiday"})

    # When the request is validated
    case = world.validation.validate_request("case-1")

    # Then it is rejected with the localized invalid-form reason
    assert case.status is CaseStatus.REJECTED
    assert case.reason == get_messages().reason("invalid_form")


# ---------------------------------------------------------------------------------------------------- check_eligibility
def test_check_eligibility_confirms_a_resident_once(world: World) -> None:
    # Given a case in progress for a Brussels resident
    _in_progress(world)

    # When eligibility is checked twice
    first = world.eligibility.check_eligibility("case-1")
    second = world.eligibility.check_eligibility("case-1")

    # Then both say eligible, the case stays in progress, and it was confirmed once
    assert first == "eligible"
    assert second == "eligible"
    case = world.case()
    assert case.status is CaseStatus.IN_PROGRESS
    assert _events(case).count("eligibility_confirmed") == 1


@pytest.mark.parametrize("language", list(Language))
def test_check_eligibility_rejects_an_unknown_person_with_a_localized_reason(world: World, language: Language) -> None:
    # Given a case in progress for someone the register does not know
    _in_progress(world, nrn=UNKNOWN, language=language)

    # When eligibility is checked
    outcome = world.eligibility.check_eligibility("case-1")

    # Then not eligible: the case is rejected with the "not in register" reason in every language
    assert outcome == "rejected"
    case = world.case()
    assert case.status is CaseStatus.REJECTED
    reason = get_messages().reason("not_in_register")
    assert case.reason == reason
    assert case.timeline[-1].event == "rejected"
    assert case.timeline[-1].note == reason
    # and a retry neither rejects twice nor turns it eligible
    assert world.eligibility.check_eligibility("case-1") == "rejected"
    assert _events(world.case()).count("rejected") == 1


# ---------------------------------------------------------------------------------------------------- render_document
@pytest.mark.parametrize("language", list(Language))
def test_render_document_renders_in_the_case_language_with_the_person(world: World, language: Language) -> None:
    # Given an eligible case in one language
    submitted = _eligible(world, language=language)

    # When the document is rendered
    case = world.documents.render_document("case-1")

    # Then the renderer got the procedure's template, the case's language, the person and the reference
    [(template_id, rendered_language, context)] = world.renderer.calls
    assert template_id == "residence-certificate"
    assert rendered_language == language.value
    assert context["reference"] == submitted.reference
    person = context["person"]
    assert isinstance(person, dict)
    assert (person["first_name"], person["last_name"]) == ("Élise", "Exemplaire")
    # and exactly one document is attached, stored under its key, in the case's language
    [document] = case.documents
    assert document.language is language
    assert document.kind == "certificate"
    assert context["document_id"] == document.document_id
    # and the document prints the portal's verification page of its own code
    assert context["verification_url"] == f"{PORTAL_URL}/verify/{document.document_id}"
    # and what is stored is the rendered document, sealed; its digest is the stored bytes'
    assert world.sealer.calls == [b"%PDF-fake"]
    [sealed] = world.sealer.sealed
    assert world.store.objects == {document.key: sealed}
    assert document.sha256 == hashlib.sha256(sealed).hexdigest()
    assert world.store.puts == [(document.key, submitted.reference)]
    assert _events(case).count("document_issued") == 1


def test_render_document_retry_neither_renders_nor_attaches_again(world: World) -> None:
    # Given a case whose document was rendered
    _eligible(world)
    first = world.documents.render_document("case-1")

    # When the step is retried
    second = world.documents.render_document("case-1")

    # Then nothing is rendered, sealed, stored or attached again
    assert len(world.renderer.calls) == 1
    assert len(world.sealer.calls) == 1
    assert len(world.store.puts) == 1
    assert second.documents == first.documents
    assert len(world.case().documents) == 1
    assert _events(world.case()).count("document_issued") == 1


def test_a_retry_after_the_store_attaches_the_digest_of_the_document_stored_first(world: World) -> None:
    # Given an eligible case whose document an earlier attempt sealed and stored, then failed before attaching it
    _eligible(world)
    key = document_key("case-1", document_id_for("case-1", "certificate", "fr"))
    world.store.objects[key] = earlier = b"%PDF-fake\n%sealed by the earlier attempt\n"

    # When the step is retried (it seals again: another signing time, another timestamp)
    case = world.documents.render_document("case-1")

    # Then the stored document stays the earlier one, and the case holds its digest: the bytes a citizen downloads
    assert world.store.objects == {key: earlier}
    assert world.sealer.sealed[0] != earlier
    [document] = case.documents
    assert document.key == key
    assert document.sha256 == hashlib.sha256(earlier).hexdigest()


def test_the_document_id_is_deterministic(world: World) -> None:
    # Given two independent runs for the same case id, and one for another case
    _eligible(world)
    other_world = _make_world()
    _eligible(other_world)
    _eligible(world, case_id="case-2")

    # When their documents are rendered
    first = world.documents.render_document("case-1").documents[0]
    again = other_world.documents.render_document("case-1").documents[0]
    other = world.documents.render_document("case-2").documents[0]

    # Then the same case gets the same document id and key (a retried render overwrites, leaves no orphan)
    assert first.document_id == again.document_id
    assert first.key == again.key
    assert first.document_id in first.key
    # and another case another one
    assert other.document_id != first.document_id
    assert other.key != first.key


def test_render_document_on_a_rejected_case_is_refused(world: World) -> None:
    # Given a rejected case
    _rejected(world)

    # When a document is asked for / Then the step refuses, and nothing is rendered or sealed
    with pytest.raises(StepInputError):
        world.documents.render_document("case-1")
    assert world.renderer.calls == []
    assert world.sealer.calls == []
    assert world.store.puts == []
    assert world.case().documents == []


# ---------------------------------------------------------------------------------------------------- notify
@pytest.mark.parametrize("language", list(Language))
def test_notify_sends_one_email_in_the_case_language(world: World, language: Language) -> None:
    # Given a case with a document, in one language
    _eligible(world, language=language)
    case = world.documents.render_document("case-1")
    title = get_catalogue().get("residence-certificate").title

    # When the citizen is notified, then the step is retried
    world.notifications.notify("case-1", "document_ready")
    world.notifications.notify("case-1", "document_ready")

    # Then one email went to the applicant, in the case's language, and the notification is on the timeline once
    [email] = world.sender.sent
    assert email.to == EMAIL
    assert case.reference in email.subject
    assert title.in_language(language) in email.subject
    assert all(title.in_language(other) not in email.subject for other in Language if other is not language)
    assert _events(world.case()).count("notified:document_ready") == 1


def test_notify_of_a_rejection_tells_the_reason(world: World) -> None:
    # Given a case rejected in Dutch
    _rejected(world, language=Language.NL)

    # When the citizen is notified of the rejection
    world.notifications.notify("case-1", "rejected")

    # Then the email gives the reason in Dutch
    [email] = world.sender.sent
    assert get_messages().reason("not_in_register").nl in email.body


def test_notify_without_an_email_address_records_it_and_sends_nothing(world: World) -> None:
    # Given a case whose applicant left no email address
    _eligible(world, email=None)

    # When the citizen is notified (and the step retried)
    world.notifications.notify("case-1", "document_ready")
    world.notifications.notify("case-1", "document_ready")

    # Then nothing is sent, and agents see once that nobody could be told
    assert world.sender.sent == []
    events = _events(world.case())
    assert events[-1] == "notified:document_ready:no_contact"
    assert [event for event in events if event.startswith("notified:")] == ["notified:document_ready:no_contact"]


def test_notify_with_an_unknown_message_is_refused(world: World) -> None:
    # Given a case / When notified with a message that does not exist / Then refused, nothing sent
    _eligible(world)
    with pytest.raises(StepInputError):
        world.notifications.notify("case-1", "party_invitation")
    assert world.sender.sent == []


# ---------------------------------------------------------------------------------------------------- complete
def test_complete_completes_a_case_in_progress_once(world: World) -> None:
    # Given a case in progress with its document
    _eligible(world)
    world.documents.render_document("case-1")

    # When it is completed, then completed again (a retry)
    case = world.completion.complete("case-1")
    world.completion.complete("case-1")

    # Then it is completed, with one "completed" entry
    assert case.status is CaseStatus.COMPLETED
    assert _events(world.case()).count("completed") == 1


def test_complete_on_a_rejected_case_is_refused(world: World) -> None:
    # Given a rejected case
    _rejected(world)

    # When it is completed / Then refused, and it stays rejected
    with pytest.raises(StepInputError):
        world.completion.complete("case-1")
    assert world.case().status is CaseStatus.REJECTED


# ---------------------------------------------------------------------------------------------------- fail_stalled
def test_the_sweep_fails_a_case_no_step_moved_for_too_long_once(world: World) -> None:
    # Given a case in progress last moved at NOW (the fake's clock), and the sweep running an hour later
    _in_progress(world)
    world.cases.cases["case-1"] = world.case().model_copy(update={"updated_at": NOW})
    later = NOW + timedelta(hours=1)
    counted: list[str] = []
    # When the sweep runs with a 15-minute limit, twice
    failed = world.failures.fail_stalled(
        later, timedelta(minutes=15), on_failed=lambda case: counted.append(case.case_id)
    )
    again = world.failures.fail_stalled(
        later, timedelta(minutes=15), on_failed=lambda case: counted.append(case.case_id)
    )
    # Then the case was failed (and counted) by the first round only, with the cause agents read
    assert [case.case_id for case in failed] == ["case-1"]
    assert (again, counted) == ([], ["case-1"])
    case = world.case()
    assert case.status is CaseStatus.FAILED
    assert case.failure is not None
    assert (case.failure.error, case.failure.cause) == (
        "WorkflowStalled",
        "no workflow step moved the case for 15 minutes",
    )


def test_the_sweep_leaves_a_case_a_step_moved_after_it_was_found(world: World) -> None:
    # Given a case the sweep found stalled (its snapshot: in progress, last moved an hour before the sweep)
    _in_progress(world)
    stale = world.case().model_copy(update={"updated_at": NOW - timedelta(hours=1)})
    world.cases.cases["case-1"] = stale
    snapshot = world.cases.in_flight_before(NOW - timedelta(minutes=15))
    assert snapshot == [stale]
    # and a step that moves it before the sweep writes (the case is now changed at the real time)
    world.cases.cases["case-1"] = stale.model_copy(update={"updated_at": NOW, "version": stale.version + 1})
    world.cases.in_flight_before = lambda moment, limit=100: snapshot  # type: ignore[method-assign]
    # When the sweep writes
    failed = world.failures.fail_stalled(NOW, timedelta(minutes=15))
    # Then the case stays in progress: the step's move wins
    assert failed == []
    assert world.case().status is CaseStatus.IN_PROGRESS


# ---------------------------------------------------------------------------------------------------- mark_failed
def test_mark_failed_fails_a_case_in_progress_with_the_cause_and_a_localized_reason(world: World) -> None:
    # Given a case in progress and a long error cause
    _eligible(world)
    cause = "Traceback: " + "x" * 2000

    # When the workflow marks it failed
    case = world.failures.mark_failed("case-1", "States.TaskFailed", cause, step="RenderDocument")

    # Then it is failed; the technical failure is kept (cause truncated) and the citizen gets a localized reason
    assert case.status is CaseStatus.FAILED
    assert case.failure is not None
    assert case.failure.error == "States.TaskFailed"
    assert case.failure.step == "RenderDocument"
    assert len(case.failure.cause) == 500
    assert cause.startswith(case.failure.cause)
    technical = get_messages().reason("technical_failure")
    assert case.reason == technical
    assert case.timeline[-1].event == "failed"
    assert case.timeline[-1].note == technical


def test_mark_failed_twice_with_the_same_failure_records_it_once(world: World) -> None:
    # Given a case marked failed
    _eligible(world)
    world.failures.mark_failed("case-1", "States.Timeout", "timed out")

    # When the same failure is reported again (a retry)
    world.failures.mark_failed("case-1", "States.Timeout", "timed out")

    # Then it is on the timeline once
    assert _events(world.case()).count("failed") == 1


def test_the_execution_ended_event_after_a_failure_changes_nothing(world: World) -> None:
    # Given a case the state machine's Catch marked failed with the step's error
    _eligible(world)
    failed = world.failures.mark_failed("case-1", "KeyError", "template variable")

    # When EventBridge then reports the execution FAILED (the same failure seen from outside)
    case = world.failures.mark_failed("case-1", "FAILED", "the workflow execution ended FAILED")

    # Then the case keeps its first, precise failure and gets no second entry
    assert case == failed
    assert case.failure is not None
    assert case.failure.error == "KeyError"


def test_an_execution_that_timed_out_fails_the_case_it_left_in_progress(world: World) -> None:
    # Given a case in progress whose execution then timed out (no Catch ran)
    _eligible(world)

    # When the execution-ended event reaches mark_failed
    case = world.failures.mark_failed("case-1", "TIMED_OUT", "the workflow execution ended TIMED_OUT")

    # Then the case is failed, not left in progress
    assert case.status is CaseStatus.FAILED
    assert case.failure is not None
    assert case.failure.error == "TIMED_OUT"


def test_check_eligibility_of_a_case_closed_meanwhile_says_closed(world: World) -> None:
    # Given a case that failed before its eligibility was checked
    _in_progress(world)
    world.failures.mark_failed("case-1", "TIMED_OUT", "ended")

    # When eligibility is checked (a late step)
    outcome = world.eligibility.check_eligibility("case-1")

    # Then the workflow is told the case is closed: no rejection email about a technical failure
    assert outcome == "closed"
    assert world.case().status is CaseStatus.FAILED


def test_mark_failed_on_a_rejected_case_keeps_the_rejection(world: World) -> None:
    # Given a rejected case (e.g. then the rejection email failed)
    rejected = _rejected(world)

    # When the workflow marks it failed
    case = world.failures.mark_failed("case-1", "TransientError", "SES unavailable", step="Notify")

    # Then it stays rejected with its reason, and the failure is recorded on the timeline
    assert case.status is CaseStatus.REJECTED
    assert case.reason == rejected.reason == get_messages().reason("not_in_register")
    assert case.failure is not None
    assert case.failure.error == "TransientError"
    assert case.timeline[:-1] == rejected.timeline
    assert case.timeline[-1].event == "workflow_error"
    assert case.timeline[-1].status is CaseStatus.REJECTED


# ---------------------------------------------------------------------------------------------------- the whole run
def test_a_whole_run_for_a_resident(world: World) -> None:
    # Given a submitted case for a resident
    world.add(language=Language.NL)

    # When every step runs in order
    world.validation.validate_request("case-1")
    assert world.eligibility.check_eligibility("case-1")
    world.documents.render_document("case-1")
    world.notifications.notify("case-1", "document_ready")
    world.completion.complete("case-1")

    # Then the case is completed with its document, and its timeline tells the story in order
    case = world.case()
    assert case.status is CaseStatus.COMPLETED
    assert len(case.documents) == 1
    assert _events(case) == [
        "submitted",
        "validated",
        "eligibility_confirmed",
        "document_issued",
        "notified:document_ready",
        "completed",
    ]
    assert all(entry.actor in {"citizen", "system"} for entry in case.timeline)


def test_an_address_ses_refuses_for_good_is_recorded_and_does_not_fail_the_case(world: World) -> None:
    # Given SES refusing the citizen's address for good
    _eligible(world)

    def refuse(_: Any) -> str:
        raise DeliveryFailedError("SES refused the message (MessageRejected)")

    world.sender.send = refuse  # type: ignore[method-assign,assignment]

    # When the citizen is notified
    case = world.notifications.notify("case-1", "document_ready")

    # Then the step succeeds, the case stays in progress, and the timeline says the email could not be delivered
    assert case.status is CaseStatus.IN_PROGRESS
    assert _events(case)[-1] == "notified:document_ready:undeliverable"
