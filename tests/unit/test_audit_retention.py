"""A closed case's earlier items get their TTL in batches; what DynamoDB leaves unprocessed is sent again."""

from __future__ import annotations

from typing import Any

import pytest

from omnicity.adapters.audit import AuditTrail
from omnicity.catalogue import retention_days_of
from omnicity.domain.errors import TransientError


class FakeTable:
    """Answers the audit Query with ``entries``; leaves the last item of each batch unprocessed ``refusals`` times."""

    def __init__(self, entries: list[dict[str, Any]], refusals: int) -> None:
        self.entries = entries
        self.refusals = refusals
        self.batches: list[list[dict[str, Any]]] = []

    def query(self, **_: Any) -> dict[str, Any]:
        return {"Items": self.entries}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:  # noqa: N803
        [(table, requests)] = RequestItems.items()
        self.batches.append([request["PutRequest"]["Item"] for request in requests])
        if self.refusals:
            self.refusals -= 1
            return {"UnprocessedItems": {table: requests[-1:]}}
        return {"UnprocessedItems": {}}


def entry(n: int, **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": "CASE#c1"}, "sk": {"S": f"AUDIT#2026-11-29T10:00:0{n}#e{n}"}, "type": {"S": "audit"}, **extra}


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("omnicity.adapters.audit.time.sleep", lambda _: None)


def test_entries_without_ttl_and_the_pointers_are_written_back_whole_with_it_in_batches_of_25() -> None:
    # Given 30 entries (one already stamped) and a pointer
    stamped = entry(0, expires_at={"N": "1"})
    table = FakeTable([stamped, *(entry(n % 10) for n in range(1, 30))], refusals=0)
    pointer = {"pk": {"S": "REF#BXL-2026-000001"}, "sk": {"S": "REF"}, "type": {"S": "ref"}, "case_id": {"S": "c1"}}
    # When the case's items are retained
    AuditTrail("CasesTable", table, retention=retention_days_of).retain("c1", 1_900_000_000, [pointer])
    # Then the 29 unstamped entries and the pointer went in two batches, each item whole, with the TTL added
    assert [len(batch) for batch in table.batches] == [25, 5]
    written = [item for batch in table.batches for item in batch]
    assert all(item["expires_at"] == {"N": "1900000000"} for item in written)
    assert written[-1] == {**pointer, "expires_at": {"N": "1900000000"}}
    assert stamped not in written


def test_unprocessed_items_are_sent_again_and_a_lasting_refusal_is_transient() -> None:
    table = FakeTable([entry(1), entry(2)], refusals=2)
    AuditTrail("CasesTable", table, retention=retention_days_of).retain("c1", 1_900_000_000)
    assert [[item["sk"]["S"][-2:] for item in batch] for batch in table.batches] == [["e1", "e2"], ["e2"], ["e2"]]
    refusing = FakeTable([entry(1)], refusals=10)
    with pytest.raises(TransientError):
        AuditTrail("CasesTable", refusing, retention=retention_days_of).retain("c1", 1_900_000_000)
    assert len(refusing.batches) == 4  # the first send and three more
