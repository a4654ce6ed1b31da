"""Read template.yaml, the single source of truth, and describe it for the local world.

``load_template`` parses the YAML with the short CloudFormation tags (``!Ref``, ``!GetAtt``, ``!Sub``...) turned into
their long form (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``). ``Resolver`` evaluates intrinsic functions the way
CloudFormation would in a stack named ``omnicity-local`` in ``eu-west-1``, account ``123456789012``. ``describe``
returns a typed ``TemplateDescription``: functions (code, handler, resolved environment), the API's routes and gateway
responses, tables, buckets, state machines (definition read and substituted), Cognito user pools (with their groups)
and app clients, KMS keys and their aliases, SSM parameters, layers, the SES sender and the functions' schedules
(``Type: Schedule`` / ``ScheduleV2`` events).
Only the parts the local runtime needs are described; anything the runtime cannot emulate faithfully raises a
``TemplateError`` rather than being skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

REGION: Final = "eu-west-1"
ACCOUNT_ID: Final = "123456789012"
STACK_NAME: Final = "omnicity-local"
PARTITION: Final = "aws"

_STATE_MACHINE_TYPES: Final = frozenset({"AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"})
_NAME_PROPERTIES: Final[Mapping[str, tuple[str, ...]]] = {
    "AWS::DynamoDB::Table": ("TableName",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::Serverless::Function": ("FunctionName",),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Serverless::StateMachine": ("Name",),
    "AWS::StepFunctions::StateMachine": ("StateMachineName",),
    "AWS::Cognito::UserPoolClient": ("ClientName",),
    "AWS::Cognito::UserPoolIdentityProvider": ("ProviderName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::SSM::Parameter": ("Name",),
}
_ARN_FORMATS: Final[Mapping[str, str]] = {
    "AWS::Serverless::Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "AWS::Lambda::Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{name}",
    "AWS::S3::Bucket": "arn:{partition}:s3:::{name}",
    "AWS::Logs::LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{name}:*",
    "AWS::Cognito::UserPool": "arn:{partition}:cognito-idp:{region}:{account}:userpool/{name}",
    "AWS::Serverless::StateMachine": "arn:{partition}:states:{region}:{account}:stateMachine:{name}",
    "AWS::StepFunctions::StateMachine": "arn:{partition}:states:{region}:{account}:stateMachine:{name}",
    # a key's id is drawn by KMS (moto draws its own): locally the ARN names the logical id, for policies to compare
    "AWS::KMS::Key": "arn:{partition}:kms:{region}:{account}:key/{name}",
}
_IMPLICIT_API_ID: Final = "ServerlessRestApi"
_IMPLICIT_API_STAGE: Final = "Prod"
_NO_AUTHORIZER: Final = "NONE"
_SUB_PLACEHOLDER: Final = re.compile(r"\$\{([^}]*)\}")
_DEFINITION_PLACEHOLDER: Final = re.compile(r"\$\{([^}]+)\}")
_SECONDS_PER_UNIT: Final = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_DEFAULT_MEMORY_MB: Final = 128
_DEFAULT_TIMEOUT_S: Final = 3
_SCHEDULE_EVENT_TYPES: Final = frozenset({"Schedule", "ScheduleV2"})
_RATE: Final = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON: Final = re.compile(r"^cron\((\S+ ){5}\S+\)$")
_SECONDS_PER_RATE_UNIT: Final = {"minute": 60, "hour": 3600, "day": 86400}


class TemplateError(ValueError):
    """The template cannot be read, resolved or emulated locally (the message says where and why)."""


class EnvironmentConflictError(TemplateError):
    """Two functions give one environment variable different values: they cannot share one process's os.environ."""


# --------------------------------------------------------------------------------------------------------- loading
class CloudFormationLoader(yaml.SafeLoader):
    """A safe YAML loader that also reads the short CloudFormation tags (``!Ref X`` -> ``{"Ref": "X"}``)."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unexpected YAML node for !{tag_suffix}")
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path | str) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template, short intrinsic tags included."""
    template_path = Path(path)
    try:
        with template_path.open(encoding="utf-8") as stream:
            document = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read template {template_path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{template_path} is not a template: it has no Resources mapping")
    return document


# --------------------------------------------------------------------------------------------------------- resolving
class _NoValue:
    """``AWS::NoValue``: removes the property (or list item) it stands for."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()


class Resolver:
    """Evaluates intrinsic functions for the local stack.

    Parameters take their ``Default`` unless overridden; ``!Ref`` and ``!GetAtt`` of resources give local names and
    ARNs (see ``ref`` and ``get_att``); ``Conditions`` are evaluated on demand.
    """

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> None:
        self._resources: Mapping[str, Any] = template.get("Resources") or {}
        self._condition_definitions: Mapping[str, Any] = template.get("Conditions") or {}
        self._mappings: Mapping[str, Any] = template.get("Mappings") or {}
        self._conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()
        self.parameters: dict[str, Any] = _parameter_values(template.get("Parameters") or {}, parameters or {})

    # -- public API
    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated (``AWS::NoValue`` removed from maps and lists)."""
        resolved = self._resolve(value)
        return None if resolved is NO_VALUE else resolved

    def condition(self, name: str) -> bool:
        """The value of the template condition ``name``."""
        if name in self._conditions:
            return self._conditions[name]
        if name not in self._condition_definitions:
            raise TemplateError(f"unknown condition {name!r}")
        if name in self._evaluating:
            raise TemplateError(f"condition {name!r} depends on itself")
        self._evaluating.add(name)
        try:
            value = self._resolve(self._condition_definitions[name])
        finally:
            self._evaluating.discard(name)
        if not isinstance(value, bool):
            raise TemplateError(f"condition {name!r} does not evaluate to a boolean: {value!r}")
        self._conditions[name] = value
        return value

    def exists(self, logical_id: str) -> bool:
        """True when the resource is in the template and its ``Condition`` (if any) holds."""
        resource = self._resources.get(logical_id)
        if not isinstance(resource, Mapping):
            return False
        condition = resource.get("Condition")
        return condition is None or self.condition(condition)

    def ref(self, name: str) -> Any:
        """``!Ref name``: a pseudo parameter, a parameter's value or a resource's local name (ARN for machines)."""
        pseudo = _pseudo_parameter(name)
        if pseudo is not None:
            return pseudo
        if name in self.parameters:
            return self.parameters[name]
        resource_type, _ = self._resource(name)
        if resource_type in _STATE_MACHINE_TYPES:
            return self.get_att(name, "Arn")
        return self.physical_name(name)

    def physical_name(self, logical_id: str) -> str:
        """The resource's local name: its name property when the template sets one, else a local default.

        Tables, functions, state machines and user pools are named after their logical id, buckets
        ``omnicity-local-<logicalid>``, Cognito app clients after their ``ClientName``, identity providers after their
        ``ProviderName`` (what ``!Ref`` gives on AWS).
        """
        resource_type, properties = self._resource(logical_id)
        default = f"{STACK_NAME}-{logical_id.lower()}" if resource_type == "AWS::S3::Bucket" else logical_id
        for key in _NAME_PROPERTIES.get(resource_type, ()):
            if key in properties:
                return _to_string(self._resolve(properties[key]), where=f"{logical_id}.{key}")
        return default

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """``!GetAtt logical_id.attribute`` for the attributes the local runtime knows (Arn, Name...)."""
        resource_type, _ = self._resource(logical_id)
        name = self.physical_name(logical_id)
        if attribute == "Arn" and resource_type in _ARN_FORMATS:
            arn_format = _ARN_FORMATS[resource_type]
            return arn_format.format(partition=PARTITION, region=REGION, account=ACCOUNT_ID, name=name)
        if attribute == "Name" and resource_type in _STATE_MACHINE_TYPES:
            return name
        if attribute in ("DomainName", "RegionalDomainName") and resource_type == "AWS::S3::Bucket":
            region_part = f".{REGION}" if attribute == "RegionalDomainName" else ""
            return f"{name}.s3{region_part}.amazonaws.com"
        raise TemplateError(f"!GetAtt {logical_id}.{attribute} ({resource_type}) is not supported by the local runtime")

    # -- internals
    def _resource(self, logical_id: str) -> tuple[str, Mapping[str, Any]]:
        resource = self._resources.get(logical_id)
        if not isinstance(resource, Mapping):
            raise TemplateError(f"unresolved reference to {logical_id!r}: no such parameter or resource")
        return str(resource.get("Type")), resource.get("Properties") or {}

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key.startswith("Fn::"):
                return self._intrinsic(key, argument)
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _intrinsic(self, function: str, argument: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per function
        if function == "Fn::GetAtt":
            logical_id, attribute = _get_att_arguments(argument)
            return self.get_att(logical_id, attribute)
        if function == "Fn::Sub":
            return self._sub(argument)
        if function == "Fn::If":
            condition_name, when_true, when_false = _arguments(function, argument, 3)
            return self._resolve(when_true if self.condition(condition_name) else when_false)
        if function == "Fn::Equals":
            left, right = (self._resolve(item) for item in _arguments(function, argument, 2))
            return _scalar_text(left) == _scalar_text(right)
        if function == "Fn::Not":
            (operand,) = _arguments(function, argument, 1)
            return not self._boolean(operand)
        if function == "Fn::And":
            return all(self._boolean(operand) for operand in _list_argument(function, argument))
        if function == "Fn::Or":
            return any(self._boolean(operand) for operand in _list_argument(function, argument))
        if function == "Fn::Join":
            delimiter, items = _arguments(function, argument, 2)
            values = self._resolve(items)
            if not isinstance(values, list):
                raise TemplateError(f"Fn::Join expects a list, got {values!r}")
            return str(delimiter).join(_to_string(item, where="Fn::Join") for item in values)
        if function == "Fn::Select":
            index, items = (self._resolve(item) for item in _arguments(function, argument, 2))
            if not isinstance(items, list):
                raise TemplateError(f"Fn::Select expects a list, got {items!r}")
            try:
                return items[int(index)]
            except (IndexError, ValueError) as exc:
                raise TemplateError(f"Fn::Select index {index!r} is out of range") from exc
        if function == "Fn::Split":
            delimiter, text = (self._resolve(item) for item in _arguments(function, argument, 2))
            return _to_string(text, where="Fn::Split").split(str(delimiter))
        if function == "Fn::FindInMap":
            map_name, top_key, second_key = (self._resolve(item) for item in _arguments(function, argument, 3))
            try:
                return self._resolve(self._mappings[map_name][top_key][second_key])
            except (KeyError, TypeError) as exc:
                raise TemplateError(f"Fn::FindInMap: no {map_name}.{top_key}.{second_key}") from exc
        if function == "Fn::GetAZs":
            return [f"{REGION}{zone}" for zone in "abc"]
        raise TemplateError(f"{function} is not supported by the local runtime")

    def _boolean(self, operand: Any) -> bool:
        if isinstance(operand, dict) and set(operand) == {"Condition"}:
            return self.condition(operand["Condition"])
        value = self._resolve(operand)
        if not isinstance(value, bool):
            raise TemplateError(f"expected a condition, got {value!r}")
        return value

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = _arguments("Fn::Sub", argument, 2)
            if not isinstance(variables, Mapping):
                raise TemplateError("Fn::Sub variables must be a mapping")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = self._resolve(variables[name])
            elif "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                value = self.get_att(logical_id, attribute)
            else:
                value = self.ref(name)
            return _to_string(value, where=f"Fn::Sub ${{{name}}}")

        return _SUB_PLACEHOLDER.sub(replace, _to_string(text, where="Fn::Sub"))


def _pseudo_parameter(name: str) -> Any:
    values: dict[str, Any] = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::StackName": STACK_NAME,
        "AWS::Partition": PARTITION,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }
    return values.get(name)


def _parameter_values(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameter(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, raw_declaration in declared.items():
        declaration: Mapping[str, Any] = raw_declaration or {}
        if name in overrides:
            raw: Any = overrides[name]
        elif "Default" in declaration:
            raw = declaration["Default"]
        else:
            raise TemplateError(f"parameter {name} has no Default: pass a value for it")
        text = _scalar_text(raw)
        allowed = declaration.get("AllowedValues")
        if allowed is not None and text not in [_scalar_text(choice) for choice in allowed]:
            raise TemplateError(f"parameter {name}={text!r} is not one of {allowed}")
        parameter_type = str(declaration.get("Type", "String"))
        values[name] = text.split(",") if parameter_type.startswith(("CommaDelimitedList", "List<")) else text
    return values


def _scalar_text(value: Any) -> str:
    """CloudFormation's string form of a scalar (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"expected a scalar, got {value!r}")


def _to_string(value: Any, *, where: str) -> str:
    try:
        return _scalar_text(value)
    except TemplateError as exc:
        raise TemplateError(f"{where}: expected a string, got {value!r}") from exc


def _arguments(function: str, argument: Any, count: int) -> list[Any]:
    if not isinstance(argument, list) or len(argument) != count:
        raise TemplateError(f"{function} expects a list of {count} arguments, got {argument!r}")
    return argument


def _list_argument(function: str, argument: Any) -> list[Any]:
    if not isinstance(argument, list) or not argument:
        raise TemplateError(f"{function} expects a non-empty list, got {argument!r}")
    return argument


def _get_att_arguments(argument: Any) -> tuple[str, str]:
    if isinstance(argument, str):
        logical_id, _, attribute = argument.partition(".")
        return logical_id, attribute
    if isinstance(argument, list) and len(argument) == 2 and all(isinstance(part, str) for part in argument):
        return argument[0], argument[1]
    raise TemplateError(f"Fn::GetAtt expects [LogicalId, Attribute], got {argument!r}")


# --------------------------------------------------------------------------------------------------------- describing
@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as the local runtime runs it (Globals merged, environment resolved)."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: Mapping[str, str]
    memory_size: int
    timeout: int

    @property
    def module_name(self) -> str:
        """The handler's module path inside ``code_dir`` (``app`` for ``app.lambda_handler``)."""
        return self.handler.rpartition(".")[0]

    @property
    def function_attribute(self) -> str:
        """The handler's function name (``lambda_handler`` for ``app.lambda_handler``)."""
        return self.handler.rpartition(".")[2]

    @property
    def source_file(self) -> Path:
        """The file holding the handler (``<code_dir>/app.py``)."""
        return self.code_dir.joinpath(*self.module_name.split(".")).with_suffix(".py")


@dataclass(frozen=True)
class ApiRoute:
    """One ``Type: Api`` event of a function: ``method path`` proxied to ``function_id``."""

    path: str
    method: str
    function_id: str
    authorizer: str | None
    event_name: str

    @property
    def requires_auth(self) -> bool:
        """True when the route sits behind the authorizer (a verified token is needed)."""
        return self.authorizer is not None


@dataclass(frozen=True)
class GatewayResponse:
    """A customised API Gateway response (``GatewayResponses``): status, JSON body template and headers."""

    response_type: str
    status_code: int | None
    body: str | None
    headers: Mapping[str, str]


@dataclass(frozen=True)
class ApiSpec:
    """The REST API: stage, authorizers, gateway responses and routes."""

    logical_id: str
    stage_name: str
    default_authorizer: str | None
    gateway_responses: Mapping[str, GatewayResponse]
    routes: tuple[ApiRoute, ...]
    cors: Mapping[str, str] | None = None
    """The Api's ``Cors`` (AllowOrigin, AllowHeaders, AllowMethods, MaxAge): header values, quotes removed."""


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: its local name and its resolved template ``Properties``."""

    logical_id: str
    name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class BucketSpec:
    """An S3 bucket: its local name and its resolved template ``Properties``."""

    logical_id: str
    name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class KeySpec:
    """A KMS key: its resolved template ``Properties`` (KMS draws the key's id: aliases name it locally)."""

    logical_id: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class KeyAliasSpec:
    """A KMS alias: its name (``alias/...``, what ``!Ref`` gives) and the logical id of the key it targets."""

    logical_id: str
    name: str
    target_key: str


@dataclass(frozen=True)
class ParameterSpec:
    """An SSM parameter: its name (what ``!Ref`` gives) and its resolved template ``Properties``."""

    logical_id: str
    name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class StateMachineSpec:
    """A state machine with its definition read from ``DefinitionUri`` and its substitutions applied."""

    logical_id: str
    name: str
    arn: str
    type: str
    definition: str
    definition_path: Path | None
    substitutions: Mapping[str, str]


@dataclass(frozen=True)
class AppClientSpec:
    """A Cognito app client: its local client id (the ``ClientName``), its id token lifetime and its user pool's id."""

    logical_id: str
    client_id: str
    id_token_validity_seconds: int
    user_pool_id: str | None = None


@dataclass(frozen=True)
class UserPoolSpec:
    """A Cognito user pool: its local id (what ``!Ref`` gives the functions: its logical id), its resolved template
    ``Properties`` and the names of its groups (the template's ``AWS::Cognito::UserPoolGroup`` resources)."""

    logical_id: str
    pool_id: str
    properties: Mapping[str, Any]
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleSpec:
    """A ``Type: Schedule`` (EventBridge rule) or ``ScheduleV2`` (EventBridge Scheduler) event of a function."""

    function_id: str
    event_name: str
    expression: str
    enabled: bool
    input: str | None
    """The JSON the function receives instead of the scheduled event, when the template sets ``Input``."""

    @property
    def rate_seconds(self) -> int | None:
        """The period of a ``rate(...)`` expression in seconds (None for ``cron(...)``)."""
        match = _RATE.match(self.expression)
        if match is None:
            return None
        return int(match.group(1)) * _SECONDS_PER_RATE_UNIT[match.group(2).rstrip("s")]

    @property
    def rule_arn(self) -> str:
        """The local ARN of the rule (or schedule) that fires it (the scheduled event's ``resources``)."""
        return f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:rule/{STACK_NAME}-{self.function_id}{self.event_name}"


@dataclass(frozen=True)
class LayerSpec:
    """A layer whose content directory goes on ``sys.path`` locally."""

    logical_id: str
    content_dir: Path


@dataclass(frozen=True)
class TemplateDescription:
    """What the local runtime needs to know about the template."""

    template_path: Path
    parameters: Mapping[str, Any]
    functions: Mapping[str, FunctionSpec]
    api: ApiSpec | None
    tables: Mapping[str, TableSpec]
    buckets: Mapping[str, BucketSpec]
    state_machines: Mapping[str, StateMachineSpec]
    app_clients: Mapping[str, AppClientSpec]
    layers: tuple[LayerSpec, ...]
    ses_senders: tuple[str, ...]
    schedules: tuple[ScheduleSpec, ...] = ()
    user_pools: Mapping[str, UserPoolSpec] = field(default_factory=dict)
    keys: Mapping[str, KeySpec] = field(default_factory=dict)
    key_aliases: Mapping[str, KeyAliasSpec] = field(default_factory=dict)
    ssm_parameters: Mapping[str, ParameterSpec] = field(default_factory=dict)

    @property
    def routes(self) -> tuple[ApiRoute, ...]:
        """The API's routes (empty without an API)."""
        return self.api.routes if self.api is not None else ()

    @property
    def ses_sender(self) -> str | None:
        """The SES sender address (the resolved ``SENDER_EMAIL`` of the functions), if any."""
        return self.ses_senders[0] if self.ses_senders else None

    def function(self, logical_id: str) -> FunctionSpec:
        """The function ``logical_id``; raise TemplateError when the template has none."""
        try:
            return self.functions[logical_id]
        except KeyError as exc:
            raise TemplateError(f"no function {logical_id!r} in {self.template_path}") from exc


def describe(template_path: Path | str, parameters: Mapping[str, str] | None = None) -> TemplateDescription:
    """Load ``template_path`` and describe it for the local runtime (``parameters`` override the Defaults)."""
    path = Path(template_path).resolve()
    template = load_template(path)
    resolver = Resolver(template, parameters)
    base_dir = path.parent
    resources: dict[str, Mapping[str, Any]] = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if isinstance(resource, Mapping) and resolver.exists(logical_id)
    }
    globals_section: Mapping[str, Any] = template.get("Globals") or {}

    def of_type(*types: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
        for logical_id, resource in resources.items():
            if resource.get("Type") in types:
                yield logical_id, resource.get("Properties") or {}

    function_properties = {
        logical_id: _merge_globals(globals_section.get("Function") or {}, properties)
        for logical_id, properties in of_type("AWS::Serverless::Function")
    }
    functions = {
        logical_id: _function_spec(logical_id, properties, resolver, base_dir)
        for logical_id, properties in function_properties.items()
    }
    api = _api_spec(resources, function_properties, globals_section.get("Api") or {}, resolver, template_path=path)
    tables = {
        logical_id: TableSpec(logical_id, str(resolver.ref(logical_id)), resolver.resolve(properties))
        for logical_id, properties in of_type("AWS::DynamoDB::Table")
    }
    buckets = {
        logical_id: BucketSpec(logical_id, str(resolver.ref(logical_id)), resolver.resolve(properties))
        for logical_id, properties in of_type("AWS::S3::Bucket")
    }
    state_machines = {
        logical_id: _state_machine_spec(logical_id, properties, resolver, base_dir)
        for logical_id, properties in of_type("AWS::Serverless::StateMachine")
    }
    app_clients = {
        logical_id: _app_client_spec(logical_id, properties, resolver)
        for logical_id, properties in of_type("AWS::Cognito::UserPoolClient")
    }
    user_pools = _user_pool_specs(of_type("AWS::Cognito::UserPool"), of_type("AWS::Cognito::UserPoolGroup"), resolver)
    keys = {
        logical_id: KeySpec(logical_id, resolver.resolve(properties))
        for logical_id, properties in of_type("AWS::KMS::Key")
    }
    key_aliases = {
        logical_id: _key_alias_spec(logical_id, properties, resolver, keys)
        for logical_id, properties in of_type("AWS::KMS::Alias")
    }
    ssm_parameters = {
        logical_id: ParameterSpec(logical_id, str(resolver.ref(logical_id)), resolver.resolve(properties))
        for logical_id, properties in of_type("AWS::SSM::Parameter")
    }
    layers = tuple(
        LayerSpec(logical_id, (base_dir / properties["ContentUri"]).resolve())
        for logical_id, properties in of_type("AWS::Serverless::LayerVersion")
        if isinstance(properties.get("ContentUri"), str)
    )
    senders = sorted(
        {spec.environment["SENDER_EMAIL"] for spec in functions.values() if "SENDER_EMAIL" in spec.environment}
    )
    return TemplateDescription(
        template_path=path,
        parameters=dict(resolver.parameters),
        functions=functions,
        api=api,
        tables=tables,
        buckets=buckets,
        state_machines=state_machines,
        app_clients=app_clients,
        layers=layers,
        ses_senders=tuple(senders),
        schedules=tuple(
            schedule
            for logical_id, properties in function_properties.items()
            for schedule in _schedule_specs(logical_id, properties, resolver)
        ),
        user_pools=user_pools,
        keys=keys,
        key_aliases=key_aliases,
        ssm_parameters=ssm_parameters,
    )


def merged_environment(description: TemplateDescription) -> dict[str, str]:
    """The union of every function's environment; raise EnvironmentConflictError when two functions disagree."""
    merged: dict[str, str] = {}
    origin: dict[str, str] = {}
    for logical_id in sorted(description.functions):
        for name, value in description.functions[logical_id].environment.items():
            if name in merged and merged[name] != value:
                raise EnvironmentConflictError(
                    f"environment variable {name}: {origin[name]} sets {merged[name]!r} but {logical_id} sets "
                    f"{value!r}; in one process every function shares os.environ, so give it one value "
                    "(in Globals) or distinct names"
                )
            merged[name] = value
            origin.setdefault(name, logical_id)
    return merged


def _merge_globals(global_properties: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals merge: maps merge (the resource wins), lists append, scalars are replaced."""
    merged: dict[str, Any] = dict(global_properties)
    for key, value in properties.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping) and not _is_intrinsic(value):
            merged[key] = _merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = [*current, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    if len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key == "Ref" or key.startswith("Fn::")


def _schedule_specs(logical_id: str, properties: Mapping[str, Any], resolver: Resolver) -> Iterable[ScheduleSpec]:
    """The function's ``Schedule`` and ``ScheduleV2`` events (SAM's property names for each)."""
    for event_name, event in (properties.get("Events") or {}).items():
        if not isinstance(event, Mapping) or event.get("Type") not in _SCHEDULE_EVENT_TYPES:
            continue
        where = f"{logical_id}.{event_name}"
        event_properties: Mapping[str, Any] = resolver.resolve(event.get("Properties") or {})
        key = "Schedule" if event["Type"] == "Schedule" else "ScheduleExpression"
        expression = event_properties.get(key)
        if not isinstance(expression, str) or not (_RATE.match(expression) or _CRON.match(expression)):
            raise TemplateError(f"{where}: {key} must be rate(N unit) or cron(...), got {expression!r}")
        if event_properties.get("Enabled") is not None and event_properties.get("State") is not None:
            raise TemplateError(f"{where}: set Enabled or State, not both")
        state = str(event_properties.get("State", "ENABLED")).upper()
        if state not in ("ENABLED", "DISABLED"):
            raise TemplateError(f"{where}: State must be ENABLED or DISABLED, got {state!r}")
        enabled = event_properties.get("Enabled", state == "ENABLED")
        if not isinstance(enabled, bool):
            raise TemplateError(f"{where}: Enabled must be a boolean, got {enabled!r}")
        payload = event_properties.get("Input")
        if payload is not None:
            try:
                json.loads(_to_string(payload, where=f"{where}.Input"))
            except ValueError as exc:
                raise TemplateError(f"{where}: Input is not JSON ({exc})") from exc
        yield ScheduleSpec(logical_id, str(event_name), expression, enabled, None if payload is None else str(payload))


def _function_spec(logical_id: str, properties: Mapping[str, Any], resolver: Resolver, base_dir: Path) -> FunctionSpec:
    code_uri = resolver.resolve(properties.get("CodeUri"))
    if not isinstance(code_uri, str):
        raise TemplateError(f"{logical_id}: the local runtime needs a local directory as CodeUri, got {code_uri!r}")
    handler = resolver.resolve(properties.get("Handler"))
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{logical_id}: Handler must look like 'module.function', got {handler!r}")
    variables = resolver.resolve(((properties.get("Environment") or {}).get("Variables")) or {})
    environment = {str(name): _to_string(value, where=f"{logical_id} env {name}") for name, value in variables.items()}
    return FunctionSpec(
        logical_id=logical_id,
        name=str(resolver.ref(logical_id)),
        arn=str(resolver.get_att(logical_id, "Arn")),
        code_dir=(base_dir / code_uri).resolve(),
        handler=handler,
        environment=environment,
        memory_size=int(resolver.resolve(properties.get("MemorySize", _DEFAULT_MEMORY_MB))),
        timeout=int(resolver.resolve(properties.get("Timeout", _DEFAULT_TIMEOUT_S))),
    )


def _api_spec(
    resources: Mapping[str, Mapping[str, Any]],
    function_properties: Mapping[str, Mapping[str, Any]],
    global_api: Mapping[str, Any],
    resolver: Resolver,
    *,
    template_path: Path,
) -> ApiSpec | None:
    events: list[tuple[str, str, Mapping[str, Any]]] = []
    api_ids: set[str] = set()
    for function_id, properties in function_properties.items():
        for event_name, event in (properties.get("Events") or {}).items():
            if not isinstance(event, Mapping) or event.get("Type") != "Api":
                continue
            event_properties: Mapping[str, Any] = event.get("Properties") or {}
            rest_api = event_properties.get("RestApiId")
            api_id = rest_api["Ref"] if isinstance(rest_api, Mapping) and "Ref" in rest_api else rest_api
            api_ids.add(str(api_id or _IMPLICIT_API_ID))
            events.append((function_id, event_name, event_properties))
    explicit_apis = [logical_id for logical_id, r in resources.items() if r.get("Type") == "AWS::Serverless::Api"]
    if len(api_ids) > 1:
        raise TemplateError(
            f"{template_path}: routes span several APIs ({', '.join(sorted(api_ids))}); locally one is served"
        )
    if not api_ids:
        if not explicit_apis:
            return None
        api_ids.add(explicit_apis[0])
    (api_id,) = api_ids
    if api_id == _IMPLICIT_API_ID:
        api_properties = _merge_globals(global_api, {"StageName": _IMPLICIT_API_STAGE})
    elif api_id in resources and resources[api_id].get("Type") == "AWS::Serverless::Api":
        api_properties = _merge_globals(global_api, resources[api_id].get("Properties") or {})
    else:
        raise TemplateError(f"RestApiId {api_id!r} is not an AWS::Serverless::Api of the template")
    auth: Mapping[str, Any] = api_properties.get("Auth") or {}
    authorizers: Mapping[str, Any] = auth.get("Authorizers") or {}
    default_authorizer = auth.get("DefaultAuthorizer")
    default_on_preflight = bool(auth.get("AddDefaultAuthorizerToCorsPreflight", True))

    def authorizer_of(method: str, event_properties: Mapping[str, Any]) -> str | None:
        route_auth: Mapping[str, Any] = event_properties.get("Auth") or {}
        if "Authorizer" in route_auth:
            name = route_auth["Authorizer"]
        elif method == "OPTIONS" and not default_on_preflight:
            name = None
        else:
            name = default_authorizer
        if name is None or name == _NO_AUTHORIZER:
            return None
        definition = authorizers.get(name)
        if not isinstance(definition, Mapping) or "UserPoolArn" not in definition:
            raise TemplateError(f"authorizer {name!r}: the local runtime emulates Cognito user pool authorizers only")
        return str(name)

    routes = []
    for function_id, event_name, event_properties in events:
        method = str(event_properties.get("Method", "")).upper()
        if method == "ANY" or not method:
            method = "ANY"
        path = str(event_properties.get("Path", ""))
        if not path.startswith("/"):
            raise TemplateError(f"{function_id}.{event_name}: Path must start with '/', got {path!r}")
        routes.append(ApiRoute(path, method, function_id, authorizer_of(method, event_properties), event_name))
    gateway_responses = {
        response_type: _gateway_response(response_type, resolver.resolve(definition) or {})
        for response_type, definition in (api_properties.get("GatewayResponses") or {}).items()
    }
    return ApiSpec(
        logical_id=api_id,
        stage_name=_to_string(
            resolver.resolve(api_properties.get("StageName", _IMPLICIT_API_STAGE)), where="StageName"
        ),
        default_authorizer=None if default_authorizer in (None, _NO_AUTHORIZER) else str(default_authorizer),
        gateway_responses=gateway_responses,
        routes=tuple(routes),
        cors=_cors(resolver.resolve(api_properties.get("Cors"))),
    )


def _cors(value: Any) -> dict[str, str] | None:
    """SAM's ``Cors``: a bare origin string, or a mapping of header values written in single quotes."""
    if value is None:
        return None
    settings = {"AllowOrigin": value} if isinstance(value, str) else dict(value)
    return {key: str(item).strip("'") for key, item in settings.items()}


def _gateway_response(response_type: str, definition: Mapping[str, Any]) -> GatewayResponse:
    status = definition.get("StatusCode")
    templates: Mapping[str, Any] = definition.get("ResponseTemplates") or {}
    headers: Mapping[str, Any] = (definition.get("ResponseParameters") or {}).get("Headers") or {}
    body = templates.get("application/json")
    return GatewayResponse(
        response_type=response_type,
        status_code=int(status) if status is not None else None,
        body=str(body) if body is not None else None,
        headers={str(name): _header_literal(value) for name, value in headers.items()},
    )


def _header_literal(value: Any) -> str:
    """A gateway response header's value: a literal in single quotes, "'*'" -> *. Only the enclosing pair goes (a
    Content-Security-Policy literal holds quotes of its own: "'default-src 'none''" -> default-src 'none')."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def _state_machine_spec(
    logical_id: str, properties: Mapping[str, Any], resolver: Resolver, base_dir: Path
) -> StateMachineSpec:
    definition_path: Path | None = None
    if "DefinitionUri" in properties:
        uri = resolver.resolve(properties["DefinitionUri"])
        if not isinstance(uri, str):
            raise TemplateError(f"{logical_id}: DefinitionUri must be a local file, got {uri!r}")
        definition_path = (base_dir / uri).resolve()
        try:
            definition = definition_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TemplateError(f"{logical_id}: cannot read DefinitionUri {definition_path}: {exc}") from exc
    elif "Definition" in properties:
        definition = json.dumps(resolver.resolve(properties["Definition"]))
    else:
        raise TemplateError(f"{logical_id}: a state machine needs a DefinitionUri or a Definition")
    raw_substitutions = resolver.resolve(properties.get("DefinitionSubstitutions") or {})
    substitutions = {
        str(key): _to_string(value, where=f"{logical_id} DefinitionSubstitutions.{key}")
        for key, value in raw_substitutions.items()
    }
    missing = sorted({name for name in _DEFINITION_PLACEHOLDER.findall(definition) if name not in substitutions})
    if missing:
        raise TemplateError(f"{logical_id}: no DefinitionSubstitutions for {', '.join(missing)}")
    substituted = _DEFINITION_PLACEHOLDER.sub(lambda match: substitutions[match.group(1)], definition)
    return StateMachineSpec(
        logical_id=logical_id,
        name=str(resolver.get_att(logical_id, "Name")),
        arn=str(resolver.ref(logical_id)),
        type=str(resolver.resolve(properties.get("Type", "STANDARD"))),
        definition=substituted,
        definition_path=definition_path,
        substitutions=substitutions,
    )


def _user_pool_specs(
    pools: Iterable[tuple[str, Mapping[str, Any]]],
    groups: Iterable[tuple[str, Mapping[str, Any]]],
    resolver: Resolver,
) -> dict[str, UserPoolSpec]:
    """The user pools, each with the names of the groups the template declares in it."""
    group_names: dict[str, list[str]] = {}
    for logical_id, properties in groups:
        pool_id = _to_string(resolver.resolve(properties.get("UserPoolId")), where=f"{logical_id}.UserPoolId")
        if "GroupName" not in properties:
            raise TemplateError(f"{logical_id}: the local runtime needs the group's GroupName")
        group_names.setdefault(pool_id, []).append(
            _to_string(resolver.resolve(properties["GroupName"]), where=f"{logical_id}.GroupName")
        )
    specs = {}
    for logical_id, properties in pools:
        pool_id = str(resolver.ref(logical_id))
        specs[logical_id] = UserPoolSpec(
            logical_id, pool_id, resolver.resolve(properties), tuple(group_names.get(pool_id, ()))
        )
    return specs


def _key_alias_spec(
    logical_id: str, properties: Mapping[str, Any], resolver: Resolver, keys: Mapping[str, KeySpec]
) -> KeyAliasSpec:
    """The alias and the template key it targets (``!Ref Key`` or ``!GetAtt Key.Arn``: KMS draws a key's id, so the
    local runtime follows the reference, not an id)."""
    target = properties.get("TargetKeyId")
    if isinstance(target, Mapping) and "Ref" in target:
        key = target["Ref"]
    elif isinstance(target, Mapping) and "Fn::GetAtt" in target:
        key, attribute = _get_att_arguments(target["Fn::GetAtt"])
        key = key if attribute == "Arn" else None
    else:
        key = None
    if key not in keys:
        raise TemplateError(f"{logical_id}: TargetKeyId must be !Ref or !GetAtt .Arn of a KMS key of the template")
    name = str(resolver.ref(logical_id))
    if not name.startswith("alias/"):
        raise TemplateError(f"{logical_id}: an AliasName starts with alias/, got {name!r}")
    return KeyAliasSpec(logical_id, name, str(key))


def _app_client_spec(logical_id: str, properties: Mapping[str, Any], resolver: Resolver) -> AppClientSpec:
    # Cognito's defaults: an id token lives one hour; IdTokenValidity counts in TokenValidityUnits.IdToken (hours).
    validity = int(resolver.resolve(properties.get("IdTokenValidity", 1)))
    units = resolver.resolve(properties.get("TokenValidityUnits") or {})
    unit = str(units.get("IdToken", "hours"))
    if unit not in _SECONDS_PER_UNIT:
        raise TemplateError(f"{logical_id}: unknown TokenValidityUnits.IdToken {unit!r}")
    pool = resolver.resolve(properties.get("UserPoolId"))
    return AppClientSpec(
        logical_id=logical_id,
        client_id=str(resolver.ref(logical_id)),
        id_token_validity_seconds=validity * _SECONDS_PER_UNIT[unit],
        user_pool_id=None if pool is None else _to_string(pool, where=f"{logical_id}.UserPoolId"),
    )
