"""Settings, validated once at cold start from the environment template.yaml gives each function.

A missing setting is a deployment error: it fails loudly (no silent default table name).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from omnicity.domain.errors import ConfigurationError
from omnicity.families import started_by


class CoreSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    documents_bucket: str = Field(alias="DOCUMENTS_BUCKET", min_length=1)
    stage: str = Field(alias="STAGE", default="dev")


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")  # as template.yaml's AllowedOrigin AllowedPattern


def _present(value: object) -> object:
    """An absent variable is reported as a missing field (``Field required``), as any other setting's is."""
    if value is None:
        raise PydanticCustomError("missing", "Field required")
    return value


StateMachineArn = Annotated[str, Field(min_length=1), BeforeValidator(_present)]


class StartsWorkflows(CoreSettings):
    """The settings of a function that starts workflows (``function``: its logical id in template.yaml): the ARN of
    the machine a submission of each family it starts runs first, read from the variable the family names
    (``omnicity.families``), each one required like any other setting."""

    function: ClassVar[str]
    # by variable name (a missing or empty one is named in the error)
    state_machine_arns: Mapping[str, StateMachineArn]

    @model_validator(mode="before")
    @classmethod
    def _read_family_arns(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        variables = [family.arn_variable for family in started_by(cls.function)]
        return {**data, "state_machine_arns": {variable: data.get(variable) for variable in variables}}

    def state_machine_arn(self, family: str) -> str:
        """The ARN of the machine a submission of ``family`` starts (ConfigurationError when this function starts no
        workflow of that family)."""
        for candidate in started_by(self.function):
            if candidate.name == family:
                return self.state_machine_arns[candidate.arn_variable]
        raise ConfigurationError(f"the {self.function} starts no state machine of the procedure family {family!r}")


class ApiSettings(StartsWorkflows):
    function = "ApiFunction"

    portal_client_id: str = Field(alias="PORTAL_CLIENT_ID", min_length=1)
    kiosk_client_id: str = Field(alias="KIOSK_CLIENT_ID", min_length=1)
    counter_client_id: str = Field(alias="COUNTER_CLIENT_ID", min_length=1)
    # the agents' user pool: who a task may be handed to (omnicity.adapters.agents)
    agents_user_pool_id: str = Field(alias="AGENTS_USER_POOL_ID", min_length=1)
    document_url_ttl_seconds: int = Field(alias="DOCUMENT_URL_TTL_SECONDS", default=300, ge=30, le=3600)
    allowed_origin: str = Field(alias="ALLOWED_ORIGIN", min_length=1)
    portal_url: str = Field(alias="PORTAL_URL", pattern=r"^https?://")
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=1)  # Idempotency-Key records
    sender_email: str = Field(alias="SENDER_EMAIL", min_length=3)  # an agent's question is emailed to the citizen
    # Anonymous reports one source address may file per window (omnicity.adapters.throttle), and wrong hand-off codes
    # one citizen may try per window before the next attempt is refused (429).
    anonymous_report_limit: int = Field(alias="ANONYMOUS_REPORT_LIMIT", default=10, ge=1, le=100_000)
    anonymous_report_window_seconds: int = Field(alias="ANONYMOUS_REPORT_WINDOW_SECONDS", default=600, ge=1, le=86_400)
    handoff_failure_limit: int = Field(alias="HANDOFF_FAILURE_LIMIT", default=5, ge=1, le=100)
    handoff_failure_window_seconds: int = Field(alias="HANDOFF_FAILURE_WINDOW_SECONDS", default=900, ge=60, le=86_400)

    @field_validator("allowed_origin")
    @classmethod
    def _one_explicit_origin_in_prod(cls, value: str, info: ValidationInfo) -> str:
        """The origin browsers may call the API from: ``*`` (any site) outside prod only; in prod the portal's own,
        served over https (template.yaml's ProdNamesItsOrigin rule refuses ``*`` at deploy time too)."""
        if value != "*" and not _ORIGIN.fullmatch(value):
            raise ValueError("an origin, scheme://host[:port] without a path (or * outside prod)")
        if info.data.get("stage") == "prod" and not value.startswith("https://"):
            raise ValueError("in prod, the portal's https origin (AllowedOrigin=https://...), not * or http")
        return value


class SealSettings(CoreSettings):
    """The city's seal on the documents the renderer issues (``omnicity.adapters.sealing``, docs/seal.md): the KMS key
    that signs (an asymmetric, sign-only key: its id, ARN or alias), the SSM parameter holding the certificate chain
    that certifies it (PEM, the seal's certificate first) and the RFC 3161 timestamp authority's URL."""

    seal_key_id: str = Field(alias="SEAL_KEY_ID", min_length=1)
    seal_certificate_parameter: str = Field(alias="SEAL_CERTIFICATE_PARAMETER", min_length=1)
    seal_timestamp_url: str = Field(alias="SEAL_TIMESTAMP_URL", pattern=r"^https?://[^\s]+$")


class RenderSettings(SealSettings):
    """The document step's: the seal, and the portal's verification page each document prints for its code."""

    portal_url: str = Field(alias="PORTAL_URL", pattern=r"^https?://")


class NotifySettings(CoreSettings):
    sender_email: str = Field(alias="SENDER_EMAIL", min_length=3)


class StalledCasesSettings(CoreSettings):
    """The stalled-case sweep: how long a case may stay submitted or in progress without a step moving it. Longer
    than any execution can run without moving it (an Express run stops at 5 minutes, retries take seconds)."""

    stalled_after_minutes: int = Field(alias="STALLED_AFTER_MINUTES", ge=10, le=1440)


class CardProducerSettings(CoreSettings):
    """The simulated card producer: how long after an order it dispatches the letter (and confirms it)."""

    card_producer_delay_seconds: int = Field(alias="CARD_PRODUCER_DELAY_SECONDS", ge=0, le=1_209_600)


OPEN311_DEMO_API_KEY = "omnicity-open311-demo-key"  # the template's default, for local use; refused in prod


class Open311Settings(StartsWorkflows):
    """The Open311 GeoReport v2 function: files alerts (starting the workflows ``omnicity.families`` says it starts)
    and lists them."""

    function = "Open311Function"

    open311_api_keys: str = Field(alias="OPEN311_API_KEYS", min_length=16)
    document_url_ttl_seconds: int = Field(alias="DOCUMENT_URL_TTL_SECONDS", default=300, ge=30, le=3600)
    # Anonymous requests one client (api_key and source address) may file per window (omnicity.adapters.throttle)
    anonymous_report_limit: int = Field(alias="ANONYMOUS_REPORT_LIMIT", default=10, ge=1, le=100_000)
    anonymous_report_window_seconds: int = Field(alias="ANONYMOUS_REPORT_WINDOW_SECONDS", default=600, ge=1, le=86_400)

    @field_validator("open311_api_keys")
    @classmethod
    def _real_keys(cls, value: str, info: ValidationInfo) -> str:
        keys = [key.strip() for key in value.split(",")]
        if any(len(key) < 16 for key in keys):
            raise ValueError("comma-separated keys of at least 16 characters each")
        if info.data.get("stage") == "prod" and OPEN311_DEMO_API_KEY in keys:
            raise ValueError("the demo key is for local use only")
        return value

    @property
    def api_keys(self) -> tuple[str, ...]:
        return tuple(key.strip() for key in self.open311_api_keys.split(","))


SettingsT = TypeVar("SettingsT", bound=CoreSettings)


@cache
def load_settings(kind: type[SettingsT]) -> SettingsT:
    try:
        return kind.model_validate(dict(os.environ))
    except ValidationError as exc:
        # each variable with pydantic's reason, which never quotes the value (a key, a secret)
        problems = "; ".join(f"{err['loc'][-1]} ({err['msg']})" for err in exc.errors())
        raise ConfigurationError(f"{kind.__name__}: missing or invalid environment variables: {problems}") from exc
