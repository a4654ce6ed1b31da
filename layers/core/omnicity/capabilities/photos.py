"""Photos: the form's photos fields hold keys of the signed-in person's own uploads (``POST /v1/uploads``). At
submission each must have been uploaded and be the JPEG or PNG its key says (422 naming it). A photo stays private
until an agent of the handling department publishes it (``omnicity.application.back_office``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omnicity.capabilities.base import Capability, CapabilityDescription, Settings, Submission, register
from omnicity.domain.models import FieldType, Procedure


class PhotosSettings(Settings):
    pass


def photo_fields(procedure: Procedure) -> list[str]:
    return [field.name for field in procedure.fields if field.type is FieldType.PHOTOS]


@register
class Photos(Capability[PhotosSettings]):
    name = "photos"
    settings_model = PhotosSettings

    @classmethod
    def implied_by(cls, procedure: Procedure) -> bool:
        return bool(photo_fields(procedure))

    def check_procedure(self, procedure: Procedure, settings: PhotosSettings) -> None:
        if not photo_fields(procedure):
            raise ValueError("the form has no photos field")

    def form_problems(self, procedure: Procedure, form: Mapping[str, Any], context: Submission) -> list[dict[str, Any]]:
        problems: list[dict[str, Any]] = []
        for name in photo_fields(procedure):
            problems += context.uploads.unusable([str(key) for key in form.get(name, [])], f"form.{name}")
        return problems

    def describe(self, procedure: Procedure) -> CapabilityDescription:
        return CapabilityDescription(name=self.name, settings={"fields": photo_fields(procedure)})
