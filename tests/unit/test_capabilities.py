"""The capability seam, with in-memory fakes: a procedure is built from its YAML alone, its capabilities' hooks run at
their points of a case's life (submission, a failed submission, cancellation), and a capability of the test's own
plugs in by registering one class, with no change anywhere else."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

import pytest
import yaml

from omnicity.adapters.slots import SlotFullError
from omnicity.application.cancellation import Cancellations
from omnicity.application.submissions import Submissions
from omnicity.application.views import ProcedureDetail, SubmitCaseRequest
from omnicity.application.workflow import Failures
from omnicity.capabilities.base import (
    Cancellation,
    Capability,
    Settings,
    Submission,
    register,
    unregister,
)
from omnicity.catalogue import Catalogue, load_procedure
from omnicity.domain.errors import NotCancellableError, TransientError, ValidationFailedError
from omnicity.domain.identity import Principal
from omnicity.domain.models import Case, CaseStatus, Channel, Language, Procedure, Role
from tests.fakes import FakeCaseRepository, FakePlaces, FakeTaskRepository, NoLimit

ELISE = "87031413235"
TODAY = date(2026, 3, 2)  # a Monday
WEDNESDAY = TODAY + timedelta(days=2)
LABEL = {"fr": "Photos", "nl": "Foto's", "en": "Photos"}
ELISE_ON_THE_PORTAL = Principal(role=Role.CITIZEN, subject=ELISE, channel=Channel.PORTAL, nrn=ELISE)

# A procedure of an existing family, written as a city would: data only, with one capability (a booked day).
TENT_LOAN = """
id: tent-loan
family: document_request
department: events
sla_business_days: 5
channels: [portal, kiosk, counter]
eligibility: []
capabilities:
  booking:
    field: pickup_date
    capacity_per_day: 2
    min_business_days_ahead: 1
    horizon_days: 20
    cancellable_until_days_before: 1
title: {fr: Prêt de tente, nl: Uitlening van een tent, en: Tent loan}
summary: {fr: Une tente pour un événement., nl: Een tent voor een evenement., en: A tent for an event.}
help: {fr: Retrait au dépôt., nl: Afhaling in het depot., en: Pick it up at the depot.}
fields:
  - name: pickup_date
    type: date
    label: {fr: Date de retrait, nl: Afhaaldatum, en: Pick-up date}
"""


class Uploads:
    def unusable(self, keys: list[str], path: str) -> list[dict[str, Any]]:
        return []

    def slot(self, owner: str, content_type: str) -> Any:
        raise AssertionError("no upload here")


class Starter:
    """Starts nothing; ``fail`` makes every start a TransientError (Step Functions throttling)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.started: list[str] = []

    def check_configured(self, family: str) -> None:
        return None

    def start(self, family: str, case: Case) -> None:
        if self.fail:
            raise TransientError("throttled")
        self.started.append(case.case_id)


class Desk:
    def __init__(self) -> None:
        self.withdrawn: list[tuple[str, str]] = []

    def withdraw(self, case_id: str, kind: str, actor: str) -> None:
        self.withdrawn.append((case_id, kind))


def submissions(procedure: Procedure, cases: FakeCaseRepository, places: FakePlaces, starter: Starter) -> Submissions:
    uploads = Uploads()
    return Submissions(
        cases,
        Catalogue([procedure]),
        starter,  # type: ignore[arg-type]
        places,
        uploads,  # type: ignore[arg-type]
        NoLimit(),
    )


def ask(procedure: Procedure, day: date) -> SubmitCaseRequest:
    return SubmitCaseRequest(procedure_id=procedure.id, language=Language.FR, form={"pickup_date": day.isoformat()})


@pytest.fixture
def tent() -> Procedure:
    return load_procedure(yaml.safe_load(TENT_LOAN))


def test_a_procedure_from_yaml_alone_books_its_day_and_gives_it_back_when_cancelled(tent: Procedure) -> None:
    # Given the tent loan, read from its YAML and nothing else
    cases, places, desk = FakeCaseRepository(), FakePlaces(TODAY), Desk()
    # Then clients learn from the API that it books a day, and until when it can be cancelled
    described = {item.name: item.settings for item in ProcedureDetail.of(tent).capabilities}
    assert described["booking"]["field"] == "pickup_date"
    assert described["booking"]["cancellable_until_days_before"] == 1
    # When Élise submits for Wednesday / Then a place is taken on that day and the workflow started
    created = submissions(tent, cases, places, Starter()).submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    assert places.booked[tent.id, WEDNESDAY] == 1
    # When she cancels (two days before: in time) / Then the case is cancelled and the place free again
    cancellations = Cancellations(cases, Catalogue([tent]), places, desk)
    view = cancellations.cancel(ELISE_ON_THE_PORTAL, created.case_id)
    assert view.status is CaseStatus.CANCELLED
    assert places.booked[tent.id, WEDNESDAY] == 0
    # And cancelling again answers the cancelled case and frees nothing more
    places.booked[tent.id, WEDNESDAY] = 1  # someone else's booking since
    assert cancellations.cancel(ELISE_ON_THE_PORTAL, created.case_id).status is CaseStatus.CANCELLED
    assert places.booked[tent.id, WEDNESDAY] == 1
    assert desk.withdrawn == []  # the tent loan has no review: no task to withdraw


def test_the_day_itself_is_too_late_and_the_citizen_is_told_until_when(tent: Procedure) -> None:
    cases, places = FakeCaseRepository(), FakePlaces(TODAY)
    created = submissions(tent, cases, places, Starter()).submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    # When Élise cancels on Wednesday itself (the settings say: until 1 day before)
    late = Cancellations(cases, Catalogue([tent]), FakePlaces(WEDNESDAY), Desk())
    with pytest.raises(NotCancellableError) as refused:
        late.cancel(ELISE_ON_THE_PORTAL, created.case_id)
    # Then a 409 names the date field and the last day she could
    assert refused.value.http_status == 409
    assert refused.value.details[0]["field"] == "form.pickup_date"
    assert (WEDNESDAY - timedelta(days=1)).isoformat() in refused.value.details[0]["reason"]
    assert cases.get(created.case_id).status is CaseStatus.SUBMITTED
    assert places.booked[tent.id, WEDNESDAY] == 1


def test_a_procedure_whose_capabilities_offer_no_cancelling_cannot_be_cancelled() -> None:
    # Given a residence certificate (no capability offers cancelling), submitted
    from omnicity.catalogue import get_catalogue

    certificate = get_catalogue().get("residence-certificate")
    cases = FakeCaseRepository()
    request = SubmitCaseRequest(procedure_id=certificate.id, language=Language.FR, form={})
    created = submissions(certificate, cases, FakePlaces(TODAY), Starter()).submit(ELISE_ON_THE_PORTAL, request)
    # When its citizen cancels / Then a 409, and the case goes on
    with pytest.raises(NotCancellableError):
        Cancellations(cases, Catalogue([certificate]), FakePlaces(TODAY), Desk()).cancel(
            ELISE_ON_THE_PORTAL, created.case_id
        )
    assert cases.get(created.case_id).status is CaseStatus.SUBMITTED


def test_a_full_day_and_a_day_the_rules_refuse_store_nothing(tent: Procedure) -> None:
    cases, places, starter = FakeCaseRepository(), FakePlaces(TODAY), Starter()
    service = submissions(tent, cases, places, starter)
    # Given Wednesday's two places taken
    service.submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    service.submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    stored = len(cases.cases)
    # When a third citizen books it / Then a 409, and no case is stored
    with pytest.raises(SlotFullError):
        service.submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    # When one books today (the rules want a business day's notice) / Then a 422 naming the field, nothing stored
    with pytest.raises(ValidationFailedError) as refused:
        service.submit(ELISE_ON_THE_PORTAL, ask(tent, TODAY))
    assert [problem["field"] for problem in refused.value.details] == ["form.pickup_date"]
    assert len(cases.cases) == stored
    assert places.booked[tent.id, WEDNESDAY] == 2
    assert len(starter.started) == stored


def test_a_workflow_that_cannot_start_gives_the_place_back_and_leaves_the_case_failed(tent: Procedure) -> None:
    cases, places = FakeCaseRepository(), FakePlaces(TODAY)
    # When the workflow cannot start
    with pytest.raises(TransientError):
        submissions(tent, cases, places, Starter(fail=True)).submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    # Then the place is free again, and the case is failed, visible to agents
    assert places.booked[tent.id, WEDNESDAY] == 0
    [case] = cases.cases.values()
    assert case.status is CaseStatus.FAILED


def test_a_case_whose_workflow_fails_gives_its_place_back_once(tent: Procedure) -> None:
    cases, places = FakeCaseRepository(), FakePlaces(TODAY)
    created = submissions(tent, cases, places, Starter()).submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    failures = Failures(cases, Catalogue([tent]), FakeTaskRepository(), places)  # type: ignore[arg-type]
    # When its workflow fails / Then the case is failed and Wednesday's place is free again
    assert failures.mark_failed(created.case_id, "States.Timeout", "ended").status is CaseStatus.FAILED
    assert places.booked[tent.id, WEDNESDAY] == 0
    # And the execution-ended event that follows (MarkFailed again) gives nothing back a second time
    places.booked[tent.id, WEDNESDAY] = 1  # someone else's booking since
    failures.mark_failed(created.case_id, "States.Timeout", "ended")
    assert places.booked[tent.id, WEDNESDAY] == 1


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda data: data["capabilities"].update({"stock": {}}), "unknown capability 'stock'"),
        (lambda data: data["capabilities"]["booking"].update({"capacity": 3}), "capabilities.booking"),
        (lambda data: data["capabilities"]["booking"].pop("capacity_per_day"), "capacity_per_day"),
        (lambda data: data["fields"].append({"name": "photos", "type": "photos", "label": LABEL}), "photos"),
    ],
    ids=["unknown capability", "unknown setting", "missing setting", "a photos field without photos"],
)
def test_a_catalogue_entry_with_wrong_capabilities_does_not_load(change: Any, says: str) -> None:
    # Given the tent loan's YAML, changed
    data = yaml.safe_load(TENT_LOAN)
    change(data)
    # When the catalogue loads it / Then it is refused at once (a cold start, never a request), saying why
    with pytest.raises(ValueError, match=says):
        load_procedure(data)


# ---------------------------------------------------------------------------------------------------- a new capability
class QuotaSettings(Settings):
    """At most ``per_citizen`` open requests a citizen holds (a toy rule: the test's own capability)."""

    per_citizen: int
    field: str


class Quota(Capability[QuotaSettings]):
    name = "test_quota"
    settings_model = QuotaSettings
    reserved: list[str] = []
    released: list[str] = []

    def check_procedure(self, procedure: Procedure, settings: QuotaSettings) -> None:
        if settings.field not in {field.name for field in procedure.fields}:
            raise ValueError(f"no field {settings.field!r}")

    def form_problems(self, procedure: Procedure, form: Mapping[str, Any], context: Submission) -> list[dict[str, Any]]:
        return [] if form.get(self.required(procedure).field) != "2026-03-06" else [{"field": "form.x", "reason": "no"}]

    def reserve(self, procedure: Procedure, case: Case, context: Submission) -> None:
        Quota.reserved.append(case.case_id)

    def release(self, procedure: Procedure, case: Case, context: Submission) -> None:
        Quota.released.append(case.case_id)

    def cancellation(self, procedure: Procedure, case: Case, context: Cancellation) -> Any:
        return None


@pytest.fixture
def quota() -> Iterator[None]:
    register(Quota)
    Quota.reserved, Quota.released = [], []
    yield
    unregister(Quota.name)


@pytest.mark.usefixtures("quota")
def test_a_capability_of_ones_own_plugs_in_by_registering_one_class() -> None:
    # Given the tent loan declaring the test's capability after its booking
    data = yaml.safe_load(TENT_LOAN)
    data["capabilities"]["test_quota"] = {"per_citizen": 1, "field": "pickup_date"}
    tent = load_procedure(data)
    # Then the catalogue validated its settings, and the API describes it
    assert [item.name for item in ProcedureDetail.of(tent).capabilities] == ["booking", "test_quota"]
    cases, places = FakeCaseRepository(), FakePlaces(TODAY)
    # When a submission goes through / Then its hook reserved, after the booking's
    created = submissions(tent, cases, places, Starter()).submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    assert Quota.reserved == [created.case_id]
    # When its check refuses a form / Then the 422 carries its problem, and nothing is reserved
    with pytest.raises(ValidationFailedError) as refused:
        submissions(tent, cases, places, Starter()).submit(ELISE_ON_THE_PORTAL, ask(tent, date(2026, 3, 6)))
    assert {"field": "form.x", "reason": "no"} in refused.value.details
    assert len(Quota.reserved) == 1
    # When the workflow cannot start / Then both capabilities release, the last reserved first
    with pytest.raises(TransientError):
        submissions(tent, cases, places, Starter(fail=True)).submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    assert len(Quota.released) == 1
    assert places.booked[tent.id, WEDNESDAY] == 1
    # And a setting it does not know is refused when the catalogue loads
    data["capabilities"]["test_quota"] = {"per_citizen": 1, "field": "no_such_field"}
    with pytest.raises(ValueError, match="no field 'no_such_field'"):
        load_procedure(data)


class Refuses(Capability[QuotaSettings]):
    """A capability whose reservation always fails (a stock with nothing left, say)."""

    name = "test_refuses"
    settings_model = QuotaSettings

    def reserve(self, procedure: Procedure, case: Case, context: Submission) -> None:
        raise SlotFullError("nothing left")


@pytest.fixture
def refuses() -> Iterator[None]:
    register(Refuses)
    yield
    unregister(Refuses.name)


@pytest.mark.usefixtures("refuses")
def test_a_reservation_that_fails_releases_what_the_capabilities_before_it_reserved() -> None:
    # Given the tent loan declaring, after its booking, a capability whose reservation fails
    data = yaml.safe_load(TENT_LOAN)
    data["capabilities"]["test_refuses"] = {"per_citizen": 1, "field": "pickup_date"}
    tent = load_procedure(data)
    cases, places, starter = FakeCaseRepository(), FakePlaces(TODAY), Starter()
    # When Élise submits / Then the failure goes through, the booking's place is back, and nothing was stored
    with pytest.raises(SlotFullError, match="nothing left"):
        submissions(tent, cases, places, starter).submit(ELISE_ON_THE_PORTAL, ask(tent, WEDNESDAY))
    assert places.booked[tent.id, WEDNESDAY] == 0
    assert cases.cases == {}
    assert starter.started == []
