"""Anonymous reports: anyone may file a case of the procedure without an account (``POST /v1/reports``, Open311),
and follow it by its reference; its cases are public (Open311 lists them). A signed-in citizen may still submit one.
"""

from __future__ import annotations

from omnicity.capabilities.base import Capability, Settings, register
from omnicity.domain.errors import ForbiddenError
from omnicity.domain.models import Procedure


class AnonymousReportsSettings(Settings):
    pass


@register
class AnonymousReports(Capability[AnonymousReportsSettings]):
    name = "anonymous_reports"
    settings_model = AnonymousReportsSettings

    @classmethod
    def check_report(cls, procedure: Procedure) -> None:
        """A report without an account is for the procedures that declare this capability (403 otherwise)."""
        if cls.settings(procedure) is None:
            raise ForbiddenError(f"{procedure.id} needs you to sign in")

    @classmethod
    def is_public(cls, procedure: Procedure) -> bool:
        """Whether the procedure's cases are public (Open311 lists them; anyone with a reference follows one)."""
        return cls.settings(procedure) is not None
