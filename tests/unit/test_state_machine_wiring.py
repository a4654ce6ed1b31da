"""template.yaml's wiring of the state machines: the Express document machine and the Standard machines around it
(the review machine it hands cases to, the failed-execution rule, the API's permissions, the alarms)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.template import load_template
from tests.conftest import ROOT, TEMPLATE

DOCUMENT = "DocumentRequestStateMachine"
REVIEW = "DocumentReviewStateMachine"


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(load_template(TEMPLATE)["Resources"])


def machines(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    }


def definition(properties: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads((ROOT / properties["DefinitionUri"]).read_text(encoding="utf-8")))


def refs(values: list[Any]) -> set[str]:
    return {value["Ref"] for value in values if isinstance(value, dict) and "Ref" in value}


def test_only_the_document_machine_is_express_and_it_waits_on_nothing(resources: dict[str, Any]) -> None:
    types = {name: properties["Type"] for name, properties in machines(resources).items()}
    assert [name for name, type_ in types.items() if type_ == "EXPRESS"] == [DOCUMENT]
    # Express supports no task token: no state of the machine waits on one
    resources_used = [
        state.get("Resource", "") for state in definition(machines(resources)[DOCUMENT])["States"].values()
    ]
    assert not [resource for resource in resources_used if resource.endswith(".waitForTaskToken")]
    assert "arn:aws:states:::states:startExecution" in resources_used


def test_the_express_machine_logs_errors_without_execution_data_to_a_group_with_retention(
    resources: dict[str, Any],
) -> None:
    logging = machines(resources)[DOCUMENT]["Logging"]
    assert logging["Level"] in ("ERROR", "ALL")
    assert logging["IncludeExecutionData"] is False
    (destination,) = logging["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert resources[group]["Type"] == "AWS::Logs::LogGroup"
    assert resources[group]["Properties"]["RetentionInDays"]


def test_the_express_machine_may_start_the_review_machine_only(resources: dict[str, Any]) -> None:
    document = machines(resources)[DOCUMENT]
    assert document["DefinitionSubstitutions"]["DocumentReviewStateMachineArn"] == {"Ref": REVIEW}
    started = [
        policy["StepFunctionsExecutionPolicy"]["StateMachineName"]
        for policy in document["Policies"]
        if "StepFunctionsExecutionPolicy" in policy
    ]
    assert started == [{"Fn::GetAtt": [REVIEW, "Name"]}]


def test_both_document_machines_call_the_same_step_functions_with_the_same_conventions(
    resources: dict[str, Any],
) -> None:
    document, review = machines(resources)[DOCUMENT], machines(resources)[REVIEW]
    shared = set(document["DefinitionSubstitutions"]) & set(review["DefinitionSubstitutions"])
    assert {
        "RenderDocumentFunctionArn",
        "NotifyFunctionArn",
        "CompleteCaseFunctionArn",
        "MarkFailedFunctionArn",
    } <= shared
    for key in shared:
        assert document["DefinitionSubstitutions"][key] == review["DefinitionSubstitutions"][key]
    # the states both hold (render, notify, complete, mark failed...) are the same, Retry and Catch included
    document_states, review_states = definition(document)["States"], definition(review)["States"]
    common = set(document_states) & set(review_states)
    assert {"RenderDocument", "NotifyDocumentReady", "CompleteCase", "NotifyRejection", "MarkFailed"} <= common
    for state in common:
        assert document_states[state] == review_states[state], state


def test_the_failed_execution_rule_watches_every_standard_machine_and_no_express_one(resources: dict[str, Any]) -> None:
    # Express executions emit no status change event: their Catch -> MarkFailed is what fails their cases
    rule = resources["MarkFailedFunction"]["Properties"]["Events"]["ExecutionEnded"]["Properties"]
    watched = refs(rule["Pattern"]["detail"]["stateMachineArn"])
    standard = {name for name, properties in machines(resources).items() if properties["Type"] == "STANDARD"}
    assert watched == standard


def test_the_api_starts_the_document_machine_and_resumes_the_machines_that_wait(resources: dict[str, Any]) -> None:
    policies = resources["ApiFunction"]["Properties"]["Policies"]
    started = {
        policy["StepFunctionsExecutionPolicy"]["StateMachineName"]["Fn::GetAtt"][0]
        for policy in policies
        if "StepFunctionsExecutionPolicy" in policy
    }
    assert DOCUMENT in started
    assert REVIEW not in started  # only the document machine starts a review
    resumed = {
        ref
        for policy in policies
        for statement in policy.get("Statement", [])
        if "states:SendTaskSuccess" in statement["Action"]
        for ref in refs(statement["Resource"])
    }
    assert REVIEW in resumed
    assert DOCUMENT not in resumed


def test_every_machine_has_an_executions_failed_alarm(resources: dict[str, Any]) -> None:
    alarmed = {
        dimension["Value"]["Ref"]
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("MetricName") == "ExecutionsFailed"
        for dimension in resource["Properties"]["Dimensions"]
    }
    assert alarmed == set(machines(resources))
