"""The city's figures without AWS: shares and their rounding, an empty period, the period's validation, which writes
count a delivered product, and the demo data's plan (exact mix, realistic days)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from infra.demo_data import CHANNEL_MIX, PROCEDURE_MIX, CaseFactory, apportion, plan
from omnicity.adapters.stats import counter_names, day_item, delivery_counters, tally, years
from omnicity.application.stats import MAX_PERIOD_YEARS, StatsService, figures_of, parse_period, shares
from omnicity.application.workflow import Completion, Failures
from omnicity.catalogue import get_catalogue
from omnicity.domain.business_days import belgian_public_holidays
from omnicity.domain.errors import ForbiddenError, ValidationFailedError
from omnicity.domain.identity import Principal
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, Role, TimelineEntry
from omnicity.domain.nrn import is_valid_nrn
from tests.conftest import ELISE
from tests.fakes import FakeCaseRepository, FakePlaces, FakeTaskRepository

JAN_1, DEC_31 = date(2025, 1, 1), date(2025, 12, 31)


def day(portal: int = 0, kiosk: int = 0, counter: int = 0, **procedures: int) -> dict[str, int]:
    counts = {"channel_portal": portal, "channel_kiosk": kiosk, "channel_counter": counter}
    counts |= {f"procedure_{name.replace('_', '-')}": value for name, value in procedures.items()}
    return {"total": portal + kiosk + counter, **counts}


# ---------------------------------------------------------------------------------------------------- shares
def test_the_seeds_mix_gives_its_shares_and_the_digital_share() -> None:
    # Given a year of 54 / 31 / 15 products per hundred
    figures = figures_of(JAN_1, DEC_31, [day(portal=540, kiosk=310, counter=150)])
    # Then the shares are those fractions of 1, digital = portal + kiosk
    assert figures.channel_shares.model_dump() == {"portal": 0.54, "kiosk": 0.31, "counter": 0.15}
    assert figures.digital_share == 0.85
    assert figures.total == 1000


def test_shares_are_rounded_to_four_places_and_add_up_to_exactly_one() -> None:
    # Given thirds, which no rounding to the nearest makes add up to 1
    thirds = shares({"portal": 1, "kiosk": 1, "counter": 1})
    # Then the spare ten-thousandth goes to one of them (the first named, on a tie), never lost nor doubled
    assert thirds == {"portal": 0.3334, "kiosk": 0.3333, "counter": 0.3333}
    assert round(sum(thirds.values()), 4) == 1.0


@pytest.mark.parametrize(
    "counts",
    [(2, 2, 3), (1, 0, 0), (0, 7, 2), (12345, 6789, 1011), (1, 1, 999_998), (81_000, 46_500, 22_500)],
)
def test_each_share_is_within_a_ten_thousandth_and_digital_is_one_minus_counter(counts: tuple[int, int, int]) -> None:
    portal, kiosk, counter = counts
    figures = figures_of(JAN_1, DEC_31, [day(portal=portal, kiosk=kiosk, counter=counter)])
    total = sum(counts)
    for name, count in zip(("portal", "kiosk", "counter"), counts, strict=True):
        share = getattr(figures.channel_shares, name)
        assert abs(share - count / total) < 1e-4
        assert share == round(share, 4)
    assert round(figures.digital_share + figures.channel_shares.counter, 4) == 1.0
    assert abs(figures.digital_share - (portal + kiosk) / total) < 1e-4


def test_an_empty_period_has_zero_shares_not_a_division_error() -> None:
    # Given no day with a delivered product
    figures = figures_of(JAN_1, DEC_31, [], procedures=["residence-certificate"])
    # Then everything is 0, and every procedure asked for is listed
    assert figures.total == 0
    assert figures.by_channel.model_dump() == {"portal": 0, "kiosk": 0, "counter": 0}
    assert figures.channel_shares.model_dump() == {"portal": 0.0, "kiosk": 0.0, "counter": 0.0}
    assert figures.digital_share == 0.0
    assert figures.by_procedure == {"residence-certificate": 0}


def test_days_add_up_by_channel_and_procedure_and_serialise_with_from() -> None:
    # Given two days, one of them with a procedure the catalogue no longer lists
    days = [day(portal=2, residence_certificate=2), day(kiosk=1, counter=1, life_certificate=1, retired=1)]
    # When they are added up for the catalogue's procedures
    figures = figures_of(JAN_1, DEC_31, days, procedures=["life-certificate", "residence-certificate", "bulky"])
    # Then every listed procedure appears (0 when nothing was delivered), and the counted ones too
    assert figures.by_procedure == {"bulky": 0, "life-certificate": 1, "residence-certificate": 2, "retired": 1}
    assert figures.by_channel.model_dump() == {"portal": 2, "kiosk": 1, "counter": 1}
    # And the period reads "from" / "to", as the query asked
    body = figures.model_dump(mode="json", by_alias=True)
    assert (body["from"], body["to"]) == ("2025-01-01", "2025-12-31")


# ---------------------------------------------------------------------------------------------------- the period
def test_a_valid_period_is_parsed_and_cut_at_year_ends() -> None:
    first, last = parse_period("2024-12-30", "2026-01-02")
    assert list(years(first, last)) == [
        (date(2024, 12, 30), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 2)),
    ]
    assert list(years(*parse_period("2025-03-01", "2025-03-01"))) == [(date(2025, 3, 1), date(2025, 3, 1))]


@pytest.mark.parametrize(
    ("start", "end", "field", "reason"),
    [
        ("2025-02-30", "2025-12-31", "from", "no such day"),
        ("2025-01-01", "2025-13-01", "to", "no such day"),
        ("20250101", "2025-12-31", "from", "not a date"),
        ("2025-01-01", "2025-12-31T00:00", "to", "not a date"),
        ("2025-W01-1", "2025-12-31", "from", "not a date"),
        ("", "2025-12-31", "from", "not a date"),
        ("2025-12-31", "2025-01-01", "to", "on or after from"),
        ("2021-01-01", "2026-12-31", "to", f"at most {MAX_PERIOD_YEARS} calendar years"),
    ],
)
def test_an_invalid_period_is_a_422_naming_the_field(start: str, end: str, field: str, reason: str) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        parse_period(start, end)
    assert [detail["field"] for detail in raised.value.details] == [field]
    assert reason in raised.value.details[0]["reason"]


def test_five_calendar_years_are_allowed_not_six() -> None:
    assert parse_period("2021-12-31", "2025-01-01") == (date(2021, 12, 31), date(2025, 1, 1))
    with pytest.raises(ValidationFailedError):
        parse_period("2020-12-31", "2025-01-01")


class NoReads:
    def days(self, first: date, last: date) -> list[dict[str, int]]:
        raise AssertionError("nothing is read for a caller who may not see the figures")


@pytest.mark.parametrize(
    "principal",
    [
        Principal(role=Role.CITIZEN, subject="c", channel=Channel.PORTAL, nrn=ELISE),
        Principal(role=Role.AGENT, subject="a", channel=Channel.COUNTER, departments=frozenset({"population"})),
        Principal(role=Role.KIOSK, subject="k", channel=Channel.KIOSK),
    ],
)
def test_only_agents_of_the_reporting_department_read_the_figures(principal: Principal) -> None:
    service = StatsService(NoReads(), get_catalogue())  # type: ignore[arg-type]
    with pytest.raises(ForbiddenError):
        service.figures(principal, "2025-01-01", "2025-12-31")


# ---------------------------------------------------------------------------------------------------- counting
def case(status: CaseStatus, at: datetime, channel: Channel = Channel.KIOSK) -> Case:
    return Case(
        case_id="case-1",
        reference="BXL-2025-000001",
        procedure_id="life-certificate",
        applicant=Applicant(nrn=ELISE),
        channel=channel,
        language=Language.FR,
        form={},
        status=status,
        timeline=[TimelineEntry(at=at, status=status, event="x", actor="system")],
        submitted_by="citizen",
        created_at=at,
        updated_at=at,
    )


def test_only_the_write_that_completes_a_case_counts_it_on_its_day_in_brussels() -> None:
    # Given a case completed at 23:30 UTC on 31 December: already 1 January in Brussels
    at = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    in_progress, completed = case(CaseStatus.IN_PROGRESS, at), case(CaseStatus.COMPLETED, at)
    # When it moves to completed, then is written again completed (a timeline entry), or fails
    counting = delivery_counters("T", in_progress, completed)
    # Then only the move is counted: one ADD to the three counters of 2026-01-01
    assert len(counting) == 1
    update = counting[0]["Update"]
    assert update["Key"] == {"pk": {"S": "STATS#2026"}, "sk": {"S": "2026-01-01"}}
    assert set(update["ExpressionAttributeNames"].values()) == {
        "type",
        *counter_names("life-certificate", Channel.KIOSK),
    }
    assert delivery_counters("T", completed, completed) == []
    assert delivery_counters("T", in_progress, case(CaseStatus.FAILED, at)) == []


def test_day_items_hold_what_the_live_counting_adds() -> None:
    # Given three products of one day
    days = tally(
        [
            (JAN_1, "life-certificate", Channel.PORTAL),
            (JAN_1, "life-certificate", Channel.KIOSK),
            (JAN_1, "residence-certificate", Channel.PORTAL),
        ]
    )
    # Then the day's item holds the counters the completing transaction would have added
    item = day_item(JAN_1, days[JAN_1])
    assert item["pk"] == {"S": "STATS#2025"}
    assert item["total"] == {"N": "3"}
    assert item["channel_portal"] == {"N": "2"}
    assert item["procedure_life-certificate"] == {"N": "2"}
    assert "channel_counter" not in item  # nothing at the counter: no attribute (read as 0)


# ---------------------------------------------------------------------------------------------------- the demo plan
def test_apportion_splits_exactly() -> None:
    assert apportion(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert sum(apportion(150_000, CHANNEL_MIX).values()) == 150_000
    assert apportion(0, {"a": 1}) == {"a": 0}


def test_the_demo_year_has_the_seeds_mix_exactly_and_realistic_days() -> None:
    # Given the year planned for 10,000 products
    products = plan(10_000, 2025, seed=7)
    # Then the channel mix is the seed's, exactly, and every procedure of the mix has its share
    assert Counter(p.channel for p in products) == {Channel.PORTAL: 5400, Channel.KIOSK: 3100, Channel.COUNTER: 1500}
    by_procedure = Counter(p.procedure_id for p in products)
    assert set(by_procedure) == set(PROCEDURE_MIX) <= {procedure.id for procedure in get_catalogue().all()}
    certificates = sum(count for name, count in by_procedure.items() if "certificate" in name or "extract" in name)
    assert certificates / 10_000 > 0.7
    # And days are 2025's: counters closed on Sundays and public holidays, more on Mondays than on Saturdays
    assert {p.day.year for p in products} == {2025}
    assert not [p for p in products if p.channel is Channel.COUNTER and p.day.weekday() >= 5]
    holidays = set(belgian_public_holidays(2025).values())
    assert not [p for p in products if p.channel is not Channel.PORTAL and p.day in holidays]
    weekdays = Counter(p.day.weekday() for p in products)
    assert weekdays[0] > weekdays[5] > 0
    months = Counter(p.day.month for p in products)
    assert months[9] > months[8]  # back from the summer
    # And it is reproducible, numbered by day
    assert plan(10_000, 2025, seed=7) == products
    assert [p.number for p in products] == list(range(1, 10_001))
    assert [p.day for p in products] == sorted(p.day for p in products)


def test_a_demo_case_is_its_product_completed_that_day_by_a_fictional_person() -> None:
    products = plan(300, 2025, seed=3)
    factory = CaseFactory(2025, seed=3)
    for product in products[::37]:
        demo = factory.case(product)
        assert demo.status is CaseStatus.COMPLETED
        assert (demo.procedure_id, demo.channel) == (product.procedure_id, product.channel)
        assert demo.updated_at.astimezone(UTC) >= demo.created_at
        assert delivery_counters("T", case(CaseStatus.IN_PROGRESS, demo.updated_at), demo)[0]["Update"]["Key"][
            "sk"
        ] == {"S": product.day.isoformat()}
        assert demo.applicant.nrn is None or is_valid_nrn(demo.applicant.nrn)
        assert demo.reference == f"BXL-2025-{product.number:06d}"
        assert factory.case(product) == demo  # the same case whatever else is sampled


# ---------------------------------------------------------------------------------------------------- metric hooks
def test_the_delivery_and_failure_hooks_run_once_per_case_however_often_the_step_runs() -> None:
    # Given two cases in progress
    cases = FakeCaseRepository()
    at = datetime.now(UTC)
    cases.put(case(CaseStatus.IN_PROGRESS, at))
    cases.put(case(CaseStatus.IN_PROGRESS, at).model_copy(update={"case_id": "case-2"}))
    completion, failures = (
        Completion(cases),
        Failures(cases, get_catalogue(), FakeTaskRepository(), FakePlaces(date(2026, 3, 2))),
    )  # type: ignore[arg-type]
    delivered: list[str] = []
    failed: list[str] = []
    # When one is completed twice and the other failed twice (the execution-ended event after the Fail state)
    for _ in range(2):
        completion.complete("case-1", on_delivered=lambda c: delivered.append(c.case_id))
        failures.mark_failed("case-2", "TransientError", "boom", on_failed=lambda c: failed.append(c.case_id))
    # Then each hook ran once, for the call that moved its case
    assert (delivered, failed) == (["case-1"], ["case-2"])
