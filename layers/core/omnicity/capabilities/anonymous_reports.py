"""Anonymous reports: anyone may file a case of the procedure without an account (``POST /v1/reports``, Open311),
and follow it by its reference; its cases are public (Open311 lists them). A signed-in citizen may still submit one.
"""

from __future__ import annotations

from omnicity.capabilities.base import Capability, Settings, register


class AnonymousReportsSettings(Settings):
    pass


@register
class AnonymousReports(Capability[AnonymousReportsSettings]):
    name = "anonymous_reports"
    settings_model = AnonymousReportsSettings
