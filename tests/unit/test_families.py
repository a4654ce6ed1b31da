"""The workflow families (omnicity.families) and template.yaml hold together: each family's machines are the
template's, with the ASL file the family names; each step function a family lists is a function of the template,
handed to its machine; each function that starts a family's workflows finds the machine's ARN in the variable the
family names. And the template check (make lint) finds each way they can drift apart."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest

from infra.checks.statemachines import check_families
from infra.local.template import TemplateDescription, describe, load_template
from omnicity import config
from omnicity.config import ApiSettings, Open311Settings, StartsWorkflows
from omnicity.domain.errors import ConfigurationError
from omnicity.families import FAMILIES, Family, Machine, started_by
from tests.conftest import ROOT, TEMPLATE

MACHINES = [pytest.param(family, machine, id=machine.logical_id) for family in FAMILIES for machine in family.machines]


@pytest.fixture(scope="module")
def description() -> TemplateDescription:
    return describe(TEMPLATE)


@pytest.fixture
def template() -> dict[str, Any]:
    return copy.deepcopy(dict(load_template(TEMPLATE)))


@pytest.mark.parametrize(("family", "machine"), MACHINES)
def test_each_machine_of_a_family_is_in_the_template_with_its_asl_file(
    description: TemplateDescription, family: Family, machine: Machine
) -> None:
    spec = description.state_machines[machine.logical_id]
    assert spec.definition_path == ROOT / machine.definition_uri
    assert (ROOT / machine.definition_uri).is_file()


def test_every_machine_of_the_template_belongs_to_one_family(description: TemplateDescription) -> None:
    declared = [machine.logical_id for family in FAMILIES for machine in family.machines]
    assert sorted(declared) == sorted(description.state_machines)


@pytest.mark.parametrize(("family", "machine"), MACHINES)
def test_every_step_a_family_lists_is_a_function_handed_to_its_machine(
    description: TemplateDescription, family: Family, machine: Machine
) -> None:
    substitutions = description.state_machines[machine.logical_id].substitutions
    for step in machine.steps:
        assert step in description.functions, step
        assert substitutions[f"{step}Arn"] == description.functions[step].arn, step
    # the machine is handed nothing else than its steps, and (the one a submission starts) the machines it hands to
    handed = family.hands_over_to if machine is family.machine else ()
    for other in handed:
        assert substitutions[f"{other.logical_id}Arn"] == description.state_machines[other.logical_id].arn
    assert set(substitutions) == {f"{name}Arn" for name in (*machine.steps, *(m.logical_id for m in handed))}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_the_api_starts_every_family_with_the_arn_the_family_names(
    description: TemplateDescription, family: Family
) -> None:
    # The API submits a case of any procedure: its environment holds each family's ARN variable
    environment = description.functions["ApiFunction"].environment
    assert environment[family.arn_variable] == description.state_machines[family.machine.logical_id].arn
    assert family in started_by("ApiFunction")


@pytest.mark.parametrize("settings", [ApiSettings, Open311Settings], ids=lambda kind: kind.function)
def test_a_starting_function_reads_the_arn_of_each_family_it_starts_and_no_other(
    description: TemplateDescription, settings: type[StartsWorkflows]
) -> None:
    # Given the settings of a function that starts workflows, from the environment the template gives it
    read = settings.model_validate(description.functions[settings.function].environment)
    for family in FAMILIES:
        machine = description.state_machines[family.machine.logical_id]
        if family in started_by(settings.function):
            # Then it starts each of its families' machine
            assert read.state_machine_arn(family.name) == machine.arn
        else:
            # ...and is configured for no other family
            with pytest.raises(ConfigurationError, match=family.name):
                read.state_machine_arn(family.name)


def test_a_missing_arn_variable_is_named_at_cold_start(
    description: TemplateDescription, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the Open311 function's environment without the field service family's ARN
    environment = dict(description.functions["Open311Function"].environment)
    del environment["FIELD_SERVICE_STATE_MACHINE_ARN"]
    monkeypatch.setattr(os, "environ", environment)
    # When its settings are loaded (uncached) / Then the function stops, naming the variable as any other setting
    with pytest.raises(ConfigurationError) as stopped:
        config.load_settings.__wrapped__(Open311Settings)
    assert stopped.value.message == (
        "Open311Settings: missing or invalid environment variables: FIELD_SERVICE_STATE_MACHINE_ARN (Field required)"
    )


# ---------------------------------------------------------------------------------------------------- the check
def test_the_check_finds_the_families_and_the_template_agree(template: dict[str, Any]) -> None:
    assert check_families(template) == []


def test_the_check_finds_a_machine_with_another_asl_file(template: dict[str, Any]) -> None:
    template["Resources"]["CardOrderStateMachine"]["Properties"]["DefinitionUri"] = "statemachines/other.asl.json"
    assert check_families(template) == [
        "family card_order: CardOrderStateMachine: DefinitionUri is 'statemachines/other.asl.json', "
        "not statemachines/card_order.asl.json"
    ]


def test_the_check_finds_a_step_not_handed_to_its_machine_and_one_the_family_does_not_list(
    template: dict[str, Any],
) -> None:
    substitutions = template["Resources"]["FieldServiceStateMachine"]["Properties"]["DefinitionSubstitutions"]
    del substitutions["OpenTaskFunctionArn"]
    substitutions["RenderDocumentFunctionArn"] = {"Fn::GetAtt": ["RenderDocumentFunction", "Arn"]}
    assert check_families(template) == [
        "family field_service: FieldServiceStateMachine: DefinitionSubstitutions has no OpenTaskFunctionArn: "
        "!GetAtt OpenTaskFunction.Arn",
        "family field_service: FieldServiceStateMachine: DefinitionSubstitutions RenderDocumentFunctionArn is neither "
        "a step nor a hand-over of its family",
    ]


def test_the_check_finds_a_missing_hand_over(template: dict[str, Any]) -> None:
    del template["Resources"]["DocumentRequestStateMachine"]["Properties"]["DefinitionSubstitutions"][
        "DocumentReviewStateMachineArn"
    ]
    assert check_families(template) == [
        "family document_request: DocumentRequestStateMachine: DefinitionSubstitutions has no "
        "DocumentReviewStateMachineArn: !Ref DocumentReviewStateMachine"
    ]


def test_the_check_finds_a_step_that_is_no_function_of_the_template(template: dict[str, Any]) -> None:
    card_order = FAMILIES[2]
    assert card_order.name == "card_order"
    machine = card_order.machine._replace(steps=(*card_order.machine.steps, "PrintLetterFunction"))
    families = (*FAMILIES[:2], card_order._replace(machine=machine))
    assert check_families(template, families) == [
        "family card_order: CardOrderStateMachine: its step PrintLetterFunction is not a function of the template",
        "family card_order: CardOrderStateMachine: DefinitionSubstitutions has no PrintLetterFunctionArn: "
        "!GetAtt PrintLetterFunction.Arn",
    ]


def test_the_check_finds_a_machine_no_family_declares(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    resources["PaymentStateMachine"] = copy.deepcopy(resources["CardOrderStateMachine"])
    assert check_families(template) == ["PaymentStateMachine: no workflow family declares it (omnicity.families)"]


def test_the_check_finds_a_starter_without_the_arn_or_the_permission(template: dict[str, Any]) -> None:
    api = template["Resources"]["ApiFunction"]["Properties"]
    del api["Environment"]["Variables"]["CARD_ORDER_STATE_MACHINE_ARN"]
    api["Policies"] = [
        policy
        for policy in api["Policies"]
        if policy
        != {"StepFunctionsExecutionPolicy": {"StateMachineName": {"Fn::GetAtt": ["CardOrderStateMachine", "Name"]}}}
    ]
    assert check_families(template) == [
        "family card_order: ApiFunction has no CARD_ORDER_STATE_MACHINE_ARN: !Ref CardOrderStateMachine",
        "family card_order: ApiFunction may not start CardOrderStateMachine (StepFunctionsExecutionPolicy)",
    ]


def test_the_check_finds_a_function_given_the_arn_of_a_family_it_does_not_start(template: dict[str, Any]) -> None:
    open311 = template["Resources"]["Open311Function"]["Properties"]
    open311["Environment"]["Variables"]["CARD_ORDER_STATE_MACHINE_ARN"] = {"Ref": "CardOrderStateMachine"}
    assert check_families(template) == [
        "Open311Function: has CARD_ORDER_STATE_MACHINE_ARN but does not start the family card_order"
    ]
