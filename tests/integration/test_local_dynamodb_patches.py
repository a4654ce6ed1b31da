"""The local runtime's patches of moto's DynamoDB keep DynamoDB's behaviour: a cancelled transaction changes no item
(rolled back item by item, not by copying the table), and item reads answer exactly what was written."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime


@pytest.fixture(scope="module")
def dynamodb(runtime: LocalRuntime) -> Any:
    return boto3.client("dynamodb")


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "ITEM"}}


def test_a_cancelled_transaction_leaves_every_item_it_named_as_it_was(dynamodb: Any, table: str) -> None:
    # Given an item, and another table item the transaction does not name
    dynamodb.put_item(TableName=table, Item={**key("TX#kept"), "v": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={**key("TX#other"), "v": {"N": "7"}})
    # When a transaction updates it, creates another, deletes the third... and one condition fails
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key("TX#kept"),
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": table, "Item": {**key("TX#new"), "v": {"N": "3"}}}},
                {"Delete": {"TableName": table, "Key": key("TX#other")}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": key("TX#refused"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    # Then nothing changed: the update undone, the new item gone, the deleted one back
    assert dynamodb.get_item(TableName=table, Key=key("TX#kept"))["Item"]["v"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key("TX#new"))
    assert dynamodb.get_item(TableName=table, Key=key("TX#other"))["Item"]["v"] == {"N": "7"}
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key("TX#refused"))
    # And a transaction that succeeds writes all its items
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": key("TX#kept"),
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "4"}},
                }
            },
            {"Put": {"TableName": table, "Item": {**key("TX#new"), "v": {"N": "5"}}}},
        ]
    )
    assert dynamodb.get_item(TableName=table, Key=key("TX#kept"))["Item"]["v"] == {"N": "4"}
    assert dynamodb.get_item(TableName=table, Key=key("TX#new"))["Item"]["v"] == {"N": "5"}


def test_item_reads_answer_exactly_what_was_written_binary_and_nested_values_included(
    dynamodb: Any, table: str
) -> None:
    item = {
        **key("JSON#item"),
        "text": {"S": "Élise, 1000 Bruxelles"},
        "number": {"N": "1.50"},
        "blob": {"B": b"\x00\xffPDF"},
        "blobs": {"BS": [b"\x01", b"\x02"]},
        "names": {"SS": ["fr", "nl"]},
        "nested": {"M": {"list": {"L": [{"S": "a"}, {"N": "2"}, {"BOOL": True}, {"NULL": True}]}}},
    }
    dynamodb.put_item(TableName=table, Item=item)
    read = dynamodb.get_item(TableName=table, Key=key("JSON#item"), ConsistentRead=True)["Item"]
    queried = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "JSON#item"}},
    )
    updated = dynamodb.update_item(
        TableName=table,
        Key=key("JSON#item"),
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "number"},
        ExpressionAttributeValues={":n": {"N": "2"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert read == item
    assert queried["Items"] == [item]
    assert queried["Count"] == queried["ScannedCount"] == 1
    assert updated == {**item, "number": {"N": "2"}}
