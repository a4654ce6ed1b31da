"""The local runtime runs the template's schedules for real: a timer thread fires every enabled ``Schedule`` event's
function through the Lambda bridge, with EventBridge's Scheduled Event (or the event's ``Input``)."""

from __future__ import annotations

import logging
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.local.runtime import LocalRuntime
from infra.local.scheduler import ENV_INTERVAL, LocalScheduler

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: app.lambda_handler
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: dev}
  Pool:
    Type: AWS::Cognito::UserPool
  Client:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: !Ref Pool, ClientName: portal}
  Ticker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ticker/
      Events:
        EveryMinute: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}
        Nightly: {Type: Schedule, Properties: {Schedule: "cron(0 3 * * ? *)", Input: '{"job": "nightly"}'}}
        Paused: {Type: Schedule, Properties: {Schedule: rate(1 day), Enabled: false}}
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: broken/
      Events:
        Often: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(5 minutes)}}
"""

TICKER = """\
EVENTS = []


def lambda_handler(event, context):
    EVENTS.append(event)
    return {"seen": len(EVENTS)}
"""

BROKEN = """\
CALLS = []


class PrinterOnFire(Exception):
    pass


def lambda_handler(event, context):
    CALLS.append(event)
    raise PrinterOnFire("lp0 on fire")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for folder, code in (("ticker", TICKER), ("broken", BROKEN)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "app.py").write_text(textwrap.dedent(code), encoding="utf-8")
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE, encoding="utf-8")
    return template


def module_list(runtime: LocalRuntime, function_id: str, name: str) -> list[Any]:
    """A list the tiny handler keeps in its module (loaded by the bridge under its own name)."""
    handler: Any = runtime.bridge.handler(function_id)
    return list(handler.__globals__[name])


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def test_the_timer_fires_every_enabled_schedule_with_its_event(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="infra.local.scheduler")
    # Given a runtime whose schedules fire every 50 ms
    with LocalRuntime(project, mode="inprocess", schedule_interval=0.05) as runtime:
        assert runtime.scheduler.running
        # When a few rounds have passed
        eventually(lambda: len(module_list(runtime, "Ticker", "EVENTS")) >= 4)
        eventually(lambda: len(module_list(runtime, "Broken", "CALLS")) >= 2)
        events = module_list(runtime, "Ticker", "EVENTS")
    # Then the rate schedule got EventBridge's Scheduled Event, the cron one its Input, the paused one nothing
    scheduled = [event for event in events if "detail-type" in event]
    assert scheduled
    assert scheduled[0]["detail-type"] == "Scheduled Event"
    assert scheduled[0]["source"] == "aws.events"
    assert scheduled[0]["resources"] == ["arn:aws:events:eu-west-1:123456789012:rule/omnicity-local-TickerEveryMinute"]
    assert scheduled[0]["time"].endswith("Z")
    assert {"job": "nightly"} in events
    assert all(event == {"job": "nightly"} or "detail-type" in event for event in events)
    # And a function that fails is logged, round after round, while the timer goes on
    failures = [record for record in caplog.records if "Broken.Often failed" in record.getMessage()]
    assert len(failures) >= 2
    assert "PrinterOnFire" in failures[0].getMessage()


def test_stop_ends_the_timer(project: Path) -> None:
    runtime = LocalRuntime(project, mode="inprocess", schedule_interval=0.02)
    runtime.start()
    eventually(lambda: len(module_list(runtime, "Ticker", "EVENTS")) >= 1)
    scheduler = runtime.scheduler
    handler: Any = runtime.bridge.handler("Ticker")
    runtime.stop()
    assert not scheduler.running
    seen = len(handler.__globals__["EVENTS"])
    time.sleep(0.1)
    assert len(handler.__globals__["EVENTS"]) == seen


def test_without_a_timer_run_schedules_fires_each_schedule_once(project: Path) -> None:
    with LocalRuntime(project, mode="inprocess", schedule_interval=0) as runtime:
        assert not runtime.scheduler.running
        replies = runtime.run_schedules()
        assert module_list(runtime, "Ticker", "EVENTS")[1] == {"job": "nightly"}
    assert replies["Ticker.EveryMinute"] == {"seen": 1}
    assert replies["Ticker.Nightly"] == {"seen": 2}
    assert "Ticker.Paused" not in replies
    assert replies["Broken.Often"]["errorType"] == "PrinterOnFire"


def test_the_interval_comes_from_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_INTERVAL, "7.5")
    assert LocalRuntime(project, mode="inprocess").schedule_interval == 7.5
    monkeypatch.delenv(ENV_INTERVAL)
    assert LocalRuntime(project, mode="inprocess").schedule_interval == 2.0
    monkeypatch.setenv(ENV_INTERVAL, "soon")
    with pytest.raises(ValueError, match=ENV_INTERVAL):
        LocalRuntime(project, mode="inprocess")
    with pytest.raises(ValueError, match="negative"):
        LocalRuntime(project, mode="inprocess", schedule_interval=-1)


def test_a_scheduler_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="positive"):
        LocalScheduler((), lambda _function, _payload: pytest.fail("never invoked"), interval=0)
