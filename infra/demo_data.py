"""A year of demo figures for the local runtime: ``make demo-data`` (``python -m infra.demo_data``).

Generates a realistic year of delivered products (150,000 by default, in 2025): the channel mix of the seed
(portal 54 %, kiosk 31 %, counter 15 %, exactly), mostly certificates, more on Mondays and in January and September,
fewer in July, August and late December, nothing at the kiosks and counters on Sundays and public holidays. Then it
writes, with BatchWriteItem (25 items a call, several threads):

- the counters of every day (``omnicity.adapters.stats``: ``pk=STATS#<yyyy>``, ``sk=<yyyy-mm-dd>``), computed in
memory from
  all the products and written once per day, so ``GET /v1/stats`` shows exactly what was generated;
- a sample of the products as completed cases (``--cases``, 200 by default; ``--cases all`` for every one): each
  written case is one of the counted products (same day, channel and procedure), with its reference pointer;
- the year's reference counter, moved past the generated references.

Everything is derived from ``--seed``: a second run writes the same items again (nothing is counted twice).

Against the ``make run`` process (its moto server, ``http://127.0.0.1:5005``): start ``make run`` first.
In-process (tests): :func:`generate` with a boto3 client and the table's name.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Hashable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.registries import get_registers
from omnicity.adapters.stats import day_item, tally
from omnicity.capabilities.anonymous_reports import AnonymousReports
from omnicity.capabilities.review import Review
from omnicity.catalogue import Catalogue, get_catalogue, retention_days_of
from omnicity.domain.business_days import city_calendar
from omnicity.domain.models import (
    Applicant,
    Case,
    CaseStatus,
    Channel,
    FieldType,
    Language,
    Procedure,
    TimelineEntry,
)
from omnicity.domain.nrn import make_nrn

ROOT: Final = Path(__file__).resolve().parent.parent
BRUSSELS: Final = ZoneInfo("Europe/Brussels")
BATCH: Final = 25  # BatchWriteItem's limit
DEFAULT_PRODUCTS: Final = 150_000
DEFAULT_CASES: Final = 200
MAX_PRODUCTS: Final = 999_999  # references number six digits a year
# Where the figures go: the table the function serving this route reads (its CoreSettings.table_name).
STATS_ROUTE: Final = ("GET", "/v1/stats")
TABLE_SETTING: Final = "TABLE_NAME"

# The seed's channel mix (the city's published figures).
CHANNEL_MIX: Final[Mapping[Channel, float]] = {Channel.PORTAL: 0.54, Channel.KIOSK: 0.31, Channel.COUNTER: 0.15}
# Mostly certificates and extracts (79 %); every procedure of the catalogue has its share.
PROCEDURE_MIX: Final[Mapping[str, float]] = {
    "residence-certificate": 24,
    "household-composition-certificate": 16,
    "criminal-record-extract": 14,
    "civil-status-extract": 12,
    "eid-pin-code": 8,
    "public-space-alert": 7,
    "nationality-certificate": 5,
    "life-certificate": 4,
    "residence-history-certificate": 4,
    "bulky-items-removal": 4,
    "greening-request": 1.5,
    "street-artist-permit": 0.5,
}
LANGUAGE_MIX: Final[Mapping[Language, float]] = {Language.FR: 0.62, Language.NL: 0.28, Language.EN: 0.10}
# January to December: the new year and the return from holidays are busy, the summer and Christmas quiet.
MONTH_FACTORS: Final = (1.10, 1.05, 1.05, 0.95, 0.95, 1.00, 0.80, 0.70, 1.10, 1.10, 1.00, 0.85)
# Monday to Sunday, per channel: the portal never closes, the kiosks are in the city's offices (Saturday mornings
# too), the counters open on weekdays (Wednesday and Friday afternoons closed).
WEEKDAY_FACTORS: Final[Mapping[Channel, tuple[float, ...]]] = {
    Channel.PORTAL: (1.10, 1.05, 1.00, 1.00, 0.90, 0.45, 0.50),
    Channel.KIOSK: (1.15, 1.10, 0.95, 1.05, 0.95, 0.55, 0.0),
    Channel.COUNTER: (1.20, 1.10, 0.80, 1.10, 0.80, 0.0, 0.0),
}
HOLIDAY_FACTORS: Final[Mapping[Channel, float]] = {Channel.PORTAL: 0.5, Channel.KIOSK: 0.0, Channel.COUNTER: 0.0}
# When in the day (Brussels) products are delivered, per channel: (first minute, last minute).
OPENING: Final[Mapping[Channel, tuple[int, int]]] = {
    Channel.PORTAL: (7 * 60, 23 * 60 + 30),
    Channel.KIOSK: (8 * 60, 19 * 60),
    Channel.COUNTER: (8 * 60 + 30, 16 * 60),
}

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Product:
    """One delivered product: its number in the year (by day), the day (Brussels), procedure and channel."""

    number: int
    day: date
    procedure_id: str
    channel: Channel


@dataclass(frozen=True)
class DemoSummary:
    """What was generated and written (the figures ``GET /v1/stats`` then shows for the year)."""

    year: int
    products: int
    by_channel: dict[str, int]
    by_procedure: dict[str, int]
    days: int
    cases: int
    items: int
    seconds: float


# ---------------------------------------------------------------------------------------------------- the plan
def apportion(total: int, weights: Mapping[K, float]) -> dict[K, int]:
    """``total`` split in proportion to ``weights``, in whole numbers that add up to ``total`` exactly (largest
    remainder; ties to the first named)."""
    weight_sum = sum(weights.values())
    if total < 0 or weight_sum <= 0:
        raise ValueError("a non-negative total and some positive weight are needed")
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    shares = {key: int(value) for key, value in exact.items()}
    left = total - sum(shares.values())
    for key in sorted(exact, key=lambda key: -(exact[key] - shares[key]))[:left]:
        shares[key] += 1
    return shares


def day_weights(year: int, channel: Channel, rng: random.Random) -> dict[date, float]:
    """How busy each day of ``year`` is on ``channel``: month x weekday x public holiday x some day-to-day noise."""
    holidays = city_calendar().holidays(year)
    weights = {}
    day = date(year, 1, 1)
    while day.year == year:
        weight = MONTH_FACTORS[day.month - 1] * WEEKDAY_FACTORS[channel][day.weekday()]
        if day in holidays:
            weight *= HOLIDAY_FACTORS[channel]
        if day.month == 12 and day.day >= 24:
            weight *= 0.6  # between Christmas and the new year
        weights[day] = weight * rng.uniform(0.85, 1.15)
        day += timedelta(days=1)
    return weights


def plan(products: int, year: int = 2025, seed: int = 2025, catalogue: Catalogue | None = None) -> list[Product]:
    """The year's delivered products, numbered by day: exact channel and procedure totals, realistic days."""
    if not 0 <= products <= MAX_PRODUCTS:
        raise ValueError(f"products must be between 0 and {MAX_PRODUCTS}, got {products}")
    known = {procedure.id for procedure in (catalogue or get_catalogue()).all()}
    unknown = sorted(set(PROCEDURE_MIX) - known)
    if unknown:
        raise ValueError(f"the procedure mix names procedures the catalogue does not hold: {', '.join(unknown)}")
    rng = _rng(seed)
    procedures = [
        procedure_id for procedure_id, count in apportion(products, PROCEDURE_MIX).items() for _ in range(count)
    ]
    rng.shuffle(procedures)
    cells = [
        (day, channel)
        for channel, count in apportion(products, CHANNEL_MIX).items()
        for day, per_day in apportion(count, day_weights(year, channel, rng)).items()
        for _ in range(per_day)
    ]
    cells.sort(key=lambda cell: cell[0])  # numbered by day (stable: the channels' order within a day)
    return [
        Product(number=index + 1, day=day, procedure_id=procedure_id, channel=channel)
        for index, ((day, channel), procedure_id) in enumerate(zip(cells, procedures, strict=True))
    ]


# ---------------------------------------------------------------------------------------------------- the cases
class CaseFactory:
    """A completed case for a product: plausible times, a fictional applicant, the form's choices filled in."""

    def __init__(self, year: int, seed: int, prefix: str = "BXL", catalogue: Catalogue | None = None) -> None:
        self._year = year
        self._seed = seed
        self._prefix = prefix
        self._catalogue = catalogue or get_catalogue()
        self._register = get_registers().national

    def case(self, product: Product) -> Case:
        rng = _rng(self._seed, product.number)  # each case on its own: any sample gives the same cases
        procedure = self._catalogue.get(product.procedure_id)
        start, end = OPENING[product.channel]
        local = datetime.combine(product.day, datetime.min.time(), BRUSSELS) + timedelta(
            minutes=rng.randint(start, end), seconds=rng.randint(0, 59)
        )
        completed_at = local.astimezone(UTC)
        created_at = completed_at - _duration(procedure, rng)
        open_to_anonymous = AnonymousReports.is_public(procedure)
        anonymous = open_to_anonymous and product.channel is Channel.PORTAL and rng.random() < 0.6
        nrn = None if anonymous else self._fictional_nrn(rng)
        author = (
            "anonymous"
            if anonymous
            else f"agent:counter-{rng.randint(1, 12):02d}"
            if product.channel is Channel.COUNTER
            else "citizen"
        )
        steps = [
            (created_at, CaseStatus.SUBMITTED, "submitted", author),
            (created_at + timedelta(seconds=2), CaseStatus.IN_PROGRESS, "validated", "system"),
            (created_at + timedelta(seconds=4), CaseStatus.IN_PROGRESS, "eligibility_confirmed", "system"),
            (completed_at, CaseStatus.COMPLETED, "completed", "system"),
        ]
        return Case(
            case_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"omnicity-demo:{self._seed}:{self._year}:{product.number}")),
            reference=f"{self._prefix}-{self._year}-{product.number:06d}",
            procedure_id=procedure.id,
            applicant=Applicant(nrn=nrn),
            channel=product.channel,
            language=_pick(rng, LANGUAGE_MIX),
            form=_form(procedure, rng),
            status=CaseStatus.COMPLETED,
            timeline=[
                TimelineEntry(at=at, status=status, event=event, actor=actor) for at, status, event, actor in steps
            ],
            submitted_by=author,
            public=open_to_anonymous,
            created_at=created_at,
            updated_at=completed_at,
            version=len(steps),
        )

    def _fictional_nrn(self, rng: random.Random) -> str:
        """A valid national register number of nobody in the simulated register (their own lists stay as they are)."""
        while True:
            born = date(rng.randint(1940, 2006), 1, 1) + timedelta(days=rng.randint(0, 364))
            nrn = make_nrn(born, rng.randint(1, 998))
            if self._register.find(nrn) is None:
                return nrn


def _duration(procedure: Procedure, rng: random.Random) -> timedelta:
    """How long a case of ``procedure`` took: minutes for a certificate, days for a decision, a visit or a letter."""
    if Review.settings(procedure) is not None or procedure.family == "field_service":
        return timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 8))
    if procedure.family == "card_order":
        return timedelta(days=rng.randint(3, 7), hours=rng.randint(0, 8))
    return timedelta(minutes=rng.randint(1, 12), seconds=rng.randint(0, 59))


def _form(procedure: Procedure, rng: random.Random) -> dict[str, Any]:
    """The form's choice and yes/no fields filled in (enough for an agent to see what was asked)."""
    form: dict[str, Any] = {}
    for field in procedure.fields:
        if field.type is FieldType.CHOICE and field.choices:
            form[field.name] = rng.choice(field.choices).value
        elif field.type is FieldType.MULTI_CHOICE and field.choices:
            form[field.name] = [rng.choice(field.choices).value]
        elif field.type is FieldType.BOOLEAN and field.required:
            form[field.name] = True
    return form


def _rng(*parts: object) -> random.Random:
    """A generator seeded by ``parts``: the same demo data every run (reproducible figures, not secrets)."""
    return random.Random(":".join(str(part) for part in parts))  # noqa: S311


def _pick(rng: random.Random, mix: Mapping[K, float]) -> K:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


# ---------------------------------------------------------------------------------------------------- the writes
def generate(
    client: Any,
    table_name: str,
    *,
    products: int = DEFAULT_PRODUCTS,
    year: int = 2025,
    cases: int | None = DEFAULT_CASES,
    seed: int = 2025,
    threads: int = 4,
    prefix: str = "BXL",
) -> DemoSummary:
    """Generate the year and write it into ``table_name`` through ``client`` (a boto3 DynamoDB client).

    ``cases``: how many of the products are also written as completed cases (None: all of them).
    """
    started = time.perf_counter()
    year_plan = plan(products, year, seed)
    days = tally((product.day, product.procedure_id, product.channel) for product in year_plan)
    items = [day_item(day, counts) for day, counts in sorted(days.items())]
    sample = _sample(year_plan, len(year_plan) if cases is None else cases, seed)
    factory, repository = (
        CaseFactory(year, seed, prefix),
        CaseRepository(table_name, client, retention=retention_days_of),
    )
    written_cases = 0
    for product in sample:
        items.extend(repository.bulk_items(factory.case(product)))
        written_cases += 1
    _batch_write(client, table_name, items, threads)
    _move_reference_counter(client, table_name, year, products)
    by_channel = {channel.value: 0 for channel in Channel}
    by_procedure: dict[str, int] = {}
    for product in year_plan:
        by_channel[product.channel.value] += 1
        by_procedure[product.procedure_id] = by_procedure.get(product.procedure_id, 0) + 1
    return DemoSummary(
        year=year,
        products=len(year_plan),
        by_channel=by_channel,
        by_procedure=dict(sorted(by_procedure.items())),
        days=len(days),
        cases=written_cases,
        items=len(items),
        seconds=time.perf_counter() - started,
    )


def _sample(products: Sequence[Product], count: int, seed: int) -> list[Product]:
    if count >= len(products):
        return list(products)
    chosen = _rng(seed, "sample").sample(range(len(products)), max(0, count))
    return [products[index] for index in sorted(chosen)]


def _chunks(items: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batch_write(client: Any, table_name: str, items: Sequence[dict[str, Any]], threads: int) -> None:
    """BatchWriteItem, 25 items a call, from ``threads`` threads; unprocessed items are sent again (with a pause)."""

    def write(chunk: Sequence[dict[str, Any]]) -> None:
        requests: dict[str, Any] = {table_name: [{"PutRequest": {"Item": item}} for item in chunk]}
        for attempt in range(8):
            requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not requests:
                return
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise RuntimeError(f"DynamoDB left {len(requests.get(table_name, []))} items unprocessed")

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(write, _chunks(items, BATCH)))


def _move_reference_counter(client: Any, table_name: str, year: int, at_least: int) -> None:
    """New cases of ``year`` must not reuse a generated reference: the counter goes to ``at_least`` if below."""
    from botocore.exceptions import ClientError

    try:
        client.update_item(
            TableName=table_name,
            Key={"pk": {"S": "COUNTER#reference"}, "sk": {"S": f"YEAR#{year}"}},
            UpdateExpression="SET #seq = :at_least",
            ConditionExpression="attribute_not_exists(#seq) OR #seq < :at_least",
            ExpressionAttributeNames={"#seq": "seq"},
            ExpressionAttributeValues={":at_least": {"N": str(at_least)}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


# ---------------------------------------------------------------------------------------------------- make demo-data
def _table_name(template: Path) -> str:
    """The table ``GET /v1/stats`` reads: the ``TABLE_NAME`` setting of the function the template routes it to, as
    ``make run`` resolves it (samconfig.toml's local parameters). Chosen by what it is, not by counting the template's
    tables: other tables (the Idempotency-Key records...) may come and go."""
    from infra.local.__main__ import samconfig_overrides
    from infra.local.template import describe

    description = describe(template, samconfig_overrides(template.parent / "samconfig.toml"))
    names = {
        description.function(route.function_id).environment.get(TABLE_SETTING)
        for route in description.routes
        if (route.method.upper(), route.path) == STATS_ROUTE
    }
    if len(names) != 1 or None in names:
        raise SystemExit(
            f"{template.name} does not route {' '.join(STATS_ROUTE)} to one function with a {TABLE_SETTING} setting: "
            "name the table with --table"
        )
    return str(names.pop())


def _count(text: str) -> int | None:
    if text == "all":
        return None
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a count cannot be negative")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.demo_data", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:5005", help="the make run moto server")
    parser.add_argument("--table", help="the table (default: the one GET /v1/stats reads, from template.yaml)")
    parser.add_argument("--products", type=int, default=DEFAULT_PRODUCTS, help="products delivered in the year")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--cases", type=_count, default=DEFAULT_CASES, help="products also written as cases, or all")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--threads", type=int, default=4)
    arguments = parser.parse_args(argv)

    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    table = arguments.table or _table_name(ROOT / "template.yaml")
    client = boto3.client(
        "dynamodb",
        endpoint_url=arguments.endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="testing",  # the local moto server takes any credentials
        aws_secret_access_key="testing",  # noqa: S106 - not a secret: moto's placeholder
        config=Config(max_pool_connections=max(10, arguments.threads), retries={"mode": "standard"}),
    )
    try:
        client.describe_table(TableName=table)
    except (BotoCoreError, ClientError) as exc:
        print(f"no table {table} at {arguments.endpoint_url} ({exc}): start `make run` first", file=sys.stderr)
        return 1
    summary = generate(
        client,
        table,
        products=arguments.products,
        year=arguments.year,
        cases=arguments.cases,
        seed=arguments.seed,
        threads=arguments.threads,
    )
    shares = ", ".join(f"{name} {count / max(1, summary.products):.1%}" for name, count in summary.by_channel.items())
    print(
        f"{summary.products} products delivered in {summary.year} ({shares}) on {summary.days} days; "
        f"{summary.cases} of them written as cases; {summary.items} items in {summary.seconds:.1f} s"
    )
    print(f"see them: GET /v1/stats?from={summary.year}-01-01&to={summary.year}-12-31 (an agent of 'reporting')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
