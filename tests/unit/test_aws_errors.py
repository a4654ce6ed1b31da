"""Which AWS failures are transient (retried by the state machines) and which are not: ``aws.translate_errors`` and
the callers that rely on it (DynamoDB, S3, SES), with tiny fake clients."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from omnicity import aws
from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.documents import DocumentStore
from omnicity.adapters.notifications import Email, EmailSender
from omnicity.catalogue import retention_days_of
from omnicity.domain.errors import ConflictError, TransientError
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language

TRANSIENT_CODES = [
    # throttling
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    # the service failing on its side, briefly
    "InternalServerError",
    "InternalError",
    "RequestTimeout",
    "ServiceUnavailable",
    "ServiceUnavailableException",
]
PERMANENT_CODES = ["AccessDenied", "AccessDeniedException", "ValidationException", "ConditionalCheckFailedException"]
URL = "https://dynamodb.eu-west-1.amazonaws.com"
CONNECTION_ERRORS: list[BotoCoreError] = [
    EndpointConnectionError(endpoint_url=URL),
    ConnectTimeoutError(endpoint_url=URL),
    ReadTimeoutError(endpoint_url=URL),
    ConnectionClosedError(endpoint_url=URL),
]


def client_error(code: str, operation: str = "PutItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "from AWS"}}, operation)


@pytest.mark.parametrize("code", TRANSIENT_CODES)
def test_a_transient_client_error_becomes_a_transient_error(code: str) -> None:
    original = client_error(code)
    # When the call inside fails with a transient code
    with pytest.raises(TransientError) as raised, aws.translate_errors("DynamoDB put_item"):
        raise original
    # Then it is a TransientError naming the call and the code, caused by the original
    assert raised.value.__cause__ is original
    assert "DynamoDB put_item" in raised.value.message
    assert code in raised.value.message


@pytest.mark.parametrize("error", CONNECTION_ERRORS, ids=lambda error: type(error).__name__)
def test_a_connection_error_becomes_a_transient_error(error: BotoCoreError) -> None:
    with pytest.raises(TransientError) as raised, aws.translate_errors("S3 put_object"):
        raise error
    assert raised.value.__cause__ is error
    assert type(error).__name__ in raised.value.message


@pytest.mark.parametrize("code", PERMANENT_CODES)
def test_a_permanent_client_error_passes_through_unchanged(code: str) -> None:
    original = client_error(code)
    with pytest.raises(ClientError) as raised, aws.translate_errors("DynamoDB put_item"):
        raise original
    assert raised.value is original


@pytest.mark.parametrize(
    "error",
    [NoCredentialsError(), ParamValidationError(report="Invalid type for parameter Key"), KeyError("nope")],
    ids=lambda error: type(error).__name__,
)
def test_other_errors_pass_through_unchanged(error: Exception) -> None:
    # A botocore error that is not about the connection (a misconfiguration, a bug of ours), or no AWS error at all
    with pytest.raises(type(error)) as raised, aws.translate_errors("SES send_email"):
        raise error
    assert raised.value is error


def test_nothing_happens_when_nothing_fails() -> None:
    with aws.translate_errors("S3 put_object"):
        result = 42
    assert result == 42


# ---------------------------------------------------------------------------------------------- the callers
class Failing:
    """A client whose every operation raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**_: Any) -> Any:
            self.calls.append(operation)
            raise self.error

        return call


def a_case() -> Case:
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    return Case(
        case_id="7d1c4c3e-5f0e-4b59-9a55-0d3f2a1b6c7e",
        reference="BXL-2026-000001",
        procedure_id="residence-certificate",
        applicant=Applicant(nrn="87031413235"),
        channel=Channel.PORTAL,
        language=Language.FR,
        form={},
        status=CaseStatus.SUBMITTED,
        timeline=[],
        submitted_by="citizen",
        created_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize("error", [client_error("InternalError"), ReadTimeoutError(endpoint_url=URL)])
def test_the_repository_retries_through_transient_errors(error: Exception) -> None:
    repository = CaseRepository("cases", client=Failing(error), retention=retention_days_of)
    with pytest.raises(TransientError):
        repository.get(a_case().case_id)
    with pytest.raises(TransientError):
        repository.create(a_case())


def test_the_repository_still_names_a_failed_condition() -> None:
    # A conditional write that loses is a domain conflict, not a transient error nor a raw ClientError
    repository = CaseRepository(
        "cases", client=Failing(client_error("ConditionalCheckFailedException")), retention=retention_days_of
    )
    with pytest.raises(ConflictError):
        repository.create(a_case())


@pytest.mark.parametrize(
    "error", [client_error("SlowDown"), client_error("ServiceUnavailable"), ConnectTimeoutError(endpoint_url=URL)]
)
def test_storing_a_document_fails_transiently(error: Exception) -> None:
    store = DocumentStore("documents", client=Failing(error))
    with pytest.raises(TransientError):
        store.put_pdf("cases/x/doc.pdf", b"%PDF-1.7", reference="BXL-2026-000001")


def test_storing_a_document_where_access_is_denied_is_not_transient() -> None:
    store = DocumentStore("documents", client=Failing(client_error("AccessDenied")))
    with pytest.raises(ClientError):
        store.put_pdf("cases/x/doc.pdf", b"%PDF-1.7", reference="BXL-2026-000001")


@pytest.mark.parametrize(
    "error", [client_error("ServiceUnavailableException"), EndpointConnectionError(endpoint_url=URL)]
)
def test_sending_an_email_fails_transiently(error: Exception) -> None:
    sender = EmailSender("noreply@example.be", client=Failing(error))
    with pytest.raises(TransientError):
        sender.send(Email(to="elise@example.be", subject="s", body="b"))
