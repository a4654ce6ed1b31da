"""The local runtime's reading of template.yaml: short tags, intrinsic functions, and the typed description."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.local.template import (
    CloudFormationLoader,
    EnvironmentConflictError,
    Resolver,
    TemplateError,
    describe,
    load_template,
    merged_environment,
)

ROOT = Path(__file__).resolve().parents[2]
REAL_TEMPLATE = ROOT / "template.yaml"

RESOURCES: dict[str, Any] = {
    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
    "NamedTable": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Sub": "cases-${Stage}"}}},
    "Bucket": {"Type": "AWS::S3::Bucket"},
    "Fn": {"Type": "AWS::Serverless::Function", "Properties": {}},
    "Machine": {"Type": "AWS::Serverless::StateMachine", "Properties": {}},
    "Client": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"ClientName": "kiosk"}},
    "Pool": {"Type": "AWS::Cognito::UserPool"},
    "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/omnicity/dev/functions"}},
    "Queue": {"Type": "AWS::SQS::Queue"},
}
PARAMETERS: dict[str, Any] = {
    "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
    "Ttl": {"Type": "Number", "Default": 300},
    "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
}
CONDITIONS: dict[str, Any] = {
    "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    "DevOrProd": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]},
}


def resolver(**parameters: str) -> Resolver:
    return Resolver({"Parameters": PARAMETERS, "Conditions": CONDITIONS, "Resources": RESOURCES}, parameters)


# ------------------------------------------------------------------------------------------------ YAML
def test_the_loader_turns_short_tags_into_their_long_form() -> None:
    # Given YAML with short CloudFormation tags
    text = textwrap.dedent(
        """
        a: !Ref Stage
        b: !GetAtt Fn.Arn
        c: !Sub "x-${Stage}"
        d: !Sub ["${A}", {A: !Ref Stage}]
        e: !If [IsProd, true, false]
        f: !Equals [!Ref Stage, prod]
        g: !Join [",", [a, b]]
        h: !Select [0, !Split [",", "a,b"]]
        i: !Not [!Condition IsProd]
        """
    )

    # When it is loaded
    document = yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass

    # Then each tag is its long-form intrinsic
    assert document == {
        "a": {"Ref": "Stage"},
        "b": {"Fn::GetAtt": ["Fn", "Arn"]},
        "c": {"Fn::Sub": "x-${Stage}"},
        "d": {"Fn::Sub": ["${A}", {"A": {"Ref": "Stage"}}]},
        "e": {"Fn::If": ["IsProd", True, False]},
        "f": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "g": {"Fn::Join": [",", ["a", "b"]]},
        "h": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "i": {"Fn::Not": [{"Condition": "IsProd"}]},
    }


def test_the_loader_stays_safe() -> None:
    # Given YAML asking for a Python object
    # When / Then it is refused
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("a: !!python/object/apply:os.system [echo]", Loader=CloudFormationLoader)  # noqa: S506


# ------------------------------------------------------------------------------------------------ intrinsics
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::StackName"}, "omnicity-local"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "Ttl"}, "300"),
        ({"Ref": "Zones"}, ["a", "b"]),
        ({"Ref": "Table"}, "Table"),
        ({"Ref": "NamedTable"}, "cases-dev"),
        ({"Ref": "Bucket"}, "omnicity-local-bucket"),
        ({"Ref": "Fn"}, "Fn"),
        ({"Ref": "Machine"}, "arn:aws:states:eu-west-1:123456789012:stateMachine:Machine"),
        ({"Ref": "Client"}, "kiosk"),
        ({"Ref": "Logs"}, "/omnicity/dev/functions"),
        ({"Ref": "Queue"}, "Queue"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, "arn:aws:lambda:eu-west-1:123456789012:function:Fn"),
        ({"Fn::GetAtt": ["Table", "Arn"]}, "arn:aws:dynamodb:eu-west-1:123456789012:table/Table"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "arn:aws:s3:::omnicity-local-bucket"),
        ({"Fn::GetAtt": ["Logs", "Arn"]}, "arn:aws:logs:eu-west-1:123456789012:log-group:/omnicity/dev/functions:*"),
        ({"Fn::GetAtt": ["Pool", "Arn"]}, "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/Pool"),
        ({"Fn::GetAtt": ["Machine", "Name"]}, "Machine"),
        ({"Fn::GetAtt": ["Machine", "Arn"]}, "arn:aws:states:eu-west-1:123456789012:stateMachine:Machine"),
        (
            {"Fn::Sub": "${AWS::Region}/${Stage}/${Fn.Arn}/${Bucket}"},
            ("eu-west-1/dev/arn:aws:lambda:eu-west-1:123456789012:function:Fn/omnicity-local-bucket"),
        ),
        ({"Fn::Sub": "${!Literal}-${Stage}"}, "${Literal}-dev"),
        ({"Fn::Sub": ["${Name}-${Stage}", {"Name": {"Ref": "Table"}}]}, "Table-dev"),
        ({"Fn::Join": ["/", ["a", {"Ref": "Stage"}, "c"]]}, "a/dev/c"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}, "y"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ({"Fn::Equals": [{"Ref": "Stage"}, "dev"]}, True),
        ({"Fn::And": [{"Condition": "IsDev"}, {"Condition": "DevOrProd"}]}, True),
        ({"list": ["a", {"Ref": "AWS::NoValue"}, "b"], "gone": {"Ref": "AWS::NoValue"}}, {"list": ["a", "b"]}),
    ],
)
def test_intrinsics_resolve_to_local_values(expression: Any, expected: Any) -> None:
    # Given the local stack with default parameters
    # When the expression is resolved
    # Then it gives the local value
    assert resolver().resolve(expression) == expected


def test_conditions_follow_parameter_overrides() -> None:
    # Given the Stage parameter overridden to prod
    prod = resolver(Stage="prod")

    # When conditions are evaluated
    # Then IsProd holds there and not with the default
    assert prod.condition("IsProd") is True
    assert prod.resolve({"Fn::If": ["IsProd", "big", "small"]}) == "big"
    assert resolver().condition("IsProd") is False


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ({"Ref": "Nothing"}, "Nothing"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "Queue.Arn"),
        ({"Fn::Sub": "${Missing}"}, "Missing"),
        ({"Fn::ImportValue": "shared"}, "Fn::ImportValue"),
        ({"Fn::If": ["NoSuchCondition", 1, 2]}, "NoSuchCondition"),
    ],
)
def test_what_cannot_be_resolved_locally_is_an_error(expression: Any, message: str) -> None:
    # When an unresolvable expression is resolved
    # Then a TemplateError names it
    with pytest.raises(TemplateError, match=message):
        resolver().resolve(expression)


def test_parameters_are_checked() -> None:
    # When a parameter override is unknown or not allowed
    # Then the template is refused
    with pytest.raises(TemplateError, match="Unknown"):
        resolver(Unknown="x")
    with pytest.raises(TemplateError, match="staging"):
        resolver(Stage="staging")


# ------------------------------------------------------------------------------------------------ real template
@pytest.fixture(scope="module")
def real() -> Any:
    return describe(REAL_TEMPLATE)


def test_the_real_templates_routes_carry_their_auth_flags(real: Any) -> None:
    # Given the real template's API
    routes = {(route.method, route.path): route for route in real.routes}

    # Then the catalogue and the docs are public, cases need the Cognito authorizer
    assert not routes[("GET", "/v1/procedures")].requires_auth
    assert not routes[("GET", "/v1/procedures/{procedure_id}")].requires_auth
    assert not routes[("GET", "/swagger")].requires_auth
    for key in [("POST", "/v1/cases"), ("GET", "/v1/cases"), ("GET", "/v1/cases/{case_id}")]:
        assert routes[key].requires_auth
        assert routes[key].authorizer == "CognitoAuthorizer"
    assert {route.function_id for route in real.routes} == {"ApiFunction", "Open311Function"}
    assert not any(route.requires_auth for route in real.routes if route.function_id == "Open311Function")
    assert real.api.stage_name == "dev"


def test_the_real_templates_gateway_responses_are_described(real: Any) -> None:
    # Then the UNAUTHORIZED response is the template's 401 JSON body
    unauthorized = real.api.gateway_responses["UNAUTHORIZED"]
    assert unauthorized.status_code == 401
    assert json.loads(unauthorized.body)["error"]["code"] == "unauthorized"
    assert real.api.gateway_responses["ACCESS_DENIED"].status_code == 403


def test_the_real_templates_functions_get_globals_and_their_own_environment(real: Any) -> None:
    # Given the API function and the notify function
    api = real.functions["ApiFunction"]
    notify = real.functions["NotifyFunction"]

    # Then Globals and their own variables are merged and resolved
    assert api.code_dir == ROOT / "functions" / "api"
    assert api.handler == "app.lambda_handler"
    assert api.source_file == ROOT / "functions" / "api" / "app.py"
    assert (api.memory_size, api.timeout) == (512, 15)
    assert real.functions["RenderDocumentFunction"].memory_size == 1024
    assert api.environment["TABLE_NAME"] == "CasesTable"
    assert api.environment["DOCUMENTS_BUCKET"] == "omnicity-local-documentsbucket"
    assert api.environment["STAGE"] == "dev"
    assert api.environment["PORTAL_CLIENT_ID"] == "portal"
    assert api.environment["KIOSK_CLIENT_ID"] == "kiosk"
    assert api.environment["COUNTER_CLIENT_ID"] == "counter"
    assert api.environment["DOCUMENT_REQUEST_STATE_MACHINE_ARN"] == (
        "arn:aws:states:eu-west-1:123456789012:stateMachine:DocumentRequestStateMachine"
    )
    assert notify.environment["SENDER_EMAIL"] == "no-reply@omnicity.example"
    assert "SENDER_EMAIL" not in real.functions["RenderDocumentFunction"].environment
    assert real.ses_sender == "no-reply@omnicity.example"


def test_the_real_templates_environments_merge_into_one_process(real: Any) -> None:
    # When every function's environment is merged
    merged = merged_environment(real)

    # Then each function's variables are there with their value
    for function in real.functions.values():
        assert function.environment.items() <= merged.items()
    assert merged["SENDER_EMAIL"] == "no-reply@omnicity.example"


def task_targets(definition: dict[str, Any]) -> set[str]:
    """What each Task calls: a function (plain ARN or lambda:invoke), or the machine a startExecution starts."""
    targets = set()
    for state in definition["States"].values():
        if state["Type"] != "Task":
            continue
        if state["Resource"].startswith("arn:aws:states:::lambda:"):
            targets.add(state["Parameters"]["FunctionName"])
        elif state["Resource"].startswith("arn:aws:states:::states:startExecution"):
            targets.add(state["Parameters"]["StateMachineArn"])
        else:
            targets.add(state["Resource"])
    return targets


def test_the_real_state_machines_are_substituted_with_function_and_machine_arns(real: Any) -> None:
    # Given the document request machine (Express) and the review machine it hands cases to (Standard)
    machine = real.state_machines["DocumentRequestStateMachine"]
    review = real.state_machines["DocumentReviewStateMachine"]
    functions = {function.arn for function in real.functions.values()}

    # Then no placeholder is left, it is JSON, and every Task calls one of the template's functions...
    for each in (machine, review):
        assert "${" not in each.definition
    assert task_targets(json.loads(review.definition)) <= functions
    # ...or, for the document machine, starts the review machine
    assert task_targets(json.loads(machine.definition)) <= functions | {review.arn}
    assert review.arn in task_targets(json.loads(machine.definition))
    assert machine.substitutions["NotifyFunctionArn"] == real.functions["NotifyFunction"].arn
    assert machine.arn == "arn:aws:states:eu-west-1:123456789012:stateMachine:DocumentRequestStateMachine"
    assert (machine.type, review.type) == ("EXPRESS", "STANDARD")


def test_the_real_templates_data_clients_and_layer_are_described(real: Any) -> None:
    # Then the table keeps its template properties, with conditions resolved for the local (dev) stage
    table = real.tables["CasesTable"]
    assert table.name == "CasesTable"
    assert [index["IndexName"] for index in table.properties["GlobalSecondaryIndexes"]] == [
        "gsi1",
        "gsi2",
        "gsi3",
        "gsi4",
    ]
    assert table.properties["DeletionProtectionEnabled"] is False
    assert describe(REAL_TEMPLATE, {"Stage": "prod"}).tables["CasesTable"].properties["DeletionProtectionEnabled"]
    # And the app clients' ids are their names, with their id token lifetimes and their pools
    clients = {client.client_id: client.id_token_validity_seconds for client in real.app_clients.values()}
    assert clients == {"portal": 3600, "kiosk": 600, "counter": 3600}
    pools = {client.client_id: client.user_pool_id for client in real.app_clients.values()}
    assert pools == {"portal": "UserPool", "kiosk": "UserPool", "counter": "AgentUserPool"}
    # And the user pools are described with their groups; the API is given the agents' pool
    assert {pool.pool_id: pool.groups for pool in real.user_pools.values()} == {
        "UserPool": ("kiosk",),
        "AgentUserPool": ("agent",),
    }
    assert real.functions["ApiFunction"].environment["AGENTS_USER_POOL_ID"] == "AgentUserPool"
    assert [layer.content_dir for layer in real.layers] == [ROOT / "layers" / "core"]


# ------------------------------------------------------------------------------------------------ tiny templates
def write(tmp_path: Path, template: str, files: dict[str, str] | None = None) -> Path:
    for name, content in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content, encoding="utf-8")
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(template), encoding="utf-8")
    return path


def test_user_pools_come_with_their_groups_and_a_provider_is_named_as_on_aws(tmp_path: Path) -> None:
    # Given two pools, a group in one, a client of each and an identity provider one client names
    path = write(
        tmp_path,
        """
        Resources:
          Citizens: {Type: AWS::Cognito::UserPool, Properties: {UserPoolName: citizens}}
          Staff: {Type: AWS::Cognito::UserPool}
          StaffGroup: {Type: AWS::Cognito::UserPoolGroup, Properties: {UserPoolId: !Ref Staff, GroupName: agent}}
          Login:
            Type: AWS::Cognito::UserPoolIdentityProvider
            Properties: {UserPoolId: !Ref Citizens, ProviderName: FederalLogin, ProviderType: OIDC}
          Portal:
            Type: AWS::Cognito::UserPoolClient
            Properties: {UserPoolId: !Ref Citizens, ClientName: portal, SupportedIdentityProviders: [!Ref Login]}
          Counter: {Type: AWS::Cognito::UserPoolClient, Properties: {UserPoolId: !Ref Staff, ClientName: counter}}
        """,
    )
    description = describe(path)

    # Then each pool is named after its logical id (what !Ref gives), with its groups
    assert {pool.pool_id: pool.groups for pool in description.user_pools.values()} == {
        "Citizens": (),
        "Staff": ("agent",),
    }
    assert description.user_pools["Citizens"].properties["UserPoolName"] == "citizens"
    # And each client knows its pool; !Ref of a provider is its ProviderName, as on AWS
    assert {c.client_id: c.user_pool_id for c in description.app_clients.values()} == {
        "portal": "Citizens",
        "counter": "Staff",
    }
    assert Resolver(load_template(path)).resolve({"Ref": "Login"}) == "FederalLogin"


def test_a_group_without_a_name_cannot_be_emulated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        Resources:
          Staff: {Type: AWS::Cognito::UserPool}
          Unnamed: {Type: AWS::Cognito::UserPoolGroup, Properties: {UserPoolId: !Ref Staff}}
        """,
    )
    with pytest.raises(TemplateError, match=r"Unnamed.*GroupName"):
        describe(path)


def test_two_functions_disagreeing_on_a_variable_cannot_share_a_process(tmp_path: Path) -> None:
    # Given two functions giving LEVEL different values
    path = write(
        tmp_path,
        """
        Resources:
          A:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: a/, Handler: app.handler, Environment: {Variables: {LEVEL: "1"}}}
          B:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: b/, Handler: app.handler, Environment: {Variables: {LEVEL: "2"}}}
        """,
    )

    # When / Then merging their environments names the variable and both functions
    with pytest.raises(EnvironmentConflictError, match=r"LEVEL.*A.*'1'.*B.*'2'"):
        merged_environment(describe(path))


def test_a_function_overrides_a_global_variable_and_appends_to_global_lists(tmp_path: Path) -> None:
    # Given Globals with a variable and a layer, and a function overriding the variable
    path = write(
        tmp_path,
        """
        Globals:
          Function:
            Handler: app.lambda_handler
            Timeout: 10
            Layers: [global-layer]
            Environment: {Variables: {LEVEL: global, SHARED: yes-shared}}
        Resources:
          A:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: a/, Timeout: 20, Environment: {Variables: {LEVEL: own}}}
        """,
    )

    # When the template is described
    function = describe(path).functions["A"]

    # Then the function's own values win and the rest is inherited
    assert function.environment == {"LEVEL": "own", "SHARED": "yes-shared"}
    assert function.timeout == 20
    assert function.memory_size == 128


def test_a_definition_placeholder_without_substitution_is_an_error(tmp_path: Path) -> None:
    # Given a state machine whose definition names a substitution the template does not give
    definition = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Missing}", "End": True}}}
    path = write(
        tmp_path,
        """
        Resources:
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: machine.asl.json
              DefinitionSubstitutions: {Other: x}
        """,
        {"machine.asl.json": json.dumps(definition)},
    )

    # When / Then describing it names the missing placeholder
    with pytest.raises(TemplateError, match="Missing"):
        describe(path)


def test_routes_on_the_implicit_api_use_globals_auth_and_only_cognito_authorizers_are_emulated(tmp_path: Path) -> None:
    # Given routes without RestApiId (SAM's implicit API) and Globals.Api with a Cognito default authorizer
    template = """
        Globals:
          Api:
            Auth:
              DefaultAuthorizer: Users
              Authorizers: {Users: {UserPoolArn: arn:aws:cognito-idp:eu-west-1:123456789012:userpool/x}}
        Resources:
          A:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: a/
              Handler: app.handler
              Events:
                Open: {Type: Api, Properties: {Path: /open, Method: get, Auth: {Authorizer: NONE}}}
                Closed: {Type: Api, Properties: {Path: /closed, Method: any}}
        """

    # When it is described
    api = describe(write(tmp_path, template)).api

    # Then the implicit API's stage and the default authorizer apply
    assert api is not None
    assert api.logical_id == "ServerlessRestApi"
    assert api.stage_name == "Prod"
    assert {(route.method, route.path, route.requires_auth) for route in api.routes} == {
        ("GET", "/open", False),
        ("ANY", "/closed", True),
    }

    # And an IAM-authorized route is refused rather than served unprotected
    with pytest.raises(TemplateError, match="Cognito"):
        describe(write(tmp_path, template.replace("Authorizer: NONE", "Authorizer: AWS_IAM")))


def test_resources_whose_condition_is_false_do_not_exist(tmp_path: Path) -> None:
    # Given a table only created in prod
    path = write(
        tmp_path,
        """
        Parameters:
          Stage: {Type: String, Default: dev}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
        Resources:
          Archive:
            Type: AWS::DynamoDB::Table
            Condition: IsProd
            Properties: {KeySchema: []}
        """,
    )

    # When / Then it is described in prod only
    assert describe(path).tables == {}
    assert list(describe(path, {"Stage": "prod"}).tables) == ["Archive"]
