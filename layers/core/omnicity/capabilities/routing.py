"""Routing: the department that handles a case, by the value of one of its form fields (an alert's category).

``omnicity.capabilities.departments`` applies it; Open311 publishes the routed field's choices as its services.
"""

from __future__ import annotations

from omnicity.capabilities.base import Capability, Settings, register
from omnicity.domain.models import FieldType, Procedure


class RoutingSettings(Settings):
    field: str
    departments: dict[str, str]


@register
class Routing(Capability[RoutingSettings]):
    name = "routing"
    settings_model = RoutingSettings

    def check_procedure(self, procedure: Procedure, settings: RoutingSettings) -> None:
        field = next((field for field in procedure.fields if field.name == settings.field), None)
        if field is None or field.type is not FieldType.CHOICE:
            raise ValueError(f"field {settings.field!r} must be a choice field of the form")
        unknown = set(settings.departments) - {choice.value for choice in field.choices or []}
        if unknown:
            raise ValueError(f"departments names values the field does not offer: {sorted(unknown)}")
