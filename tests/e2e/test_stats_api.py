"""The city's figures through the API: cases completed on the portal, at a kiosk and at the counter show up in
``GET /v1/stats`` by channel and procedure; a year of demo data shows the generator's own totals; only agents of
the reporting department may ask."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from infra.demo_data import generate
from infra.local.runtime import LocalRuntime
from omnicity.domain.models import brussels_date
from tests.conftest import ELISE, PIETER, Api


@pytest.fixture(scope="module")
def reporting(api: Api) -> str:
    return api.token("agent-reporting-01", role="agent", client="counter", departments=["reporting"])


def stats(api: Api, token: str, start: str, end: str) -> dict[str, object]:
    reply = api.request("GET", "/v1/stats", token=token, query=f"from={start}&to={end}")
    assert reply.status == 200, reply.body
    return dict(reply.json)


def test_cases_completed_on_each_channel_show_up_by_channel_and_procedure(api: Api, reporting: str) -> None:
    # Given nothing delivered yet today
    today = brussels_date(datetime.now(UTC)).isoformat()
    assert stats(api, reporting, today, today)["total"] == 0
    # When Élise gets two residence certificates on the portal and a life certificate at a kiosk, and an agent gets
    # Pieter one at the counter
    counter_agent = api.token("agent-042", role="agent", client="counter", departments=["population"])
    submitted = [
        api.submit(api.token(ELISE)),
        api.submit(api.token(ELISE), language="nl"),
        api.submit(api.token(ELISE, client="kiosk"), procedure_id="life-certificate"),
        api.submit(counter_agent, citizen_nrn=PIETER),
    ]
    for reply in submitted:
        assert reply.status == 201, reply.body
        assert api.wait(reply.json["case_id"])["status"] == "SUCCEEDED"
    # Then today's figures count them by channel and procedure, with the shares
    figures = stats(api, reporting, today, today)
    assert figures["total"] == 4
    assert figures["by_channel"] == {"portal": 2, "kiosk": 1, "counter": 1}
    by_procedure = figures["by_procedure"]
    assert isinstance(by_procedure, dict)
    assert (by_procedure["residence-certificate"], by_procedure["life-certificate"]) == (3, 1)
    assert by_procedure["criminal-record-extract"] == 0  # every procedure is listed
    assert figures["channel_shares"] == {"portal": 0.5, "kiosk": 0.25, "counter": 0.25}
    assert figures["digital_share"] == 0.75
    # And a period that ended yesterday does not hold them
    assert stats(api, reporting, "2025-01-01", "2025-12-31")["total"] == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ({"sub": ELISE}, 403),  # a citizen
        ({"sub": ELISE, "client": "kiosk"}, 403),  # a citizen at a kiosk
        ({"sub": "agent-042", "role": "agent", "client": "counter", "departments": ["population"]}, 403),
        ({"sub": "kiosk-07", "role": "kiosk", "client": "kiosk"}, 403),  # a kiosk device
    ],
)
def test_only_agents_of_the_reporting_department_see_the_figures(api: Api, who: dict[str, object], status: int) -> None:
    token = api.token(**who)  # type: ignore[arg-type]
    reply = api.request("GET", "/v1/stats", token=token, query="from=2025-01-01&to=2025-12-31")
    assert reply.status == status, reply.body
    assert reply.json["error"]["code"] == "forbidden"


def test_without_a_token_the_figures_are_a_401(api: Api) -> None:
    assert api.request("GET", "/v1/stats", query="from=2025-01-01&to=2025-12-31").status == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=2025-12-31", "from"),
        ("from=2025-01-01", "to"),
        ("from=2025-02-29&to=2025-12-31", "from"),
        ("from=1%2F1%2F2025&to=2025-12-31", "from"),
        ("from=2025-12-31&to=2025-01-01", "to"),
        ("from=2015-01-01&to=2025-12-31", "to"),
    ],
)
def test_a_bad_period_is_a_422_naming_the_field(api: Api, reporting: str, query: str, field: str) -> None:
    reply = api.request("GET", "/v1/stats", token=reporting, query=query)
    assert reply.status == 422, reply.body
    assert [detail["field"] for detail in reply.json["error"]["details"]] == [field]


# Last in the module: the demo cases make moto's later transactions slower (it copies the table for each one).
def test_a_year_of_demo_data_shows_the_generators_own_totals(runtime: LocalRuntime, api: Api, reporting: str) -> None:
    # Given a year of 3,000 products generated into the platform's table (50 of them written as cases)
    table = runtime.description.tables["CasesTable"].name
    summary = generate(boto3.client("dynamodb"), table, products=3000, year=2025, cases=50, seed=11)
    assert (summary.products, summary.cases) == (3000, 50)
    # When the reporting agent asks for 2025
    figures = stats(api, reporting, "2025-01-01", "2025-12-31")
    # Then the API shows exactly what the generator made, in the seed's channel mix
    assert figures["total"] == 3000
    assert figures["by_channel"] == summary.by_channel
    by_procedure = figures["by_procedure"]
    assert isinstance(by_procedure, dict)
    assert {name: count for name, count in by_procedure.items() if count} == summary.by_procedure
    shares = figures["channel_shares"]
    assert isinstance(shares, dict)
    for channel, expected in {"portal": 0.54, "kiosk": 0.31, "counter": 0.15}.items():
        assert abs(shares[channel] - expected) < 0.005
    assert abs(float(str(figures["digital_share"])) - 0.85) < 0.005
    # And a quarter of it is a quarter's worth, give or take the season
    first_quarter = stats(api, reporting, "2025-01-01", "2025-03-31")["total"]
    assert isinstance(first_quarter, int)
    assert 0.2 < first_quarter / 3000 < 0.32
