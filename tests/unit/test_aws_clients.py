"""``omnicity.aws``: one client per service for the endpoint and region the environment names when it is asked for.

The local runtime runs every function in one process and changes os.environ when it starts and stops; tests patch
os.environ while a runtime's threads work. A client created while ``AWS_ENDPOINT_URL`` was briefly missing must never
be handed out once the endpoint is back (a CI run once saw every later API call go to AWS itself and fail with 503)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from omnicity import aws

MOTO_A = "http://127.0.0.1:5001"
MOTO_B = "http://127.0.0.1:5002"


@pytest.fixture(autouse=True)
def clean_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws.reset_clients()
    yield
    aws.reset_clients()  # later tests build their own


def test_a_client_is_made_once_per_service_while_the_environment_stays_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO_A)
    first = aws.dynamodb()
    assert aws.dynamodb() is first
    assert aws.s3() is not first
    assert first.meta.endpoint_url == MOTO_A


def test_a_client_made_without_the_endpoint_is_not_handed_out_once_it_is_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO_A)
    local = aws.dynamodb()
    # A moment with no endpoint (os.environ cleared and refilled by a patch ending, on another thread)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    stray = aws.dynamodb()
    assert "amazonaws.com" in stray.meta.endpoint_url
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO_A)
    assert aws.dynamodb() is local


def test_another_endpoint_or_region_gets_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO_A)
    first = aws.stepfunctions()
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO_B)
    second = aws.stepfunctions()
    assert second.meta.endpoint_url == MOTO_B
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    third = aws.stepfunctions()
    assert third.meta.region_name == "eu-central-1"
    assert len({id(first), id(second), id(third)}) == 3


def test_reset_forgets_every_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", MOTO_A)
    before = aws.ses()
    aws.reset_clients()
    assert aws.ses() is not before


def test_a_call_to_aws_itself_is_refused_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # tests/conftest.py refuses to resolve AWS's own names and fails the test that asked: asked here on purpose
    import boto3
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    from tests import aws_guard

    direct = boto3.client("dynamodb", region_name="eu-west-1", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(EndpointConnectionError):
        direct.list_tables()
    assert aws_guard.take() == ["dynamodb.eu-west-1.amazonaws.com"]


def test_a_thread_of_a_stopped_runtime_is_reported_not_blamed_on_the_running_test() -> None:
    # A background thread asking for AWS while no local runtime runs (one that outlived its runtime) is not the fault
    # of whichever test runs then: it is reported on stderr, and the test is not failed for it
    import threading

    import boto3
    from botocore.config import Config

    from tests import aws_guard

    def stray() -> None:
        client = boto3.client("ses", region_name="eu-west-1", config=Config(retries={"total_max_attempts": 1}))
        with contextlib.suppress(Exception):
            client.list_identities()

    before = len(aws_guard.STRAYED)
    thread = threading.Thread(target=stray)
    thread.start()
    thread.join(10)
    assert aws_guard.STRAYED[before:] == ["email.eu-west-1.amazonaws.com"]
    assert aws_guard.take() == []
