"""The local runtime's speed-ups of moto (infra/local/moto_speedups.py) keep AWS's behaviour.

- Executions of one state machine share one parsed program: executions running at once each count their own Retry
  attempts (every component's heap key is drawn before any execution runs), and each gets its own result.
- A Query on the table's own key answers the partition's items, in key order both ways, paginated, whatever the
  other partitions hold.
- An item over DynamoDB's size limit is refused as before; one just under it is stored whole.
- User pools sign with moto's own key, imported once for all of them.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import boto3
import pytest

from infra.local import moto_speedups
from infra.local.bridge import Handler
from infra.local.retry_intervals import ENV_RETRY_SCALE
from infra.local.runtime import LocalRuntime, wait_for_execution
from tests.conftest import fresh_runtime

STEP = "NotifyFunction"  # any template function: its handler is replaced below
RETRIES = 2


class FlakyError(Exception):
    """The error the replaced step raises (an ASL Retry matches it by name)."""


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """This module's platform, with ASL Retry intervals slept at 1/100."""
    with mock.patch.dict(os.environ, {ENV_RETRY_SCALE: "0.01"}), fresh_runtime("inprocess") as local:
        yield local


def definition(function_arn: str) -> str:
    return json.dumps(
        {
            "StartAt": "Step",
            "States": {
                "Step": {
                    "Type": "Task",
                    "Resource": function_arn,
                    "Retry": [{"ErrorEquals": ["FlakyError"], "IntervalSeconds": 1, "MaxAttempts": RETRIES}],
                    "End": True,
                }
            },
        }
    )


def test_every_component_of_a_cached_program_has_its_heap_key_before_any_execution(runtime: LocalRuntime) -> None:
    from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsDecl

    # Given a definition with a Retry (its attempts are counted in the heap, by component key)
    text = definition(runtime.bridge.functions[STEP].arn)
    # When it is parsed through the cache
    program = moto_speedups.parsed_program(text)
    # Then it is parsed once for every execution, and no key is left to draw lazily by racing threads
    assert moto_speedups.parsed_program(text) is program
    components = list(moto_speedups._eval_components(program))
    assert any(isinstance(component, MaxAttemptsDecl) for component in components)
    assert all(vars(component).get("_EvalComponent__heap_key") for component in components)


def test_executions_running_at_once_each_count_their_own_retry_attempts(runtime: LocalRuntime) -> None:
    stepfunctions = boto3.client("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name=f"speedups-{uuid.uuid4().hex[:8]}",
        definition=definition(runtime.bridge.functions[STEP].arn),
        roleArn="arn:aws:iam::123456789012:role/speedups",
    )["stateMachineArn"]
    attempts: dict[str, int] = {}
    lock = threading.Lock()

    def count_then(fail_after: int) -> Callable[[Handler], Handler]:
        def wrap(_: Handler) -> Handler:
            def handler(event: Any, context: Any) -> Any:
                with lock:
                    attempts[event["id"]] = attempts.get(event["id"], 0) + 1
                    seen = attempts[event["id"]]
                if seen <= fail_after:
                    raise FlakyError(f"attempt {seen}")
                return {"id": event["id"], "attempts": seen}

            return handler

        return wrap

    def run(ids: list[str]) -> list[dict[str, Any]]:
        def one(execution_id: str) -> dict[str, Any]:
            arn = stepfunctions.start_execution(
                stateMachineArn=machine, name=execution_id, input=json.dumps({"id": execution_id})
            )
            return wait_for_execution(arn["executionArn"], timeout=30, client=stepfunctions)

        with ThreadPoolExecutor(max_workers=len(ids)) as pool:
            return list(pool.map(one, ids))

    # When eight executions of one machine retry a failing step at the same time
    failing = [f"fails-{index}" for index in range(8)]
    with runtime.bridge.handler_replaced(STEP, count_then(fail_after=99)):
        results = run(failing)
    # Then each gave up after its own 1 + MaxAttempts attempts
    assert [result["status"] for result in results] == ["FAILED"] * len(failing)
    assert {result["error"] for result in results} == {"FlakyError"}
    assert attempts == dict.fromkeys(failing, 1 + RETRIES)

    # And when the step succeeds at its last attempt, each execution ends with its own output
    succeeding = [f"succeeds-{index}" for index in range(8)]
    with runtime.bridge.handler_replaced(STEP, count_then(fail_after=RETRIES)):
        results = run(succeeding)
    assert [json.loads(result["output"]) for result in results] == [
        {"id": execution_id, "attempts": 1 + RETRIES} for execution_id in succeeding
    ]


@pytest.fixture(scope="module")
def dynamodb(runtime: LocalRuntime) -> Any:
    return boto3.client("dynamodb")


def test_a_query_on_the_table_key_answers_its_partition_in_order(dynamodb: Any, table: str) -> None:
    # Given three partitions sharing sort keys, written out of order
    for pk in ("SPEED#b", "SPEED#a", "SPEED#c"):
        for sk in ("ITEM#3", "ITEM#1", "OTHER#1", "ITEM#2"):
            dynamodb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}, "owner": {"S": pk}})

    def sort_keys(**query: Any) -> list[str]:
        reply = dynamodb.query(TableName=table, **query)
        assert {item["owner"]["S"] for item in reply["Items"]} <= {"SPEED#a"}
        return [item["sk"]["S"] for item in reply["Items"]]

    partition = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "SPEED#a"}}}
    prefix = {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": "SPEED#a"}, ":prefix": {"S": "ITEM#"}},
    }
    # Then a Query answers that partition's items only, in sort key order, either way
    assert sort_keys(**partition) == ["ITEM#1", "ITEM#2", "ITEM#3", "OTHER#1"]
    assert sort_keys(**prefix, ScanIndexForward=False) == ["ITEM#3", "ITEM#2", "ITEM#1"]
    # And pages through it
    first = dynamodb.query(TableName=table, **prefix, Limit=2)
    assert [item["sk"]["S"] for item in first["Items"]] == ["ITEM#1", "ITEM#2"]
    rest = dynamodb.query(TableName=table, **prefix, Limit=2, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [item["sk"]["S"] for item in rest["Items"]] == ["ITEM#3"]
    # And a partition with no item answers none
    empty = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "SPEED#none"}}}
    assert dynamodb.query(TableName=table, **empty)["Items"] == []


def test_an_item_over_the_size_limit_is_refused_and_one_under_it_stored_whole(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "SPEED#size"}, "sk": {"S": "ITEM"}}
    # Given attributes that fit only together under the limit (each far under it)
    chunk = "x" * 100_000
    fitting = {f"a{index}": {"S": chunk} for index in range(4)}
    dynamodb.put_item(TableName=table, Item={**key, **fitting})
    stored = dynamodb.get_item(TableName=table, Key=key)["Item"]
    assert {name: stored[name] for name in fitting} == fitting
    # When one more such attribute takes the item over the limit, the write is refused and the item unchanged
    with pytest.raises(dynamodb.exceptions.ClientError, match="Item size has exceeded the maximum allowed size"):
        dynamodb.put_item(TableName=table, Item={**key, **fitting, "a4": {"S": chunk}})
    assert "a4" not in dynamodb.get_item(TableName=table, Key=key)["Item"]


def test_user_pools_sign_with_moto_s_bundled_key_imported_once(runtime: LocalRuntime) -> None:
    from joserfc import jwk
    from moto.cognitoidp import models
    from moto.utilities.utils import load_resource

    # Given two user pools created while the speed-ups are installed (the template's are two more)
    cognito = boto3.client("cognito-idp")
    created = [cognito.create_user_pool(PoolName=f"speed-{n}")["UserPool"]["Id"] for n in range(2)]
    keys = [models.cognitoidp_backends["123456789012"][runtime.region].user_pools[p].json_web_key for p in created]
    # Then they share one key object, and it is moto's own bundled key
    assert keys[0] is keys[1]
    bundled = jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    assert keys[0].as_dict(private=True) == bundled.as_dict(private=True)
