"""Reading cases (omnicity.application.case_reads.CaseReads) with in-memory fakes: who reads a case, whose read is
logged, which cases one follows by reference, and how wrong hand-off codes are counted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from omnicity.application.case_reads import CaseReads
from omnicity.catalogue import get_catalogue
from omnicity.domain.errors import ForbiddenError, NotFoundError, TooManyRequestsError, ValidationFailedError
from omnicity.domain.handoff import ALPHABET, new_code
from omnicity.domain.identity import Principal
from omnicity.domain.models import Applicant, Case, Channel, Role
from tests.fakes import FakeCaseRepository, make_case

ELISE, HUGO = "87031413235", "90020199752"
ELISE_ON_THE_PORTAL = Principal(role=Role.CITIZEN, subject=ELISE, channel=Channel.PORTAL, nrn=ELISE)
HUGO_ON_THE_PORTAL = Principal(role=Role.CITIZEN, subject=HUGO, channel=Channel.PORTAL, nrn=HUGO)


def agent(*departments: str) -> Principal:
    return Principal(role=Role.AGENT, subject="agent-7", channel=Channel.COUNTER, departments=frozenset(departments))


@dataclass
class Reads:
    """The reads an audit trail would log (``omnicity.application.ports.ReadLog``)."""

    logged: list[tuple[str, str, str]] = field(default_factory=list)

    def record_read(self, principal: Principal, case: Case, reason: str) -> None:
        self.logged.append((principal.actor, case.case_id, reason))


@dataclass
class Limit:
    """A caller limit of ``allowed`` hits (``omnicity.application.ports.CallerLimit``)."""

    allowed: int
    hits: dict[str, int] = field(default_factory=dict)

    def hit(self, caller: str) -> None:
        self.hits[caller] = self.hits.get(caller, 0) + 1
        self.check(caller)

    def check(self, caller: str) -> None:
        if self.hits.get(caller, 0) >= self.allowed + 1:
            raise TooManyRequestsError("too many wrong hand-off codes", retry_after_seconds=60)


class Store:
    def presigned_url(self, key: str, ttl: int) -> str:
        return f"https://s3.example/{key}?ttl={ttl}"


def reads_of(cases: FakeCaseRepository, log: Reads, limit: Limit | None = None) -> CaseReads:
    return CaseReads(
        cases,
        get_catalogue(),
        Store(),  # type: ignore[arg-type]
        log,
        limit or Limit(allowed=5),
        300,
        "https://my.brussels.example",
    )


def stored(cases: FakeCaseRepository, procedure_id: str, nrn: str | None, **form: Any) -> Case:
    number = len(cases.cases) + 1
    case = make_case(procedure_id, nrn=nrn, form=form, case_id=str(uuid.uuid4()))
    return cases.put(case.model_copy(update={"handoff_code": new_code(), "reference": f"BXL-2026-{number:06d}"}))


def test_a_citizen_reads_her_case_and_nobody_elses() -> None:
    cases, log = FakeCaseRepository(), Reads()
    mine = stored(cases, "residence-certificate", ELISE)
    reads = reads_of(cases, log)
    # Then Élise reads her case, with the QR of its hand-off code; a citizen's read is not logged
    view = reads.get(ELISE_ON_THE_PORTAL, mine.case_id)
    assert view.case_id == mine.case_id
    assert view.handoff_qr is not None
    assert log.logged == []
    # And to Hugo it is the 404 of a case that does not exist
    with pytest.raises(NotFoundError):
        reads.get(HUGO_ON_THE_PORTAL, mine.case_id)
    with pytest.raises(NotFoundError):
        reads.get(HUGO_ON_THE_PORTAL, "no-such-case")


def test_an_agent_of_the_handling_department_reads_it_and_the_read_is_logged() -> None:
    cases, log = FakeCaseRepository(), Reads()
    # Given an alert about a street light: the lighting department handles it, not cleanliness (the procedure's)
    alert = stored(cases, "public-space-alert", ELISE, category="street_lighting")
    reads = reads_of(cases, log)
    # When an agent of public lighting reads it / Then the read is logged with its reason
    reads.get(agent("public_lighting"), alert.case_id, "phone call")
    assert log.logged == [("agent:agent-7", alert.case_id, "phone call")]
    # And an agent of cleanliness gets the 404 of a missing case, and nothing is logged
    with pytest.raises(NotFoundError):
        reads.get(agent("cleanliness"), alert.case_id)
    assert len(log.logged) == 1


def test_only_a_public_case_is_followed_by_its_reference() -> None:
    cases = FakeCaseRepository()
    alert = stored(cases, "public-space-alert", None, category="litter")
    certificate = stored(cases, "residence-certificate", ELISE)
    reads = reads_of(cases, Reads())
    assert reads.track(alert.reference).reference == alert.reference
    # A certificate is nobody's business: its reference answers as no report at all
    with pytest.raises(NotFoundError):
        reads.track(certificate.reference)


def test_a_hand_off_code_continues_ones_own_case_and_attaches_an_anonymous_report() -> None:
    cases, limit = FakeCaseRepository(), Limit(allowed=5)
    reads = reads_of(cases, Reads(), limit)
    mine = stored(cases, "residence-certificate", ELISE)
    report = stored(cases, "public-space-alert", None, category="litter")
    assert mine.handoff_code is not None
    assert report.handoff_code is not None
    # Then her own case continues, and the anonymous report becomes hers
    assert reads.continue_case(ELISE_ON_THE_PORTAL, mine.handoff_code).case_id == mine.case_id
    reads.continue_case(ELISE_ON_THE_PORTAL, report.handoff_code)
    assert cases.get(report.case_id).applicant == Applicant(nrn=ELISE, email=None)
    # And to Hugo both codes are a 404 that counts against him
    for code in (mine.handoff_code, report.handoff_code):
        with pytest.raises(NotFoundError):
            reads.continue_case(HUGO_ON_THE_PORTAL, code)
    assert limit.hits == {f"citizen:{HUGO}": 2}
    # And a mistyped code is a 422 before any lookup, not counted; an agent continues nothing
    last = mine.handoff_code[-1]
    mistyped = mine.handoff_code[:-1] + next(c for c in ALPHABET if c != last)  # its check character no longer fits
    with pytest.raises(ValidationFailedError):
        reads.continue_case(HUGO_ON_THE_PORTAL, mistyped)
    assert limit.hits == {f"citizen:{HUGO}": 2}
    with pytest.raises(ForbiddenError):
        reads.continue_case(agent("population"), mine.handoff_code)


def test_wrong_codes_past_the_limit_refuse_even_the_right_one() -> None:
    cases, limit = FakeCaseRepository(), Limit(allowed=2)
    reads = reads_of(cases, Reads(), limit)
    mine = stored(cases, "residence-certificate", HUGO)
    somebody_elses = stored(cases, "residence-certificate", ELISE)
    assert mine.handoff_code is not None
    assert somebody_elses.handoff_code is not None
    for _ in range(3):
        with pytest.raises((NotFoundError, TooManyRequestsError)):
            reads.continue_case(HUGO_ON_THE_PORTAL, somebody_elses.handoff_code)
    with pytest.raises(TooManyRequestsError):
        reads.continue_case(HUGO_ON_THE_PORTAL, mine.handoff_code)
