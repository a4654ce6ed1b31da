"""Scale: DynamoDB items read per API call as the table grows from 100 to 100,000 cases.

A few cases are made through the platform first (a citizen's certificates, extracts waiting for the population
department, public alerts): they are what the probed routes answer. Then the table is filled with a year of
completed cases of other citizens (``infra.demo_data``: BatchWriteItem, as ``make demo-data`` does), and at each
size every probed route is called once with botocore counting what DynamoDB read for it: ``ScannedCount`` of each
Query (items evaluated, before any filter), the items a GetItem or BatchGetItem found. Any Scan is reported.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from bench._instrument import (
    ELISE,
    HUGO,
    AwsCall,
    AwsRecorder,
    Client,
    local_runtime,
    quiet_telemetry,
    silence_new_handlers,
)
from bench.report import Figure, Section, at_most

SIZES: Final = (100, 1_000, 10_000, 100_000)
QUICK_SIZES: Final = (100, 1_000, 10_000)
STATS_YEAR: Final = 2025  # the demo year: one counters item per day with products


@dataclass(frozen=True)
class Probe:
    name: str
    method: str
    path: str
    query: str
    token: str


@dataclass(frozen=True)
class Reading:
    items: int
    calls: int
    scans: int


def items_read(calls: Sequence[AwsCall]) -> Reading:
    items = scans = 0
    dynamodb = [call for call in calls if call.service == "dynamodb"]
    for call in dynamodb:
        if call.operation in ("Query", "Scan"):
            items += int(call.response.get("ScannedCount", call.response.get("Count", 0)))
            scans += call.operation == "Scan"
        elif call.operation == "GetItem":
            items += "Item" in call.response
        elif call.operation == "BatchGetItem":
            items += sum(len(found) for found in call.response.get("Responses", {}).values())
    return Reading(items, len(dynamodb), scans)


def _probes(client: Client, aws: AwsRecorder) -> list[Probe]:
    """The cases the probed routes answer, made through the platform (not measured)."""
    with aws.excluded():
        elise, hugo = client.token(ELISE), client.token(HUGO)
        population = client.token("bench-population", role="agent", client="counter", departments=["population"])
        reporting = client.token("bench-reporting", role="agent", client="counter", departments=["reporting"])
        certificates = [client.submit(elise, "residence-certificate", {"purpose": "employment"}) for _ in range(3)]
        extracts = [client.submit(hugo, "criminal-record-extract", {"model": "595"}) for _ in range(2)]
        alert = {"category": "litter", "description": "Sacs éventrés.", "location": {"lat": 50.8467, "lon": 4.3525}}
        alerts = [client.submit(elise, "public-space-alert", alert) for _ in range(2)]
        for case_id in certificates:
            client.wait_for_status(case_id, elise, ["completed"])
        for case_id in extracts:
            client.wait_for_status(case_id, hugo, ["waiting"])
        for case_id in alerts:
            client.wait_for_status(case_id, elise, ["waiting"])
    return [
        Probe("GET /v1/cases (a citizen's cases)", "GET", "/v1/cases", "", elise),
        Probe("GET /v1/cases/{id}", "GET", f"/v1/cases/{certificates[0]}", "", elise),
        Probe("GET /v1/agent/tasks (a department's queue)", "GET", "/v1/agent/tasks",
              "department=population&status=open", population),
        Probe(f"GET /v1/stats ({STATS_YEAR}, a year of day counters)", "GET", "/v1/stats",
              f"from={STATS_YEAR}-01-01&to={STATS_YEAR}-12-31", reporting),
        Probe("GET /open311/v2/requests.json (public requests, 90 days)", "GET", "/open311/v2/requests.json",
              "service_code=litter", ""),
    ]  # fmt: skip


def _fill(runtime: Any, size: int) -> float:
    """Write ``size`` completed cases of the demo year (the same ids at every size: each step adds the rest)."""
    import boto3
    from botocore.config import Config

    from infra.demo_data import generate

    started = time.perf_counter()
    client = boto3.client("dynamodb", config=Config(max_pool_connections=8))
    table = runtime.description.tables["CasesTable"].name
    generate(client, table, products=size, year=STATS_YEAR, cases=None, threads=2)
    return time.perf_counter() - started


def _count_cases(runtime: Any) -> int:
    from moto.dynamodb.models import dynamodb_backends

    from infra.local.template import ACCOUNT_ID

    table = dynamodb_backends[ACCOUNT_ID][runtime.region].tables[runtime.description.tables["CasesTable"].name]
    return sum(1 for item in table.all_items() if item.attrs.get("sk") and item.attrs["sk"].value == "CASE")


def run(quick: bool) -> Section:
    sizes = QUICK_SIZES if quick else SIZES
    readings: dict[str, dict[int, Reading]] = {}
    fill_seconds: dict[int, float] = {}
    counted: dict[int, int] = {}
    with quiet_telemetry() as sink, local_runtime() as runtime:
        aws_recorder = AwsRecorder(runtime)
        aws_recorder.install()
        from omnicity import aws

        aws.reset_clients()
        try:
            client = Client(runtime)
            probes = _probes(client, aws_recorder)
            for size in sizes:
                with aws_recorder.excluded():
                    fill_seconds[size] = _fill(runtime, size)
                counted[size] = _count_cases(runtime)
                silence_new_handlers(sink)
                for probe in probes:
                    token = probe.token or None
                    with aws_recorder.recording() as calls:
                        reply = client.request(probe.method, probe.path, token=token, query=probe.query)
                    if reply.status != 200:
                        raise RuntimeError(f"{probe.name}: {reply.status} {reply.body[:300]!r}")
                    readings.setdefault(probe.name, {})[size] = items_read(list(calls))
        finally:
            aws_recorder.uninstall()

    section = Section(
        title="Scale: DynamoDB items read per API call, 100 to 100,000 cases",
        method=(
            "In-process local runtime. Seven cases made through the platform (3 certificates of one citizen, 2 "
            "extracts waiting for the population department, 2 public alerts), then the table filled with completed "
            f"cases of the {STATS_YEAR} demo year (infra.demo_data, BatchWriteItem) to each size: "
            + ", ".join(
                f"{size:,} ({counted[size]:,} case items, loaded in {fill_seconds[size]:.0f} s)" for size in sizes
            )
            + ". Each route called once per size; items read = the ScannedCount of each Query (before filters) plus "
            "the items each GetItem/BatchGetItem found, counted by botocore after-call hooks."
        ),
    )
    largest = sizes[-1]
    scans = sum(reading.scans for by_size in readings.values() for reading in by_size.values())
    for name, by_size in readings.items():
        values = [by_size[size].items for size in sizes]
        per_size = ", ".join(f"{size:,}: {by_size[size].items} ({by_size[size].calls} calls)" for size in sizes)
        if name.startswith("GET /v1/stats"):
            # one counters item per day with products: bounded by the window (366), whatever the number of cases
            section.figures.append(
                at_most(f"items read, {name}", float(values[-1]), "items", 366.0, note=f"per size: {per_size}")
            )
        else:
            constant = len(set(values)) == 1
            section.figures.append(
                Figure(
                    f"items read, {name}",
                    float(values[-1]),
                    "items",
                    target="constant from 100 cases up",
                    holds=constant,
                    note=f"per size: {per_size}",
                )
            )
    section.figures.append(at_most("Scan calls on the probed routes", float(scans), "calls", 0.0))
    section.remarks += [
        f"Largest size measured: {largest:,} cases"
        + (" (quick mode stops at 10,000: filling moto with 100,000 cases takes minutes)." if quick else "."),
        "The stats route reads one counters item per day of the window that had products (fewer at the smallest "
        "sizes, when some days had none): it is bounded by the window's 365 days, never by the number of cases.",
        "Each read is a Query on one partition of the table or of a GSI (a citizen's cases, a case, a department's "
        "queue, a year's counters, a month of public cases) or a GetItem: adding other citizens' cases, other "
        "months and other departments' work changes nothing they read.",
    ]
    return section


if __name__ == "__main__":
    from bench._instrument import print_section

    print_section(run(quick="--quick" in sys.argv))
