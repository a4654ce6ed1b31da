"""Check each state machine of template.yaml where `sam validate --lint` and cfn-lint do not look.

For every ``AWS::Serverless::StateMachine``:
- its ``DefinitionUri`` file exists;
- the ``${placeholders}`` in the file equal the keys of its ``DefinitionSubstitutions`` (none missing, none unused);
- the definition, substituted with placeholder ARNs, passes ``statelint`` and moto's ASL parser (the interpreter the
  local runtime runs it on);
- it is the machine of one workflow family (``omnicity.families``), as that family declares it: the same
  ``DefinitionUri``, each step function it lists a function of the template handed to the definition as
  ``<logical id>Arn``, no other function nor machine handed to it than those steps and the machines the family hands
  cases over to; and each function that starts the family's workflows has its ARN in the family's variable and may
  start it (and no other function has that variable).

Usage: ``python -m infra.checks.statemachines [template.yaml]``; exits 1 and names every problem.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.local.template import load_template
from omnicity.families import FAMILIES, Family, Machine

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:]+)\}")


def check_template(template_path: Path) -> list[str]:
    template = load_template(template_path)
    problems: list[str] = []
    machines = {
        name: resource.get("Properties", {})
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::StateMachine"
    }
    if not machines:
        problems.append(f"{template_path}: no AWS::Serverless::StateMachine")
    for name, properties in machines.items():
        problems.extend(f"{name}: {problem}" for problem in check_state_machine(template_path.parent, properties))
    return problems + check_families(template)


def check_families(template: Mapping[str, Any], families: tuple[Family, ...] = FAMILIES) -> list[str]:
    """Where the workflow families and the template disagree, both ways (see the module's docstring)."""
    resources = template["Resources"]
    machines = {name: _properties(resource) for name, resource in resources.items() if _is(resource, "StateMachine")}
    functions = {name: _properties(resource) for name, resource in resources.items() if _is(resource, "Function")}
    problems: list[str] = []
    declared: dict[str, str] = {}
    for family in families:
        for machine in family.machines:
            if machine.logical_id in declared:
                problems.append(
                    f"{machine.logical_id}: declared by the families {declared[machine.logical_id]} and {family.name}"
                )
            declared[machine.logical_id] = family.name
            handed = family.hands_over_to if machine is family.machine else ()
            problems += _machine_problems(family, machine, handed, machines, functions)
        problems += _starter_problems(family, functions)
    problems += [
        f"{name}: no workflow family declares it (omnicity.families)" for name in sorted(set(machines) - set(declared))
    ]
    variables = {family.arn_variable: family for family in families}
    for name, properties in functions.items():
        for variable in sorted(set(_environment(properties)) & set(variables)):
            if name not in variables[variable].started_by:
                problems.append(f"{name}: has {variable} but does not start the family {variables[variable].name}")
    return problems


def _machine_problems(
    family: Family,
    machine: Machine,
    handed: tuple[Machine, ...],
    machines: Mapping[str, Mapping[str, Any]],
    functions: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    where = f"family {family.name}: {machine.logical_id}"
    properties = machines.get(machine.logical_id)
    if properties is None:
        return [f"{where}: no such state machine in the template"]
    problems = []
    if properties.get("DefinitionUri") != machine.definition_uri:
        problems.append(f"{where}: DefinitionUri is {properties.get('DefinitionUri')!r}, not {machine.definition_uri}")
    substitutions = properties.get("DefinitionSubstitutions") or {}
    # each key, with the value it must have and how the template writes it
    expected: dict[str, tuple[object, str]] = {
        f"{step}Arn": ({"Fn::GetAtt": [step, "Arn"]}, f"!GetAtt {step}.Arn") for step in machine.steps
    }
    expected |= {f"{other.logical_id}Arn": ({"Ref": other.logical_id}, f"!Ref {other.logical_id}") for other in handed}
    for step in machine.steps:
        if step not in functions:
            problems.append(f"{where}: its step {step} is not a function of the template")
    for key, (value, written) in expected.items():
        if substitutions.get(key) != value:
            problems.append(f"{where}: DefinitionSubstitutions has no {key}: {written}")
    problems += [
        f"{where}: DefinitionSubstitutions {key} is neither a step nor a hand-over of its family"
        for key in sorted(set(substitutions) - set(expected))
    ]
    return problems


def _starter_problems(family: Family, functions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    machine = family.machine.logical_id
    problems = []
    for name in family.started_by:
        if name not in functions:
            problems.append(f"family {family.name}: {name}, which starts it, is not a function of the template")
            continue
        if _environment(functions[name]).get(family.arn_variable) != {"Ref": machine}:
            problems.append(f"family {family.name}: {name} has no {family.arn_variable}: !Ref {machine}")
        policy = {"StepFunctionsExecutionPolicy": {"StateMachineName": {"Fn::GetAtt": [machine, "Name"]}}}
        if policy not in (functions[name].get("Policies") or []):
            problems.append(f"family {family.name}: {name} may not start {machine} (StepFunctionsExecutionPolicy)")
    return problems


def _is(resource: Mapping[str, Any], kind: str) -> bool:
    return resource.get("Type") == f"AWS::Serverless::{kind}"


def _properties(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return dict(resource.get("Properties") or {})


def _environment(properties: Mapping[str, Any]) -> Mapping[str, Any]:
    return dict((properties.get("Environment") or {}).get("Variables") or {})


def check_state_machine(root: Path, properties: dict[str, Any]) -> list[str]:
    uri = properties.get("DefinitionUri")
    if not isinstance(uri, str):
        return ["no DefinitionUri file (keep ASL out of the template)"]
    path = root / uri
    if not path.is_file():
        return [f"DefinitionUri {uri} does not exist"]
    text = path.read_text(encoding="utf-8")
    placeholders = set(PLACEHOLDER.findall(text))
    substitutions = set((properties.get("DefinitionSubstitutions") or {}).keys())
    problems = [
        f"{uri}: ${{{key}}} has no DefinitionSubstitutions entry" for key in sorted(placeholders - substitutions)
    ]
    problems += [
        f"DefinitionSubstitutions key {key} is not used in {uri}" for key in sorted(substitutions - placeholders)
    ]
    substituted = PLACEHOLDER.sub(lambda match: _sample_value(match.group(1)), text)
    try:
        json.loads(substituted)
    except json.JSONDecodeError as exc:
        return [*problems, f"{uri}: not valid JSON after substitution: {exc}"]
    problems += [f"{uri}: statelint: {line}" for line in _statelint(substituted)]
    problems += [f"{uri}: moto ASL parser: {error}" for error in _moto_parse(substituted)]
    return problems


def _sample_value(key: str) -> str:
    name = key.removesuffix("Arn")
    return f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"


def _statelint(definition: str) -> list[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as handle:
        handle.write(definition)
    try:
        executable = Path(sys.executable).with_name("statelint")
        result = subprocess.run([str(executable), handle.name], capture_output=True, text=True, check=False)
    finally:
        Path(handle.name).unlink(missing_ok=True)
    if result.returncode == 0:
        return []
    output = (result.stdout + result.stderr).strip()
    return [line for line in output.splitlines() if line.strip()] or [f"exit code {result.returncode}"]


def _moto_parse(definition: str) -> list[str]:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as exc:
        return [f"{type(exc).__name__}: {exc}"]
    return []


def main(argv: list[str]) -> int:
    template_path = Path(argv[0] if argv else "template.yaml")
    problems = check_template(template_path)
    for problem in problems:
        print(f"state machine check: {problem}", file=sys.stderr)
    if not problems:
        print(f"state machines OK ({template_path})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
