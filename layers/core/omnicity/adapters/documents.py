"""Documents of a case: rendered (``omnicity.adapters.rendering``: jinja2 wording, fpdf2 layout), stored in S3, handed
out through short-lived presigned URLs. Objects are private; the key never leaves the platform.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict

from omnicity import aws
from omnicity.domain.errors import ConflictError, TransientError, field_error

_NAMESPACE = uuid.UUID("5b0d1f7e-3c5a-4b1e-9f2d-6a8c0e4b7d21")


def document_id_for(case_id: str, kind: str, language: str) -> str:
    """Deterministic, so a retried render finds the object an earlier attempt stored instead of leaving orphans."""
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

    def put_pdf(self, key: str, content: bytes, *, reference: str, retention_days: int | None = None) -> str:
        """Store the PDF under ``key`` unless an object is there already, tagged with its procedure's retention (which
        the bucket's lifecycle rules enforce); the SHA-256 (hex) of the object ``key`` holds afterwards.

        The first write wins (S3's conditional write, ``If-None-Match: *``): a sealed document differs at each
        sealing (its signing time, its timestamp), so a retried step or a duplicate execution must not replace the
        object whose digest a case may already hold. S3 checks the bytes it receives against their SHA-256 and keeps
        it; when an object was there already, its digest is read back from S3 (HeadObject), never recomputed."""
        from botocore.exceptions import ClientError

        digest = hashlib.sha256(content).digest()
        try:
            with aws.translate_errors("S3 put_object"):
                self.client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=content,
                    ContentType="application/pdf",
                    ContentDisposition=f'attachment; filename="{reference}.pdf"',
                    Metadata={"reference": reference},
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=base64.b64encode(digest).decode("ascii"),
                    IfNoneMatch="*",
                    **({"Tagging": f"retention-days={retention_days}"} if retention_days else {}),
                )
        except ClientError as exc:
            if aws.error_code(exc) == "ConditionalRequestConflict":  # another write of the key is in progress
                raise TransientError(f"S3 put_object: {key} is being written by another request") from exc
            if aws.error_code(exc) not in ("PreconditionFailed", "412"):
                raise
            return self.stored_sha256(key)
        return digest.hex()

    def stored_sha256(self, key: str) -> str:
        """The SHA-256 (hex) S3 holds for the object ``key`` (stored by :meth:`put_pdf`)."""
        with aws.translate_errors("S3 head_object"):
            head = self.client.head_object(Bucket=self._bucket, Key=key, ChecksumMode="ENABLED")
        checksum = head.get("ChecksumSHA256")
        if not isinstance(checksum, str) or "-" in checksum:  # "-<parts>": a multipart upload's, not the object's
            raise ConflictError(f"{key} is stored without the SHA-256 of its bytes: it was not stored by put_pdf")
        return base64.b64decode(checksum).hex()

    def presigned_url(self, key: str, ttl_seconds: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=ttl_seconds
        )
        return url


UPLOAD_TYPES = {"image/jpeg": "jpg", "image/png": "png"}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# What an upload's first bytes must be, by the extension of its key: the file formats' own signatures
SIGNATURES = {"jpg": (b"\xff\xd8\xff", "JPEG"), "png": (b"\x89PNG\r\n\x1a\n", "PNG")}
SIGNATURE_BYTES = 16  # read from each upload: more than the longest signature


class UploadSlot(BaseModel):
    """Where and how to upload one photo: a presigned S3 POST bound to its key, type and size."""

    model_config = ConfigDict(frozen=True)

    key: str
    url: str
    fields: dict[str, str]
    expires_in: int
    max_bytes: int


class Uploads:
    """Photo uploads straight to S3 (presigned POST): the API never carries the bytes. Keys are
    ``uploads/<owner>/<id>.<ext>``, the owner being the uploader's opaque id, so a form can only reference its own;
    and only once its first bytes are the JPEG or PNG its extension says (:meth:`unusable`)."""

    def __init__(self, bucket: str, client: Any | None = None, ttl_seconds: int = 300) -> None:
        self._bucket = bucket
        self._client = client
        self._ttl = ttl_seconds

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.s3()
        return self._client

    def slot(self, owner: str, content_type: str) -> UploadSlot:
        extension = UPLOAD_TYPES[content_type]
        key = f"uploads/{owner}/{uuid.uuid4().hex}.{extension}"
        with aws.translate_errors("S3 generate_presigned_post"):
            post = self.client.generate_presigned_post(
                Bucket=self._bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_UPLOAD_BYTES]],
                ExpiresIn=self._ttl,
            )
        return UploadSlot(
            key=key, url=post["url"], fields=post["fields"], expires_in=self._ttl, max_bytes=MAX_UPLOAD_BYTES
        )

    def unusable(self, keys: list[str], path: str) -> list[dict[str, Any]]:
        """A field error (``<path>[<index>]``) for each key a form or an answer may not reference: never uploaded, or
        whose first bytes are not the image its extension names. The presigned POST bound only the *declared* type:
        the bytes themselves are checked here, with one ranged GET of each key's first bytes."""
        problems = []
        for index, key in enumerate(keys):
            reason = self._problem(key)
            if reason is not None:
                problems.append(field_error(f"{path}[{index}]", reason))
        return problems

    def _problem(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        extension = key.rpartition(".")[2]
        try:
            with aws.translate_errors("S3 get_object"):
                response = self.client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{SIGNATURE_BYTES - 1}")
                head: bytes = response["Body"].read(SIGNATURE_BYTES)
                response["Body"].close()
        except ClientError as exc:
            if aws.error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return "no such upload (upload the photo first)"
            if aws.error_code(exc) != "InvalidRange":  # an empty object: no signature (S3 refuses the range)
                raise
            head = b""
        signature, kind = SIGNATURES.get(extension, (None, extension))
        if signature is None or not head.startswith(signature):
            return f"not a {kind} image"
        return None
