"""The local template reader describes the functions' schedules (``Schedule`` and ``ScheduleV2`` events)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from infra.local.scheduler import scheduled_event
from infra.local.template import ScheduleSpec, TemplateError, describe
from tests.conftest import TEMPLATE as REAL_TEMPLATE

HEADER = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Period: {Type: String, Default: "5 minutes"}
Resources:
  Job:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: job/
      Handler: app.lambda_handler
      Events:
"""


def describe_events(tmp_path: Path, events: str) -> tuple[ScheduleSpec, ...]:
    template = tmp_path / "template.yaml"
    template.write_text(HEADER + textwrap.indent(textwrap.dedent(events), " " * 8), encoding="utf-8")
    return describe(template).schedules


def test_the_real_template_schedules_the_simulator_the_overdue_monitor_and_the_stalled_case_sweep() -> None:
    schedules = {schedule.function_id: schedule for schedule in describe(REAL_TEMPLATE).schedules}
    assert set(schedules) == {
        "CardProducerSimulatorFunction",
        "MonitorOverdueTasksFunction",
        "RecoverStalledCasesFunction",
    }
    simulator = schedules["CardProducerSimulatorFunction"]
    assert simulator.expression == "rate(1 minute)"
    assert simulator.rate_seconds == 60
    assert simulator.enabled
    assert simulator.input is None
    assert schedules["MonitorOverdueTasksFunction"].rate_seconds == 15 * 60
    assert schedules["RecoverStalledCasesFunction"].rate_seconds == 15 * 60


def test_schedules_of_both_kinds_are_described_with_their_state_and_input(tmp_path: Path) -> None:
    schedules = describe_events(
        tmp_path,
        """\
        Rate:
          Type: Schedule
          Properties: {Schedule: !Sub "rate(${Period})"}
        Cron:
          Type: Schedule
          Properties: {Schedule: "cron(15 2 * * ? *)", Input: '{"job": "nightly"}', Enabled: false}
        V2:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(2 hours), State: DISABLED}
        Web:
          Type: Api
          Properties: {Path: /job, Method: GET}
        """,
    )
    by_name = {schedule.event_name: schedule for schedule in schedules}
    assert set(by_name) == {"Rate", "Cron", "V2"}
    assert by_name["Rate"].expression == "rate(5 minutes)"
    assert by_name["Rate"].rate_seconds == 300
    assert by_name["Rate"].enabled
    assert by_name["Cron"].rate_seconds is None
    assert not by_name["Cron"].enabled
    assert by_name["Cron"].input == '{"job": "nightly"}'
    assert by_name["V2"].rate_seconds == 7200
    assert not by_name["V2"].enabled


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ("{Schedule: every minute}", "rate\\(N unit\\) or cron"),
        ("{Schedule: rate(1 fortnight)}", "rate\\(N unit\\) or cron"),
        ("{Schedule: 'cron(0 3 * *)'}", "rate\\(N unit\\) or cron"),
        ("{Schedule: rate(1 day), Input: 'not json'}", "Input is not JSON"),
        ("{Schedule: rate(1 day), State: PAUSED}", "ENABLED or DISABLED"),
        ("{Schedule: rate(1 day), Enabled: 'yes'}", "boolean"),
        ("{Schedule: rate(1 day), Enabled: true, State: ENABLED}", "not both"),
    ],
)
def test_what_cannot_run_locally_is_an_error(tmp_path: Path, properties: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        describe_events(tmp_path, f"Bad:\n  Type: Schedule\n  Properties: {properties}\n")


def test_a_scheduled_event_is_eventbridges_unless_the_schedule_has_an_input() -> None:
    plain = ScheduleSpec("Job", "Tick", "rate(1 minute)", True, None)
    event = json.loads(scheduled_event(plain))
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["detail"] == {}
    assert event["resources"] == [plain.rule_arn]
    with_input = ScheduleSpec("Job", "Tick", "rate(1 minute)", True, '{"a": 1}')
    assert json.loads(scheduled_event(with_input)) == {"a": 1}
