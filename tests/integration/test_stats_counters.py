"""The day counters against a moto table built from template.yaml: a completion counts once, however often its step
runs and whoever races it; a lost write counts nothing; a query for the figures costs one Query per calendar year,
however many cases there are."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime

import boto3
import pytest

from infra.demo_data import generate, plan
from infra.local.runtime import LocalRuntime
from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.stats import StatsRepository, delivery_counters, stats_key
from omnicity.application.stats import figures_of
from omnicity.application.workflow import Completion
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.domain.errors import CaseConflictError
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry, brussels_date
from tests.conftest import ELISE, ROOT
from tests.fakes import CountingClient


def in_progress(repository: CaseRepository, channel: Channel = Channel.KIOSK) -> Case:
    now = datetime.now(UTC)
    case = repository.create(
        Case(
            case_id=str(uuid.uuid4()),
            reference=f"BXL-2097-{uuid.uuid4().int % 10**6:06d}",
            procedure_id="life-certificate",
            applicant=Applicant(nrn=ELISE),
            channel=channel,
            language=Language.FR,
            form={"purpose": "pension"},
            status=CaseStatus.SUBMITTED,
            timeline=[TimelineEntry(at=now, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
            submitted_by="citizen",
            created_at=now,
            updated_at=now,
        )
    )
    return repository.update(
        case.case_id, lambda c: c.with_entry("validated", actor="system", at=now, status=CaseStatus.IN_PROGRESS)
    )


def counters(table: str, day: date) -> Counter[str]:
    item = boto3.client("dynamodb").get_item(TableName=table, Key=stats_key(day)).get("Item") or {}
    return Counter({name: int(value["N"]) for name, value in item.items() if "N" in value})


def today() -> date:
    return brussels_date(datetime.now(UTC))


def test_the_complete_step_run_twice_counts_its_case_once_and_emits_one_metric(
    runtime: LocalRuntime, repository: CaseRepository, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an in-progress kiosk case, and today's counters
    case = in_progress(repository, Channel.KIOSK)
    before = counters(table, today())
    capsys.readouterr()
    # When Step Functions runs its CompleteCase step twice (a retry after a timeout that had in fact succeeded)
    first = runtime.bridge.invoke_function("CompleteCaseFunction", {"case_id": case.case_id})
    second = runtime.bridge.invoke_function("CompleteCaseFunction", {"case_id": case.case_id})
    # Then the case is completed, and today's counters moved by one: total, its channel, its procedure
    assert first["status"] == second["status"] == "completed"
    moved = counters(table, today()) - before
    assert moved == Counter({"total": 1, "channel_kiosk": 1, "procedure_life-certificate": 1})
    # And one ProductsDelivered was emitted (EMF on stdout), by procedure and channel, and by each alone
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"ProductsDelivered"' in line]
    assert len(emitted) == 1
    (directive,) = emitted[0]["_aws"]["CloudWatchMetrics"]
    assert sorted(sorted(dimensions) for dimensions in directive["Dimensions"]) == [
        ["channel", "procedure", "service"],
        ["channel", "service"],
        ["procedure", "service"],
    ]
    assert (emitted[0]["procedure"], emitted[0]["channel"]) == ("life-certificate", "kiosk")


def test_two_steps_completing_one_case_at_once_count_it_once(repository: CaseRepository, table: str) -> None:
    # Given an in-progress portal case and two complete steps (as two Lambda environments) about to complete it
    case = in_progress(repository, Channel.PORTAL)
    before = counters(table, today())
    completions = [
        Completion(CaseRepository(table, retention=retention_days_of)),
        Completion(CaseRepository(table, retention=retention_days_of)),
    ]
    delivered: list[str] = []
    start = threading.Barrier(2)

    def complete(index: int) -> None:
        start.wait()
        completions[index].complete(case.case_id, on_delivered=lambda c: delivered.append(c.case_id))

    # When both run at once
    threads = [threading.Thread(target=complete, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one of them delivered it, and it is counted once
    assert delivered == [case.case_id]
    assert counters(table, today()) - before == Counter(
        {"total": 1, "channel_portal": 1, "procedure_life-certificate": 1}
    )


def test_a_completion_that_loses_its_race_counts_nothing(repository: CaseRepository, table: str) -> None:
    # Given a case read by the complete step, then changed by someone else (an agent's timeline entry)
    read = in_progress(repository)
    repository.update(read.case_id, lambda c: c.with_entry("note", actor="agent:a", at=datetime.now(UTC)))
    before = counters(table, today())
    completed = read.with_entry("completed", actor="system", at=datetime.now(UTC), status=CaseStatus.COMPLETED)
    # When the step writes the completion on the version it read
    with pytest.raises(CaseConflictError):
        repository.save(completed, along=delivery_counters(table, read, completed), previous=read)
    # Then the transaction wrote nothing: neither the case nor the counters
    assert counters(table, today()) == before
    assert repository.get(read.case_id).status is CaseStatus.IN_PROGRESS


def test_the_api_sample_event_reads_the_figures(runtime: LocalRuntime) -> None:
    # Given the sample event (an agent of the reporting department asks for 2025)
    event = json.loads((ROOT / "events" / "api_stats.json").read_text(encoding="utf-8"))
    # When the API function handles it
    reply = runtime.bridge.invoke_function("ApiFunction", event)
    # Then the figures of the period come back, every procedure listed
    assert reply["statusCode"] == 200, reply["body"]
    body = json.loads(reply["body"])
    assert (body["from"], body["to"]) == ("2025-01-01", "2025-12-31")
    assert set(body["by_procedure"]) == {procedure.id for procedure in get_catalogue().all()}


def reads_for(table: str, first: date, last: date) -> tuple[int, Counter[str]]:
    client = CountingClient(boto3.client("dynamodb"))
    figures = figures_of(first, last, StatsRepository(table, client).days(first, last))
    return figures.total, Counter(client.calls)


# Last in the module: 2,000 cases make moto's transactions slow (it copies the table for each one).
def test_the_figures_cost_one_query_per_year_whether_10_or_2000_cases_exist(
    repository: CaseRepository, table: str
) -> None:
    # Given 10 cases delivered in 2023 and 2,000 in 2024, each written as a case with its day's counters
    client = boto3.client("dynamodb")
    small = generate(client, table, products=10, year=2023, cases=None, seed=1, threads=2)
    large = generate(client, table, products=2000, year=2024, cases=None, seed=2, threads=4)
    assert (small.cases, large.cases) == (10, 2000)
    demo = repository.get_by_reference("BXL-2024-002000")  # a demo case reads like any other, by its reference too
    assert (demo.status, demo.updated_at.year) == (CaseStatus.COMPLETED, 2024)
    # When the figures of each year are read
    total_2023, calls_2023 = reads_for(table, date(2023, 1, 1), date(2023, 12, 31))
    total_2024, calls_2024 = reads_for(table, date(2024, 1, 1), date(2024, 12, 31))
    # Then each is one Query, whatever the number of cases, and nothing else (no Scan, no GetItem per day)
    assert (total_2023, total_2024) == (10, 2000)
    assert calls_2023 == calls_2024 == Counter({"query": 1})
    # And a period over three calendar years is three Queries
    first, last = date(2023, 6, 1), date(2025, 5, 31)
    total, calls = reads_for(table, first, last)
    assert calls == Counter({"query": 3})
    planned = [*plan(10, 2023, seed=1), *plan(2000, 2024, seed=2)]
    assert total == sum(1 for product in planned if first <= product.day <= last)
