"""Documents of a case: rendered (``omnicity.rendering``: jinja2 wording, fpdf2 layout), stored in S3, handed out
through short-lived presigned URLs. Objects are private; the key never leaves the platform.
"""

from __future__ import annotations

import uuid
from typing import Any

from omnicity import aws
from omnicity.errors import TransientError

_NAMESPACE = uuid.UUID("5b0d1f7e-3c5a-4b1e-9f2d-6a8c0e4b7d21")


def document_id_for(case_id: str, kind: str, language: str) -> str:
    """Deterministic, so a retried render overwrites the same object instead of leaving orphans."""
    return "doc-" + uuid.uuid5(_NAMESPACE, f"{case_id}/{kind}/{language}").hex[:20]


def document_key(case_id: str, document_id: str) -> str:
    return f"cases/{case_id}/{document_id}.pdf"


class DocumentStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self._bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.s3()
        return self._client

    def put_pdf(self, key: str, content: bytes, *, reference: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=content,
                ContentType="application/pdf",
                ContentDisposition=f'attachment; filename="{reference}.pdf"',
                Metadata={"reference": reference},
            )
        except ClientError as exc:
            if aws.error_code(exc) in aws.TRANSIENT_ERROR_CODES:
                raise TransientError("S3 put_object throttled or unavailable") from exc
            raise

    def presigned_url(self, key: str, ttl_seconds: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=ttl_seconds
        )
        return url
