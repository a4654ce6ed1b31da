"""Check each state machine of template.yaml where `sam validate --lint` and cfn-lint do not look.

For every ``AWS::Serverless::StateMachine``:
- its ``DefinitionUri`` file exists;
- the ``${placeholders}`` in the file equal the keys of its ``DefinitionSubstitutions`` (none missing, none unused);
- the definition, substituted with placeholder ARNs, passes ``statelint`` and moto's ASL parser (the interpreter the
  local runtime runs it on).

Usage: ``python -m infra.checks.statemachines [template.yaml]``; exits 1 and names every problem.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra.local.template import load_template

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
    return problems


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
