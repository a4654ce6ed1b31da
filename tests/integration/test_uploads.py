"""Uploads a form or an answer may reference, against the template's bucket (moto): a key that was never uploaded, or
whose first bytes are not the image its extension names, is a field error; one ranged GET per key decides."""

from __future__ import annotations

import io
import uuid

import boto3
import pytest
from PIL import Image

from infra.local.runtime import LocalRuntime
from omnicity.adapters.documents import Uploads
from tests.fakes import CountingClient


def image(kind: str) -> bytes:
    """A real 2x2 image, as a camera or a phone would save it."""
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


JPEG, PNG = image("JPEG"), image("PNG")


@pytest.fixture(scope="module")
def bucket(runtime: LocalRuntime) -> str:
    return runtime.description.buckets["DocumentsBucket"].name


def uploaded(bucket: str, extension: str, content: bytes | None) -> str:
    """A key under a fresh owner's uploads, with ``content`` put there (None: never uploaded)."""
    key = f"uploads/{uuid.uuid4().hex}/{uuid.uuid4().hex}.{extension}"
    if content is not None:
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=content)
    return key


def test_real_jpeg_and_png_photos_are_accepted_with_one_ranged_get_each(bucket: str) -> None:
    # Given a JPEG and a PNG, each under its own extension
    keys = [uploaded(bucket, "jpg", JPEG), uploaded(bucket, "png", PNG)]
    client = CountingClient(boto3.client("s3"))
    # When a form references them
    problems = Uploads(bucket, client=client).unusable(keys, "form.photos")
    # Then both are usable, each read once
    assert problems == []
    assert client.calls == ["get_object", "get_object"]


@pytest.mark.parametrize(
    ("extension", "content", "reason"),
    [
        ("jpg", b"just some text, uploaded as image/jpeg", "not a JPEG image"),
        ("jpg", PNG, "not a JPEG image"),  # a PNG under a .jpg key: the extension and the bytes disagree
        ("png", JPEG, "not a PNG image"),
        ("png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a PNG image"),
        ("jpg", b"\xff\xd8", "not a JPEG image"),  # a signature cut short
        ("jpg", b"", "not a JPEG image"),  # nothing at all
        ("jpg", None, "no such upload (upload the photo first)"),
    ],
    ids=["text", "png-as-jpg", "jpeg-as-png", "svg", "truncated", "empty", "never-uploaded"],
)
def test_an_upload_that_is_not_the_image_its_name_says_is_named_by_its_field(
    bucket: str, extension: str, content: bytes | None, reason: str
) -> None:
    # Given a real photo, then the upload under test
    keys = [uploaded(bucket, "jpg", JPEG), uploaded(bucket, extension, content)]
    # When a form references both
    problems = Uploads(bucket).unusable(keys, "form.photos")
    # Then the second one is refused, named by its place in the field
    assert problems == [{"field": "form.photos[1]", "reason": reason}]
