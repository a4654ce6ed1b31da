"""A naive API handler, the cold start benchmark's reference point: what a function looks like when everything it
might need is created at import (Powertools' REST resolver, a boto3 client, a pydantic model). Never deployed."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

app = APIGatewayRestResolver(enable_validation=True)
table = boto3.client("dynamodb")


class Item(BaseModel):
    item_id: str
    quantity: int


@app.get("/items/<item_id>")
def get_item(item_id: str) -> dict[str, Any]:
    found = table.get_item(TableName="items", Key={"item_id": {"S": item_id}}).get("Item", {})
    return Item(item_id=item_id, quantity=int(found.get("quantity", {}).get("N", "0"))).model_dump()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
