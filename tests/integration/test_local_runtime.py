"""The embedded local runtime: provisioning, tokens, the API Gateway emulation and the Lambda bridge under moto.

Most tests run a tiny template written to tmp_path, with tiny handlers, so they exercise the runtime itself and not
the platform's functions; provisioning is checked against the real template.yaml.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from infra.local.bridge import MODULE_PREFIX, BridgeError, LambdaBridge
from infra.local.metrics_isolation import ThreadIsolatedEMFProvider
from infra.local.provision import provision
from infra.local.runtime import FAKE_CREDENTIALS, MOTO_CONFIG, LocalRuntime, wait_for_execution
from infra.local.template import REGION, describe
from infra.local.tokens import ISSUER, InvalidToken, LocalIssuer, authorizer_claims
from omnicity import observability

ROOT = Path(__file__).resolve().parents[2]
REAL_TEMPLATE = ROOT / "template.yaml"
VALID_NRN = "85073003328"  # 850730 033 28: 97 - (850730033 % 97) == 28
VALID_NRN_2000S = "01020312345"  # born 2001: the check is computed on "2" + the first nine digits
INVALID_NRN = "85073003399"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  SenderEmail: {Type: String, Default: sender@city.example}
Globals:
  Function:
    Runtime: python3.12
    Handler: app.lambda_handler
    Timeout: 5
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Auth:
        DefaultAuthorizer: Cognito
        Authorizers:
          Cognito: {UserPoolArn: !GetAtt Pool.Arn}
      GatewayResponses:
        UNAUTHORIZED:
          StatusCode: "401"
          ResponseTemplates:
            application/json: '{"error": {"code": "unauthorized", "message": "tiny template says no"}}'
        DEFAULT_5XX:
          ResponseTemplates:
            application/json: '{"error": {"code": "unavailable", "message": "tiny template is down"}}'
  Pool:
    Type: AWS::Cognito::UserPool
  PortalClient:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: !Ref Pool, ClientName: portal, IdTokenValidity: 60, TokenValidityUnits: {IdToken: minutes}}
  KioskClient:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: !Ref Pool, ClientName: kiosk, IdTokenValidity: 10, TokenValidityUnits: {IdToken: minutes}}
  CounterClient:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: !Ref Pool, ClientName: counter}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Events:
        ByCase: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/v1/cases/{case_id}", Method: GET}}
        Mine: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /v1/cases/mine, Method: GET}}
        Note: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /v1/cases/note, Method: POST}}
        Public:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /v1/procedures, Method: GET, Auth: {Authorizer: NONE}}
        Upload: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /v1/echo, Method: POST, Auth: {Authorizer: NONE}}}
        Binary: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /v1/binary, Method: GET, Auth: {Authorizer: NONE}}}
  CrashFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/crash/
      Events:
        Crash: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /v1/crash, Method: GET, Auth: {Authorizer: NONE}}}
  IncrementFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/increment/}
  DoubleFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/double/}
  BoomFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/boom/}
  FlakyFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/flaky/}
  NotifyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/notify/
      Environment:
        Variables:
          SENDER_EMAIL: !Ref SenderEmail
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
  FlowMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachines/flow.asl.json
      DefinitionSubstitutions:
        IncrementArn: !GetAtt IncrementFunction.Arn
        DoubleArn: !GetAtt DoubleFunction.Arn
  CatchMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachines/catch.asl.json
      DefinitionSubstitutions:
        BoomArn: !GetAtt BoomFunction.Arn
  RetryMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachines/retry.asl.json
      DefinitionSubstitutions:
        FlakyArn: !GetAtt FlakyFunction.Arn
"""

HANDLERS = {
    "echo": """
import base64
import json

def lambda_handler(event, context):
    if event["path"] == "/v1/binary":
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/octet-stream", "X-Single": "one"},
            "multiValueHeaders": {"X-Multi": ["a", "b"]},
            "body": base64.b64encode(b"\\x00\\x01\\xff").decode(),
            "isBase64Encoded": True,
        }
    context_seen = {"function_name": context.function_name, "remaining": context.get_remaining_time_in_millis()}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"event": event, "context": context_seen}),
    }
""",
    "crash": """
def lambda_handler(event, context):
    raise RuntimeError("the API function crashed")
""",
    "increment": """
def lambda_handler(event, context):
    return {"value": event["value"] + 1, "by": context.function_name}
""",
    "double": """
def lambda_handler(event, context):
    return {"value": event["value"] * 10, "by": context.function_name}
""",
    "boom": """
class CaseConflictError(Exception):
    pass

def lambda_handler(event, context):
    raise CaseConflictError("case " + event["case_id"] + " changed meanwhile")
""",
    "flaky": """
import threading

CALLS = {}
_LOCK = threading.Lock()

class TransientError(Exception):
    pass

def lambda_handler(event, context):
    with _LOCK:
        CALLS[event["key"]] = CALLS.get(event["key"], 0) + 1
        calls = CALLS[event["key"]]
    if calls <= event["fail_times"]:
        raise TransientError("try again")
    return {"key": event["key"], "calls": calls}
""",
}

MACHINES = {
    "flow": {
        "StartAt": "Increment",
        "States": {
            "Increment": {"Type": "Task", "Resource": "${IncrementArn}", "Next": "Double"},
            "Double": {"Type": "Task", "Resource": "${DoubleArn}", "End": True},
        },
    },
    "catch": {
        "StartAt": "Boom",
        "States": {
            "Boom": {
                "Type": "Task",
                "Resource": "${BoomArn}",
                "Catch": [
                    {"ErrorEquals": ["TransientError"], "Next": "WrongCatch"},
                    {"ErrorEquals": ["CaseConflictError"], "ResultPath": "$.error", "Next": "Recovered"},
                ],
                "End": True,
            },
            "WrongCatch": {"Type": "Fail", "Error": "WrongCatch"},
            "Recovered": {"Type": "Pass", "End": True},
        },
    },
    "retry": {
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task",
                "Resource": "${FlakyArn}",
                "Retry": [
                    {"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "MaxAttempts": 1, "BackoffRate": 1}
                ],
                "End": True,
            }
        },
    },
}


def write_project(root: Path) -> Path:
    """A tiny SAM project: template, handlers, state machines. Returns the template path."""
    for name, source in HANDLERS.items():
        folder = root / "functions" / name
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(source, encoding="utf-8")
    (root / "statemachines").mkdir()
    for name, definition in MACHINES.items():
        (root / "statemachines" / f"{name}.asl.json").write_text(json.dumps(definition), encoding="utf-8")
    template = root / "template.yaml"
    template.write_text(TEMPLATE, encoding="utf-8")
    return template


@pytest.fixture
def tiny_template(tmp_path: Path) -> Path:
    return write_project(tmp_path)


@pytest.fixture(scope="class")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    """One in-process runtime of the tiny template per test class (tests use distinct keys and ids)."""
    with LocalRuntime(write_project(tmp_path_factory.mktemp("project")), mode="inprocess") as local:
        yield local


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def request(
    runtime: LocalRuntime,
    method: str,
    path: str,
    *,
    token: str | None = None,
    query: str = "",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return runtime.gateway.dispatch(method, path, query, sent, body)


def echoed_event(reply: tuple[int, dict[str, str], bytes]) -> dict[str, Any]:
    status, _, body = reply
    assert status == 200, body
    return dict(json.loads(body)["event"])


def start(runtime: LocalRuntime, machine: str, execution_input: Mapping[str, Any]) -> str:
    stepfunctions = boto3.client("stepfunctions")
    arn = runtime.description.state_machines[machine].arn
    # Always name executions: moto 5.2.5 names unnamed ones ":None" and refuses the second.
    started = stepfunctions.start_execution(
        stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(execution_input)
    )
    return str(started["executionArn"])


# ------------------------------------------------------------------------------------------------ provisioning
def test_provision_builds_the_real_templates_resources_from_its_own_properties(aws_env: None) -> None:
    # Given the real template's description
    description = describe(REAL_TEMPLATE)
    table = description.tables["CasesTable"]
    with mock_aws(config=MOTO_CONFIG):
        # When it is provisioned in moto
        provision(description, region=REGION)

        # Then the table has the key schema and the GSI the template names
        created = boto3.client("dynamodb").describe_table(TableName=table.name)["Table"]
        assert created["KeySchema"] == table.properties["KeySchema"]
        assert [index["IndexName"] for index in created["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2", "gsi3", "gsi4"]
        assert (
            created["GlobalSecondaryIndexes"][0]["KeySchema"]
            == table.properties["GlobalSecondaryIndexes"][0]["KeySchema"]
        )
        assert created["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        # And the bucket, versioned as in the template, the verified sender and the state machine exist
        bucket = description.buckets["DocumentsBucket"].name
        assert bucket == "omnicity-local-documentsbucket"
        s3 = boto3.client("s3")
        assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == REGION
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        assert boto3.client("ses").list_identities()["Identities"] == ["no-reply@omnicity.example"]
        machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
        assert sorted(machine["stateMachineArn"] for machine in machines) == [
            "arn:aws:states:eu-west-1:123456789012:stateMachine:CardOrderStateMachine",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:DocumentRequestStateMachine",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:DocumentReviewStateMachine",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:FieldServiceStateMachine",
        ]
        # ...each with the Type the template gives it (the document machine's at-once path is Express)
        types = {
            machine.logical_id: boto3.client("stepfunctions").describe_state_machine(stateMachineArn=machine.arn)[
                "type"
            ]
            for machine in description.state_machines.values()
        }
        assert types == {
            "DocumentRequestStateMachine": "EXPRESS",
            "DocumentReviewStateMachine": "STANDARD",
            "FieldServiceStateMachine": "STANDARD",
            "CardOrderStateMachine": "STANDARD",
        }


def test_provision_applies_the_time_to_live_of_a_table(aws_env: None, tiny_template: Path) -> None:
    # Given a template whose table declares a TimeToLiveSpecification
    description = describe(tiny_template)
    with mock_aws(config=MOTO_CONFIG):
        # When it is provisioned
        provision(description, region=REGION)

        # Then the TTL attribute is set on the table
        ttl = boto3.client("dynamodb").describe_time_to_live(TableName="Table")["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


# ------------------------------------------------------------------------------------------------ tokens
@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer({"portal": 3600, "kiosk": 600, "counter": 3600})


def test_a_minted_citizen_token_verifies_with_cognito_shaped_claims(issuer: LocalIssuer) -> None:
    # Given a citizen token minted for the portal
    token = issuer.mint("citizen", VALID_NRN, "portal", email="elise@example.be")

    # When it is verified
    claims = issuer.verify(token)

    # Then it carries the NRN, the audience, no group, and lives one hour
    assert claims["sub"] == claims["custom:nrn"] == VALID_NRN
    assert claims["aud"] == "portal"
    assert claims["iss"] == ISSUER
    assert claims["token_use"] == "id"
    assert claims["email"] == "elise@example.be"
    assert "cognito:groups" not in claims
    assert "custom:departments" not in claims
    assert claims["exp"] - claims["iat"] == 3600


def test_an_agent_token_carries_its_group_and_departments_and_a_kiosk_token_lives_ten_minutes(
    issuer: LocalIssuer,
) -> None:
    # Given an agent token at the counter and a kiosk token
    agent = issuer.verify(issuer.mint("agent", "agent-007", "counter", ["population", "civil-status"]))
    kiosk = issuer.verify(issuer.mint("kiosk", "kiosk-grand-place", "kiosk"))

    # Then the roles are groups, departments are comma-separated, and the kiosk client's lifetime applies
    assert agent["cognito:groups"] == ["agent"]
    assert agent["custom:departments"] == "population,civil-status"
    assert "custom:nrn" not in agent
    assert kiosk["cognito:groups"] == ["kiosk"]
    assert kiosk["exp"] - kiosk["iat"] == 600


def test_a_token_signed_by_another_key_is_refused(issuer: LocalIssuer) -> None:
    # Given a token with the right claims but signed by another issuer's key
    forged = LocalIssuer({"portal": 3600}).mint("citizen", VALID_NRN, "portal")

    # When / Then it is refused
    with pytest.raises(InvalidToken, match=r"[Ss]ignature"):
        issuer.verify(forged)


def test_an_expired_token_is_refused() -> None:
    # Given an issuer whose clock we move, and a token it minted
    now = [time.time()]
    issuer = LocalIssuer({"kiosk": 600}, clock=lambda: now[0])
    token = issuer.mint("kiosk", "kiosk-1", "kiosk")
    assert issuer.verify(token)["sub"] == "kiosk-1"

    # When the kiosk client's ten minutes have passed
    now[0] += 600

    # Then the token is refused
    with pytest.raises(InvalidToken, match="expired"):
        issuer.verify(token)


def test_a_token_for_an_unknown_audience_is_refused(issuer: LocalIssuer) -> None:
    # Given a token minted by the same key for a client this API does not know
    other_clients = LocalIssuer({"portal": 3600, "partner": 3600})
    other_clients._private_key = issuer._private_key  # same key, so only the audience differs
    token = other_clients.mint("citizen", VALID_NRN, "partner")

    # When / Then it is refused for its audience
    with pytest.raises(InvalidToken, match=r"[Aa]udience"):
        issuer.verify(token)


def test_an_access_token_is_refused_where_an_id_token_is_expected(issuer: LocalIssuer) -> None:
    # Given a well signed token whose token_use is "access"
    claims = issuer.verify(issuer.mint("citizen", VALID_NRN, "portal")) | {"token_use": "access"}
    token = jwt.encode(claims, issuer._private_key, algorithm="RS256")

    # When / Then it is refused
    with pytest.raises(InvalidToken, match="token_use"):
        issuer.verify(token)


def test_authorizer_claims_are_strings_as_api_gateway_passes_them(issuer: LocalIssuer) -> None:
    # Given an agent's verified claims
    claims = issuer.verify(issuer.mint("agent", "agent-7", "counter", ["population"]))

    # When API Gateway would pass them to the function
    passed = authorizer_claims(claims)

    # Then every value is a string, dates in API Gateway's format
    assert all(isinstance(value, str) for value in passed.values())
    assert passed["cognito:groups"] == "agent"
    assert passed["auth_time"] == str(claims["auth_time"])
    assert passed["exp"].endswith(time.strftime(" %Y", time.gmtime(claims["exp"])))
    assert " UTC " in passed["exp"]


# ------------------------------------------------------------------------------------------------ gateway
def token_for(runtime: LocalRuntime, body: Mapping[str, Any]) -> str:
    status, _, reply = request(runtime, "POST", "/local/token", body=json.dumps(body).encode())
    assert status == 200, reply
    return str(json.loads(reply)["access_token"])


class TestGateway:
    """The API Gateway emulation over the tiny template's API."""

    def test_a_protected_route_without_a_valid_token_answers_the_templates_unauthorized_body(
        self,
        runtime: LocalRuntime,
    ) -> None:
        # Given the template's UNAUTHORIZED gateway response
        assert runtime.description.api is not None
        expected = runtime.description.api.gateway_responses["UNAUTHORIZED"].body
        forged = LocalIssuer({"portal": 3600}).mint("citizen", VALID_NRN, "portal")

        # When a protected route is called without a token, with garbage, or with a forged token
        replies = [
            request(runtime, "GET", "/v1/cases/c-1"),
            request(runtime, "GET", "/v1/cases/c-1", token="not-a-jwt"),
            request(runtime, "GET", "/v1/cases/c-1", token=forged),
        ]

        # Then each answer is 401 with exactly the template's body
        for status, headers, body in replies:
            assert status == 401
            assert body.decode() == expected
            assert headers["Content-Type"] == "application/json"

    def test_the_proxy_event_has_the_rest_v1_shape_with_string_claims(self, runtime: LocalRuntime) -> None:
        # Given an agent token from the local token route
        token = token_for(
            runtime, {"role": "agent", "sub": "agent-42", "client": "counter", "departments": ["pop", "civ"]}
        )

        # When a protected route is called with a path parameter, repeated query parameters and headers
        event = echoed_event(
            request(
                runtime,
                "GET",
                "/v1/cases/case%2042",
                token=token,
                query="status=open&tag=a&tag=b&empty=",
                headers={"User-Agent": "kiosk-ui/1.0", "X-Trace": "t-1"},
            )
        )

        # Then the event carries what API Gateway's REST proxy integration would
        assert event["resource"] == "/v1/cases/{case_id}"
        assert event["path"] == "/v1/cases/case%2042"
        assert event["httpMethod"] == "GET"
        assert event["pathParameters"] == {"case_id": "case 42"}
        assert event["queryStringParameters"] == {"status": "open", "tag": "b", "empty": ""}
        assert event["multiValueQueryStringParameters"] == {"status": ["open"], "tag": ["a", "b"], "empty": [""]}
        assert event["headers"]["X-Trace"] == "t-1"
        assert event["multiValueHeaders"]["X-Trace"] == ["t-1"]
        assert event["stageVariables"] is None
        assert event["body"] is None
        assert event["isBase64Encoded"] is False
        context = event["requestContext"]
        assert context["stage"] == "dev"
        assert context["path"] == "/dev/v1/cases/case%2042"
        assert context["resourcePath"] == "/v1/cases/{case_id}"
        assert context["httpMethod"] == "GET"
        assert context["accountId"] == "123456789012"
        assert context["apiId"] == "local"
        assert context["identity"]["userAgent"] == "kiosk-ui/1.0"
        assert isinstance(context["requestTimeEpoch"], int)
        uuid.UUID(context["requestId"])
        claims = context["authorizer"]["claims"]
        assert all(isinstance(value, str) for value in claims.values())
        assert claims["sub"] == "agent-42"
        assert claims["aud"] == "counter"
        assert claims["cognito:groups"] == "agent"
        assert claims["custom:departments"] == "pop,civ"

    def test_a_citizen_token_carries_the_nrn_and_the_registers_email(self, runtime: LocalRuntime) -> None:
        # Given a person of the simulated national register
        from omnicity.adapters.registries.national import get_national_register

        person = get_national_register().people()[0]

        # When a token is asked for them on the kiosk, with separators in the NRN
        nrn = person.nrn
        token = token_for(
            runtime,
            {"role": "citizen", "sub": f"{nrn[:2]}.{nrn[2:4]}.{nrn[4:6]}-{nrn[6:9]}.{nrn[9:]}", "client": "kiosk"},
        )
        event = echoed_event(request(runtime, "GET", "/v1/cases/mine", token=token))

        # Then the claims carry the normalized NRN, the register's email and no group
        claims = event["requestContext"]["authorizer"]["claims"]
        assert claims["sub"] == claims["custom:nrn"] == nrn
        assert claims["email"] == person.email
        assert claims["aud"] == "kiosk"
        assert "cognito:groups" not in claims

    def test_a_static_segment_wins_over_a_path_parameter(self, runtime: LocalRuntime) -> None:
        # Given /v1/cases/{case_id} declared before /v1/cases/mine, and a token
        token = token_for(runtime, {"role": "citizen", "sub": VALID_NRN_2000S, "client": "portal"})

        # When /v1/cases/mine and another case are asked
        mine = echoed_event(request(runtime, "GET", "/v1/cases/mine", token=token))
        other = echoed_event(request(runtime, "GET", "/v1/cases/mind", token=token))

        # Then the static route serves "mine" and the parameter route the rest
        assert mine["resource"] == "/v1/cases/mine"
        assert mine["pathParameters"] is None
        assert other["resource"] == "/v1/cases/{case_id}"
        assert other["pathParameters"] == {"case_id": "mind"}

    def test_the_resource_is_chosen_before_the_method(self, runtime: LocalRuntime) -> None:
        # Given /v1/cases/note routed for POST only, beside GET /v1/cases/{case_id}
        token = token_for(runtime, {"role": "citizen", "sub": VALID_NRN, "client": "portal"})

        # When /v1/cases/note is asked with GET
        status, headers, _ = request(runtime, "GET", "/v1/cases/note", token=token)

        # Then the static resource is matched and refuses the method, as API Gateway would not fall back on the
        # parameter route
        assert status == 405
        assert headers["Allow"] == "POST"

    def test_a_public_route_needs_no_token_and_gets_no_authorizer(self, runtime: LocalRuntime) -> None:
        # When the public route is called without a token
        status, _, body = request(runtime, "GET", "/v1/procedures")

        # Then the function answers, with no authorizer in the event, and a Lambda context
        assert status == 200
        answer = json.loads(body)
        assert "authorizer" not in answer["event"]["requestContext"]
        assert answer["event"]["queryStringParameters"] is None
        assert answer["context"]["function_name"] == "EchoFunction"
        assert 0 < answer["context"]["remaining"] <= 5000

    def test_a_body_that_is_not_utf8_reaches_the_function_base64_encoded(self, runtime: LocalRuntime) -> None:
        # When binary and text bodies are posted
        binary = echoed_event(request(runtime, "POST", "/v1/echo", body=b"\xff\xfe\x00"))
        text = echoed_event(request(runtime, "POST", "/v1/echo", body='{"name": "Élise"}'.encode()))

        # Then the binary one is base64 with isBase64Encoded, the text one is passed as text
        assert binary["isBase64Encoded"] is True
        assert base64.b64decode(binary["body"]) == b"\xff\xfe\x00"
        assert text["isBase64Encoded"] is False
        assert json.loads(text["body"]) == {"name": "Élise"}

    def test_the_functions_proxy_response_is_translated(self, runtime: LocalRuntime) -> None:
        # When the function answers a base64 body with single and multi-value headers
        status, headers, body = request(runtime, "GET", "/v1/binary")

        # Then status, merged headers and decoded body come back
        assert status == 201
        assert headers["X-Single"] == "one"
        assert headers["X-Multi"] == "a, b"
        assert body == b"\x00\x01\xff"

    def test_a_crashing_function_answers_502_with_the_templates_5xx_body(self, runtime: LocalRuntime) -> None:
        # When the function raises
        status, _, body = request(runtime, "GET", "/v1/crash")

        # Then the caller gets a 502 with the DEFAULT_5XX body
        assert status == 502
        assert json.loads(body) == {"error": {"code": "unavailable", "message": "tiny template is down"}}

    def test_unknown_routes_answer_404_and_unrouted_methods_405(self, runtime: LocalRuntime) -> None:
        # When an unknown path and a known path with another method are called
        missing_status, _, missing_body = request(runtime, "GET", "/v1/nothing/here")
        method_status, method_headers, method_body = request(runtime, "DELETE", "/v1/procedures")

        # Then 404 not_found and 405 method_not_allowed (with Allow) in the API's error shape
        assert missing_status == 404
        assert json.loads(missing_body)["error"]["code"] == "not_found"
        assert method_status == 405
        assert json.loads(method_body)["error"]["code"] == "method_not_allowed"
        assert method_headers["Allow"] == "GET"

    @pytest.mark.parametrize(
        ("body", "status", "fields"),
        [
            (b"not json", 400, []),
            (b"[]", 400, []),
            (json.dumps({"role": "mayor", "sub": "x", "client": "portal"}).encode(), 422, ["role"]),
            (json.dumps({"role": "citizen", "sub": INVALID_NRN, "client": "portal"}).encode(), 422, ["sub"]),
            (json.dumps({"role": "citizen", "sub": "12345", "client": "portal"}).encode(), 422, ["sub"]),
            (json.dumps({"role": "agent", "sub": "", "client": "counter"}).encode(), 422, ["sub"]),
            (json.dumps({"role": "kiosk", "sub": "k-1", "client": "atm"}).encode(), 422, ["client"]),
            (
                json.dumps({"role": "agent", "sub": "a", "client": "counter", "departments": "pop"}).encode(),
                422,
                ["departments"],
            ),
        ],
    )
    def test_a_bad_token_request_is_refused_naming_the_field(
        self, runtime: LocalRuntime, body: bytes, status: int, fields: list[str]
    ) -> None:
        # When a token is asked with a bad body
        answer_status, _, answer = request(runtime, "POST", "/local/token", body=body)

        # Then the answer is 400 for a body that is no JSON object, 422 naming the fields otherwise
        assert answer_status == status
        error = json.loads(answer)["error"]
        assert [detail["field"] for detail in error["details"]] == fields

    def test_a_token_answer_has_the_oauth_shape_and_the_clients_lifetime(self, runtime: LocalRuntime) -> None:
        # When a kiosk token is asked
        status, _, body = request(
            runtime,
            "POST",
            "/local/token",
            body=json.dumps({"role": "kiosk", "sub": "k-1", "client": "kiosk"}).encode(),
        )

        # Then it is a bearer token valid ten minutes (the kiosk client's IdTokenValidity)
        answer = json.loads(body)
        assert status == 200
        assert answer["token_type"] == "Bearer"
        assert answer["expires_in"] == 600
        assert runtime.issuer.verify(answer["access_token"])["aud"] == "kiosk"

    def test_the_people_route_lists_the_simulated_register(self, runtime: LocalRuntime) -> None:
        from omnicity.adapters.registries.national import get_national_register

        # When the fictional people are asked
        status, _, body = request(runtime, "GET", "/local/people")

        # Then they are the register's people, as JSON
        assert status == 200
        assert json.loads(body) == [person.model_dump(mode="json") for person in get_national_register().people()]

    def test_the_outbox_lists_what_ses_accepted_oldest_first(self, runtime: LocalRuntime) -> None:
        # Given two emails sent through SES from the template's verified sender
        ses = boto3.client("ses")
        for subject in ("first", "second"):
            ses.send_email(
                Source=runtime.description.ses_sender,
                Destination={"ToAddresses": ["elise@example.be"]},
                Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": f"body of {subject}"}}},
            )

        # When the outbox is read
        status, _, body = request(runtime, "GET", "/local/outbox")

        # Then both are there, newest last
        assert status == 200
        assert [(m["to"], m["subject"], m["body"]) for m in json.loads(body)] == [
            (["elise@example.be"], "first", "body of first"),
            (["elise@example.be"], "second", "body of second"),
        ]


# ------------------------------------------------------------------------------------------------ bridge
def test_a_function_folder_with_several_modules_is_refused(tiny_template: Path) -> None:
    # Given a function folder holding a second module beside app.py
    (tiny_template.parent / "functions" / "increment" / "helpers.py").write_text("X = 1\n", encoding="utf-8")
    bridge = LambdaBridge(describe(tiny_template).functions.values())

    # When / Then loading it is refused with the reason
    with pytest.raises(BridgeError, match=r"helpers\.py.*layer"):
        bridge.invoke_function("IncrementFunction", {"value": 1})


class TestLambdaBridge:
    """Handlers run in-process for moto's Step Functions interpreter and Lambda API."""

    def test_handler_return_values_flow_between_states_and_functions_stay_apart(self, runtime: LocalRuntime) -> None:
        # Given a machine Increment -> Double, two functions whose files are both app.py
        # When it runs on 4
        execution = wait_for_execution(start(runtime, "FlowMachine", {"value": 4}), timeout=10)

        # Then each function ran its own code on the previous one's output: (4 + 1) * 10
        assert execution["status"] == "SUCCEEDED", execution
        assert json.loads(execution["output"]) == {"value": 50, "by": "DoubleFunction"}
        assert f"{MODULE_PREFIX}.IncrementFunction" in sys.modules
        assert f"{MODULE_PREFIX}.DoubleFunction" in sys.modules

    def test_a_named_exception_is_caught_by_a_catch_on_that_name(self, runtime: LocalRuntime) -> None:
        # Given a machine whose task raises CaseConflictError, with a Catch on TransientError first
        # When it runs
        execution = wait_for_execution(start(runtime, "CatchMachine", {"case_id": "c-9"}), timeout=10)

        # Then the CaseConflictError Catch took it, with Lambda's error payload as the cause
        assert execution["status"] == "SUCCEEDED", execution
        error = json.loads(execution["output"])["error"]
        assert error["Error"] == "CaseConflictError"
        cause = json.loads(error["Cause"])
        assert cause["errorType"] == "CaseConflictError"
        assert cause["errorMessage"] == "case c-9 changed meanwhile"
        assert cause["stackTrace"]

    def test_a_retry_on_the_exception_name_invokes_again_then_gives_up(self, runtime: LocalRuntime) -> None:
        # Given a task retried once on TransientError, failing once for one key and always for another
        recovering = start(runtime, "RetryMachine", {"key": "recovers", "fail_times": 1})
        failing = start(runtime, "RetryMachine", {"key": "keeps-failing", "fail_times": 99})

        # When both executions end (each waits one retry interval)
        recovered = wait_for_execution(recovering, timeout=10)
        failed = wait_for_execution(failing, timeout=10)

        # Then the first succeeded on its second call, the second failed with the error's name after two calls
        assert recovered["status"] == "SUCCEEDED", recovered
        assert json.loads(recovered["output"]) == {"key": "recovers", "calls": 2}
        assert failed["status"] == "FAILED"
        assert failed["error"] == "TransientError"
        assert runtime.bridge.handler("FlakyFunction").__globals__["CALLS"] == {"recovers": 2, "keeps-failing": 2}

    def test_the_lambda_api_reports_an_unhandled_function_error(self, runtime: LocalRuntime) -> None:
        # When a function that raises is invoked through the Lambda API by ARN
        reply = boto3.client("lambda").invoke(
            FunctionName=runtime.description.functions["BoomFunction"].arn, Payload=json.dumps({"case_id": "c-1"})
        )

        # Then the reply carries Lambda's Unhandled error and payload
        assert reply["FunctionError"] == "Unhandled"
        payload = json.loads(reply["Payload"].read())
        assert payload["errorType"] == "CaseConflictError"
        assert payload["errorMessage"] == "case c-1 changed meanwhile"

    def test_unknown_functions_fall_through_to_moto(self, runtime: LocalRuntime) -> None:
        # Given the bridge knows only the template's functions
        # When a function outside the template is invoked through the Lambda API
        reply = boto3.client("lambda").invoke(FunctionName="NotInTheTemplate", Payload=b'{"hello": 1}')

        # Then moto's own docker-less behaviour applies: the payload is echoed, no handler runs
        assert "FunctionError" not in reply
        assert json.loads(reply["Payload"].read()) == {"hello": 1}


# ------------------------------------------------------------------------------------------------ runtime
def test_stop_restores_the_environment_and_moto(tiny_template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an environment without the functions' variables
    monkeypatch.delenv("TABLE_NAME", raising=False)
    before = dict(os.environ)
    original_invoke = LambdaSimpleBackend.invoke

    # When a runtime starts and stops
    runtime = LocalRuntime(tiny_template, mode="inprocess").start()
    assert os.environ["TABLE_NAME"] == "Table"
    assert os.environ["SENDER_EMAIL"] == "sender@city.example"
    assert LambdaSimpleBackend.invoke is not original_invoke
    assert isinstance(observability.metrics.provider, ThreadIsolatedEMFProvider)  # one process, many functions
    runtime.stop()

    # Then os.environ, moto's invoke and the metrics' provider are as before
    assert dict(os.environ) == before
    assert LambdaSimpleBackend.invoke is original_invoke
    assert not isinstance(observability.metrics.provider, ThreadIsolatedEMFProvider)


def test_a_runtime_has_its_own_folder_beside_the_template_until_it_stops(tiny_template: Path) -> None:
    # Given two runtimes of one template started one after the other
    with LocalRuntime(tiny_template, mode="inprocess") as runtime:
        folder = runtime.folder
        # Then each works in a folder of its own under .local/ beside the template (gitignored)
        assert folder.is_dir()
        assert folder.parent == tiny_template.parent / ".local"
        # And a template whose functions seal nothing gets no seal (no CA, no timestamp authority, no routes)
        with pytest.raises(RuntimeError, match="seals"):
            _ = runtime.seal
        assert runtime.gateway.dispatch("GET", "/local/seal/ca.pem", "", {}, None)[0] == 404
    # When it stops / Then its folder is gone
    assert not folder.exists()
    with LocalRuntime(tiny_template, mode="inprocess") as other:
        assert other.folder != folder


def test_server_mode_serves_http_and_runs_state_machines_through_the_moto_server(tiny_template: Path) -> None:
    # Given the runtime in server mode on free ports, serving HTTP in the background
    with LocalRuntime(tiny_template, mode="server", api_port=0, moto_port=0) as runtime:
        runtime.serve_in_background()

        # When a token is asked and a protected route called over HTTP
        token_request = urllib.request.Request(
            f"{runtime.api_url}/local/token",
            data=json.dumps({"role": "citizen", "sub": VALID_NRN, "client": "portal"}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(token_request, timeout=5) as reply:
            token = json.loads(reply.read())["access_token"]
        case_request = urllib.request.Request(
            f"{runtime.api_url}/v1/cases/c-1?x=1", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(case_request, timeout=5) as reply:
            event = json.loads(reply.read())["event"]
        # And a state machine runs, its Tasks calling Lambda through the moto server
        assert os.environ["AWS_ENDPOINT_URL"] == runtime.moto_url
        execution = wait_for_execution(start(runtime, "FlowMachine", {"value": 1}), timeout=10)

    # Then the API answered with the verified claims and the machine ran the in-process handlers
    assert event["pathParameters"] == {"case_id": "c-1"}
    assert event["requestContext"]["authorizer"]["claims"]["custom:nrn"] == VALID_NRN
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["value"] == 20


def test_concurrent_first_invocations_load_a_handler_once(tiny_template: Path) -> None:
    # Given a fresh bridge
    bridge = LambdaBridge(describe(tiny_template).functions.values())
    loaded: list[object] = []

    # When many threads invoke the same function at once
    def invoke() -> None:
        loaded.append(bridge.handler("IncrementFunction"))

    threads = [threading.Thread(target=invoke) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then they all got the same handler object
    assert len({id(handler) for handler in loaded}) == 1


def held(started: threading.Event, release: threading.Event) -> Callable[[Any], Any]:
    """A handler wrapper (for ``handler_replaced``): the invocation says it started, then waits to be released."""

    def wrap(handler: Any) -> Any:
        def run(event: Any, context: Any) -> Any:
            started.set()
            release.wait(10)
            return handler(event, context)

        return run

    return wrap


def test_a_stopping_bridge_waits_for_running_invocations_and_refuses_new_ones(tiny_template: Path) -> None:
    # Given an invocation at work on another thread (a state machine's step, say) when the runtime stops
    bridge = LambdaBridge(describe(tiny_template).functions.values())
    started, release = threading.Event(), threading.Event()
    results: list[Any] = []
    with bridge.handler_replaced("IncrementFunction", held(started, release)):
        worker = threading.Thread(
            target=lambda: results.append(bridge.invoke_function("IncrementFunction", {"value": 1}))
        )
        worker.start()
        assert started.wait(10)
        # When the bridge drains (stop() does, before moto and the environment go)
        drained: list[list[str]] = []
        drainer = threading.Thread(target=lambda: drained.append(bridge.drain(timeout=10)))
        drainer.start()
        time.sleep(0.2)
        # Then it is still waiting for the running one, and a new invocation is refused
        assert drainer.is_alive()
        with pytest.raises(BridgeError, match="stopping"):
            bridge.invoke_function("DoubleFunction", {"value": 1})
        release.set()
        drainer.join(10)
        worker.join(10)
    # And it returned once the running invocation had finished, with its result
    assert drained == [[]]
    assert results == [{"value": 2, "by": results[0]["by"]}]


def test_a_drain_that_times_out_names_the_functions_still_running(tiny_template: Path) -> None:
    bridge = LambdaBridge(describe(tiny_template).functions.values())
    started, release = threading.Event(), threading.Event()
    with bridge.handler_replaced("DoubleFunction", held(started, release)):
        worker = threading.Thread(target=lambda: bridge.invoke_function("DoubleFunction", {"value": 1}))
        worker.start()
        assert started.wait(10)
        assert bridge.drain(timeout=0.1) == ["DoubleFunction"]
        release.set()
        worker.join(10)
