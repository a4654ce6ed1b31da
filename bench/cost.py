"""Cost per delivered product: the AWS calls one product makes, counted during a run through the local runtime and
priced with the dated public price table ``bench/prices.yaml``.

Each first-wave procedure is delivered end to end as its users would (the citizen submits, an agent decides where
one must, the citizen reads the case and fetches the document): API requests (gateway dispatches), Lambda
invocations (duration measured in-process, memory from template.yaml), Step Functions executions of every machine the
case ran on (named after the case; each machine's Type read from template.yaml: Standard priced by state transition,
from the execution's history, Express by request and duration), DynamoDB request units (from item sizes), S3 requests
by class and SES emails (botocore hooks), and the log volume written to stdout (CloudWatch Logs).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import yaml

from bench._instrument import (
    ELISE,
    PIETER,
    AwsCall,
    AwsRecorder,
    Client,
    Invocation,
    RuntimeRecorder,
    TelemetrySink,
    Units,
    dynamodb_units,
    local_runtime,
    quiet_telemetry,
    silence_new_handlers,
)
from bench.report import Figure, Section, at_most
from infra.local.runtime import wait_for_execution
from infra.local.template import TemplateDescription
from omnicity.families import FAMILIES

PRICES: Final = Path(__file__).resolve().parent / "prices.yaml"
TARGET_AVERAGE: Final = 0.0005
TARGET_AT_ONCE: Final = 0.0002
S3_PUT_CLASS: Final = frozenset(
    {"PutObject", "CopyObject", "PostObject", "ListObjects", "ListObjectsV2", "CreateMultipartUpload", "UploadPart",
     "CompleteMultipartUpload", "ListBuckets"}
)  # fmt: skip
# The city's mix of delivered products (infra/demo_data.PROCEDURE_MIX): each journey stands for its kind.
MIX_OF: Final = {
    "residence-certificate": ("residence-certificate", "household-composition-certificate", "civil-status-extract",
                              "nationality-certificate", "life-certificate", "residence-history-certificate"),
    "criminal-record-extract": ("criminal-record-extract",),
    "eid-pin-code": ("eid-pin-code",),
    "street-artist-permit": ("street-artist-permit", "greening-request"),
    "public-space-alert": ("public-space-alert",),
    "bulky-items-removal": ("bulky-items-removal",),
}  # fmt: skip


@dataclass(frozen=True)
class ExecutionUsage:
    """One Step Functions execution of a case: its machine, the machine's type, state transitions and duration."""

    machine: str
    type: str
    transitions: int
    seconds: float

    @property
    def express(self) -> bool:
        return self.type == "EXPRESS"


@dataclass
class Usage:
    """What one delivered product used."""

    api_requests: int = 0
    invocations: list[Invocation] = field(default_factory=list)
    executions: list[ExecutionUsage] = field(default_factory=list)
    units: Units = field(default_factory=Units)
    s3_put: int = 0
    s3_get: int = 0
    emails: int = 0
    log_bytes: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def gb_seconds(self) -> float:
        return sum(math.ceil(i.seconds * 1000) / 1000 * i.memory_mb / 1024 for i in self.invocations)

    @property
    def transitions(self) -> int:
        """State transitions billed: those of Standard executions (Express bills requests and duration)."""
        return sum(execution.transitions for execution in self.executions if not execution.express)

    @property
    def express_seconds(self) -> list[float]:
        return [execution.seconds for execution in self.executions if execution.express]


@dataclass(frozen=True)
class Prices:
    table: Mapping[str, Any]

    def __getitem__(self, path: str) -> float:
        service, name = path.split(".")
        return float(self.table[service][name])

    def breakdown(self, usage: Usage, duration_factor: float = 1.0) -> dict[str, float]:
        """Dollars per service for ``usage`` (Lambda durations multiplied by ``duration_factor``)."""
        return {
            "API Gateway": usage.api_requests * self["api_gateway.request"],
            "Lambda": len(usage.invocations) * self["lambda.request"]
            + usage.gb_seconds * duration_factor * self["lambda.gb_second"],
            "Step Functions": usage.transitions * self["step_functions.standard_transition"]
            + sum(self.express(seconds) for seconds in usage.express_seconds),
            "DynamoDB": usage.units.write * self["dynamodb.write_request_unit"]
            + usage.units.read * self["dynamodb.read_request_unit"],
            "S3": usage.s3_put * self["s3.put_request"] + usage.s3_get * self["s3.get_request"],
            "SES": usage.emails * self["ses.email"],
            "CloudWatch Logs": usage.log_bytes / 1e9 * self["cloudwatch_logs.ingestion_gb"],
        }

    def express(self, seconds: float) -> float:
        """One Express execution of ``seconds``: the request plus its duration, in 100 ms and 64 MB steps."""
        step = self["step_functions.express_billing_ms"] / 1000
        billed = max(1, math.ceil(seconds / step)) * step
        memory_gb = self["step_functions.express_memory_mb"] / 1024
        return self["step_functions.express_request"] + billed * memory_gb * self["step_functions.express_gb_second"]


class Bench:
    """One runtime with the recorders, and the journeys of each procedure."""

    def __init__(self, client: Client, aws: AwsRecorder, runtime: RuntimeRecorder, sink: TelemetrySink) -> None:
        self.client, self.aws, self.runtime, self.sink = client, aws, runtime, sink
        with aws.excluded():
            self.elise, self.pieter = client.token(ELISE), client.token(PIETER)
            self.agents = {
                department: client.token(
                    f"bench-{department}", role="agent", client="counter", departments=[department]
                )
                for department in ("events", "cleanliness", "population")
            }

    # -- measuring one product
    def measure(self, journey: Callable[[], str]) -> Usage:
        silence_new_handlers(self.sink)
        self.runtime.reset()
        bytes_before = self.sink.bytes_written
        self.runtime.recording = True
        try:
            with self.aws.recording() as calls:
                case_id = journey()
                with self.aws.excluded():
                    executions = _executions(self.client.runtime.description, case_id)
        finally:
            self.runtime.recording = False
        usage = Usage(
            api_requests=len(self.runtime.api_requests),
            invocations=list(self.runtime.invocations),
            executions=executions,
            log_bytes=self.sink.bytes_written - bytes_before,
        )
        _count_calls(usage, list(calls))
        return usage

    def _wait(self, case_id: str, token: str, *statuses: str) -> dict[str, Any]:
        with self.aws.excluded():
            return self.client.wait_for_status(case_id, token, statuses)

    def _read_and_download(self, case_id: str, token: str) -> None:
        """The citizen opens the case, then the document's link, then downloads it (the browser GETs S3: counted
        here as one S3 GET, since it is no botocore call)."""
        case = self.client.case(case_id, token)
        for document in case["documents"]:
            reply = self.client.request("GET", f"/v1/cases/{case_id}/documents/{document['document_id']}", token=token)
            if reply.status != 200:
                raise RuntimeError(f"document link: {reply.status} {reply.body!r}")
            self.downloads += 1

    downloads = 0

    def _decide(self, department: str, case_id: str, token: str, outcome: str, comment: str | None = None) -> None:
        agent = self.agents[department]
        queue = self.client.request("GET", "/v1/agent/tasks", token=agent, query=f"department={department}&status=open")
        task = next(task for task in queue.json["items"] if task["case_id"] == case_id)
        body = {"outcome": outcome} | ({"comment": comment} if comment else {})
        reply = self.client.request("POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body=body)
        if reply.status != 200:
            raise RuntimeError(f"decision refused: {reply.status} {reply.body!r}")

    # -- the journeys (each returns the case id)
    def residence_certificate(self) -> str:
        case_id = self.client.submit(self.elise, "residence-certificate", {"purpose": "employment"})
        self._wait(case_id, self.elise, "completed")
        self._read_and_download(case_id, self.elise)
        return case_id

    def criminal_record_extract(self) -> str:
        case_id = self.client.submit(self.elise, "criminal-record-extract", {"model": "595"})
        self._wait(case_id, self.elise, "completed")
        self._read_and_download(case_id, self.elise)
        return case_id

    def eid_pin_code(self) -> str:
        case_id = self.client.submit(self.pieter, "eid-pin-code", {"reason": "forgotten"}, language="nl")
        self._wait(case_id, self.pieter, "waiting")
        self.client.runtime.run_schedules()  # the card producer's timer fires once: it confirms the order
        self._wait(case_id, self.pieter, "completed")
        self.client.case(case_id, self.pieter)
        return case_id

    def street_artist_permit(self) -> str:
        from omnicity.domain.models import today_in_brussels

        start = today_in_brussels() + timedelta(days=14)
        form = {
            "artist_name": "Les Frères Jongleurs",
            "discipline": "juggling",
            "amplified": False,
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=90)).isoformat(),
            "zones": ["mont_des_arts", "sainte_catherine"],
        }
        case_id = self.client.submit(self.pieter, "street-artist-permit", form)
        self._wait(case_id, self.pieter, "waiting")
        self._decide("events", case_id, self.pieter, "approve")
        self._wait(case_id, self.pieter, "completed")
        self._read_and_download(case_id, self.pieter)
        return case_id

    def public_space_alert(self) -> str:
        form = {
            "category": "litter",
            "description": "Sacs poubelles éventrés sur le trottoir.",
            "location": {"lat": 50.8467, "lon": 4.3525},
        }
        case_id = self.client.submit(self.elise, "public-space-alert", form)
        self._wait(case_id, self.elise, "waiting")
        self._decide("cleanliness", case_id, self.elise, "fixed", "Nettoyé à 10 h.")
        self._wait(case_id, self.elise, "completed")
        self.client.case(case_id, self.elise)
        return case_id

    def bulky_items_removal(self) -> str:
        slots = self.client.request("GET", "/v1/procedures/bulky-items-removal/slots").json["items"]
        form = {
            "address": {"street": "Rue Haute", "number": "120", "postal_code": "1000"},
            "items": [{"item": "sofa", "quantity": 1}, {"item": "chairs", "quantity": 4}],
            "collection_date": slots[0]["date"],
        }
        case_id = self.client.submit(self.pieter, "bulky-items-removal", form)
        self._wait(case_id, self.pieter, "waiting")
        self._decide("cleanliness", case_id, self.pieter, "collected")
        self._wait(case_id, self.pieter, "completed")
        self.client.case(case_id, self.pieter)
        return case_id


def _executions(description: TemplateDescription, case_id: str) -> list[ExecutionUsage]:
    """Every execution of the case (each named after it), once ended, in the order its family's machines run
    (``omnicity.families``): a document request an agent decides runs on the Express document machine, then the
    Standard review machine. Read locally from moto, which describes Express executions too (AWS keeps no history
    for them)."""
    import boto3

    stepfunctions = boto3.client("stepfunctions")
    machines = [description.state_machines[machine.logical_id] for family in FAMILIES for machine in family.machines]
    executions: list[ExecutionUsage] = []
    for machine in machines:
        arn = machine.arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
        try:
            stepfunctions.describe_execution(executionArn=arn)
        except stepfunctions.exceptions.ExecutionDoesNotExist:
            continue
        execution = wait_for_execution(arn, timeout=30)
        if execution["status"] != "SUCCEEDED":
            raise RuntimeError(f"case {case_id}: {machine.logical_id} execution {execution['status']}")
        history = _history(arn)
        executions.append(
            ExecutionUsage(
                machine=machine.logical_id,
                type=machine.type,
                transitions=sum(1 for event in history if event["type"].endswith("StateEntered")),
                seconds=(execution["stopDate"] - execution["startDate"]).total_seconds(),
            )
        )
    if not executions:
        raise LookupError(f"no execution for case {case_id}")
    return executions


def _history(execution_arn: str) -> list[dict[str, Any]]:
    import boto3

    stepfunctions = boto3.client("stepfunctions")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = stepfunctions.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def _count_calls(usage: Usage, calls: Sequence[AwsCall]) -> None:
    units = Units()
    for call in calls:
        name = f"{call.service}.{call.operation}"
        usage.calls[name] = usage.calls.get(name, 0) + 1
        if call.service == "dynamodb":
            units = units + dynamodb_units(call)
        elif call.service == "s3":
            if call.operation in S3_PUT_CLASS:
                usage.s3_put += 1
            else:
                usage.s3_get += 1
        elif call.service == "ses" and call.operation in ("SendEmail", "SendRawEmail", "SendTemplatedEmail"):
            usage.emails += 1
    usage.units = units


def _median_usage(samples: Sequence[Usage]) -> Usage:
    """The sample whose Lambda time is the median (the counts are the same in every run)."""
    ordered = sorted(samples, key=lambda usage: usage.gb_seconds)
    return ordered[len(ordered) // 2]


def run(quick: bool) -> Section:
    rounds = 3 if quick else 7
    prices = Prices(yaml.safe_load(PRICES.read_text(encoding="utf-8")))
    journeys: dict[str, str] = {
        "residence-certificate": "residence_certificate",
        "criminal-record-extract": "criminal_record_extract",
        "eid-pin-code": "eid_pin_code",
        "street-artist-permit": "street_artist_permit",
        "public-space-alert": "public_space_alert",
        "bulky-items-removal": "bulky_items_removal",
    }
    usages: dict[str, Usage] = {}
    downloads: dict[str, int] = {}
    with quiet_telemetry() as sink, local_runtime({"CardProducerDelaySeconds": "0"}) as runtime:
        aws_recorder = AwsRecorder(runtime)
        aws_recorder.install()
        from omnicity import aws

        aws.reset_clients()  # the layer's clients are made again, with the hooks
        recorder = RuntimeRecorder(runtime, aws_recorder)
        recorder.install()
        try:
            bench = Bench(Client(runtime), aws_recorder, recorder, sink)
            for procedure, method in journeys.items():
                journey = getattr(bench, method)
                bench.measure(journey)  # warm-up: loads the handlers, makes the clients
                samples = []
                for _ in range(rounds):
                    bench.downloads = 0
                    samples.append(bench.measure(journey))
                usages[procedure] = _median_usage(samples)
                downloads[procedure] = bench.downloads
        finally:
            recorder.uninstall()
            aws_recorder.uninstall()
    for procedure, usage in usages.items():
        usage.s3_get += downloads[procedure]  # the browser's download of each document

    from infra.demo_data import PROCEDURE_MIX

    weights = {procedure: sum(PROCEDURE_MIX.get(p, 0.0) for p in MIX_OF[procedure]) for procedure in usages}
    costs = {procedure: sum(prices.breakdown(usage).values()) for procedure, usage in usages.items()}
    average = sum(costs[p] * weights[p] for p in costs) / sum(weights.values())
    at_once = costs["residence-certificate"]
    slow_average = sum(sum(prices.breakdown(usages[p], 3.0).values()) * weights[p] for p in costs) / sum(
        weights.values()
    )

    section = Section(
        title="Cost per delivered product (AWS list prices, eu-west-1)",
        method=(
            f"Each first-wave procedure delivered end to end through the in-process local runtime ({rounds} runs "
            "after a warm-up, the median run): citizen submits, an agent decides where one must, the citizen reads "
            "the case and fetches the document (plus the browser's S3 download). Counted: API requests (gateway "
            "dispatches), Lambda invocations (in-process duration, rounded up to the ms, memory from template.yaml), "
            "Step Functions executions of every machine the case ran on (Standard: state transitions from the "
            "execution history, *StateEntered; Express: a request plus its duration, in 100 ms steps at 64 MB; each "
            "machine's Type from template.yaml), DynamoDB request units computed "
            "from the stored items' sizes (moto's ReturnConsumedCapacity is a constant), S3 requests by class and "
            "SES emails (botocore before-parameter-build/after-call hooks on every client), stdout log bytes. "
            f"Prices: bench/prices.yaml ({prices.table['date']}, {prices.table['region']}, on-demand)."
        ),
    )
    section.figures += [
        at_most(
            "average per delivered product (the city's mix)",
            float(f"{average:.3g}"),
            "$",
            TARGET_AVERAGE,
            note=f"{average / TARGET_AVERAGE:.2f}x the target; weights: "
            + ", ".join(f"{p} {weights[p]:g}" for p in usages),
        ),
        at_most(
            "a document issued at once (residence certificate)",
            float(f"{at_once:.3g}"),
            "$",
            TARGET_AT_ONCE,
            note=f"{at_once / TARGET_AT_ONCE:.2f}x the target; "
            + _at_once_why(usages["residence-certificate"], prices),
        ),
    ]
    section.figures += [
        Figure(f"{procedure}", float(f"{costs[procedure]:.3g}"), "$", note=_usage_note(usages[procedure]))
        for procedure in usages
    ]
    section.remarks += [
        "Where the money goes, per product: "
        + "; ".join(
            f"{procedure}: "
            + ", ".join(
                f"{name} {value / costs[procedure]:.0%}" for name, value in prices.breakdown(usage).items() if value
            )
            for procedure, usage in usages.items()
        ),
        f"Lambda durations are measured in-process on this machine against moto; at 512 MB a Lambda has about a "
        f"third of a vCPU, so real durations may be longer: with every Lambda duration x3 the average would be "
        f"${slow_average:.3g} per product.",
        "Per-product counts exclude the scheduled functions, a fixed monthly cost: the simulated card producer "
        "runs every minute (43,200 invocations a month), the overdue-task monitor and the stalled-case sweep every "
        "15 minutes (2,880 each), each well under $0.10 a month at these durations. The eID journey includes the "
        "one tick of the schedules that confirmed its order (the producer's run, the monitor's and the sweep's).",
        *_families(usages, prices, runtime.description),
        "Excluded (see bench/prices.yaml): " + "; ".join(prices.table.get("excluded", [])),
    ]
    return section


def _at_once_why(usage: Usage, prices: Prices) -> str:
    breakdown = prices.breakdown(usage)
    total = sum(breakdown.values())
    all_standard = (
        sum(execution.transitions for execution in usage.executions) * prices["step_functions.standard_transition"]
    )
    largest = max(breakdown, key=lambda name: breakdown[name])
    return (
        f"Step Functions {_executions_note(usage)} ${breakdown['Step Functions']:.3g} (on a Standard machine: "
        f"${all_standard:.3g}, {all_standard / TARGET_AT_ONCE:.0%} of the target by itself); "
        f"the largest share is {largest} ${breakdown[largest]:.3g} ({breakdown[largest] / total:.0%})"
    )


def _executions_note(usage: Usage) -> str:
    return " + ".join(
        f"{execution.machine.removesuffix('StateMachine')} Express {execution.seconds * 1000:.0f} ms"
        if execution.express
        else f"{execution.machine.removesuffix('StateMachine')} Standard {execution.transitions} transitions"
        for execution in usage.executions
    )


def _usage_note(usage: Usage) -> str:
    functions: dict[str, int] = {}
    for invocation in usage.invocations:
        name = invocation.function.removesuffix("Function")
        functions[name] = functions.get(name, 0) + 1
    invoked = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in functions.items())
    return (
        f"{usage.api_requests} API requests; {len(usage.invocations)} Lambda invocations, "
        f"{usage.gb_seconds * 1000:.1f} GB-ms ({invoked}); "
        f"Step Functions {_executions_note(usage)}; DynamoDB {usage.units.write:g} WRU + {usage.units.read:g} RRU; "
        f"S3 {usage.s3_put} PUT + {usage.s3_get} GET; {usage.emails} email(s); logs {usage.log_bytes / 1024:.1f} KB"
    )


# Why each machine has its type: what a Standard one waits for (Express supports no task token and runs 5 minutes
# at most), and what keeps an Express one within Express's limits.
WAITS: Final = {
    "DocumentReviewStateMachine": "WaitForAgent (.waitForTaskToken) until an agent of the department decides",
    "FieldServiceStateMachine": "WaitForFieldAgent (.waitForTaskToken) for every case",
    "CardOrderStateMachine": "OrderPinLetter (.waitForTaskToken) until the card producer confirms",
}
EXPRESS_FITS: Final = {
    "DocumentRequestStateMachine": "the at-once path waits on nothing and ends in well under a second; a case an "
    "agent must decide is handed on to document_review (states:startExecution, the execution named after the case)",
}


def _families(usages: Mapping[str, Usage], prices: Prices, description: TemplateDescription) -> list[str]:
    """Per state machine (its Type from template.yaml): why that type, and what each procedure pays there."""
    standard_price = prices["step_functions.standard_transition"]
    lines = []
    for machine in description.state_machines.values():
        file = machine.definition_path.name if machine.definition_path else machine.logical_id
        parts = []
        for procedure, usage in usages.items():
            for execution in usage.executions:
                if execution.machine != machine.logical_id:
                    continue
                standard = execution.transitions * standard_price
                if execution.express:
                    parts.append(
                        f"{procedure}: Express ${prices.express(execution.seconds):.3g} "
                        f"({execution.seconds * 1000:.0f} ms locally, billed in 100 ms steps at 64 MB) "
                        f"instead of ${standard:.3g} as Standard "
                        f"({execution.transitions} transitions)"
                    )
                else:
                    parts.append(f"{procedure}: Standard ${standard:.3g} ({execution.transitions} transitions)")
        if machine.type == "EXPRESS":
            why = f"Express, since {EXPRESS_FITS.get(machine.logical_id, 'it waits on nothing')}"
        else:
            wait = WAITS.get(machine.logical_id, "a wait")
            why = (
                f"Standard; Express does not fit, since the machine holds {wait} (Express supports no task tokens "
                "and runs 5 minutes at most)"
            )
        lines.append(
            f"statemachines/{file} ({machine.logical_id}): {why}. " + ("; ".join(parts) or "no journey here") + "."
        )
    return lines


if __name__ == "__main__":
    from bench._instrument import print_section

    print_section(run(quick="--quick" in sys.argv))
