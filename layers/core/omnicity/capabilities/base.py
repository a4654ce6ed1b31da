"""What a capability is, the fixed points of a case's life where the platform calls it, and the registry.

A capability is something a procedure can do besides filling in its form: a human review, routing by a form field, a
booked day, photos, anonymous reports, a card order; next, a fee, a signature, an appointment, a stock of items. A
procedure's catalogue entry declares the capabilities it uses, each with its settings::

    capabilities:
      booking: {field: collection_date, capacity_per_day: 40, cancellable_until_days_before: 2}
      review: {department: cleanliness, kind: visit, instructions: {...}}

Each capability is one module of this package: a :class:`Capability` subclass, registered by :func:`register`, with
its ``settings_model`` (validated when the catalogue loads: an unknown capability or a wrong setting stops the
process at cold start, never a request) and the hooks it needs. The platform calls every capability a procedure
declares, in the procedure's order, at these points (a hook a capability does not define does nothing):

===================  =========================================================  ==================================
hook                 when                                                       context
===================  =========================================================  ==================================
``check_procedure``  the catalogue loads (settings against the form)            the procedure
``form_problems``    a submission, once the form is valid, before any write     :class:`Submission`
``reserve``          a submission, before the case is stored                    :class:`Submission`
``release``          the submission failed after ``reserve`` (case not stored,  :class:`Submission`
                     workflow not started)
``cancellation``     a citizen asks to cancel: whether, and until when          :class:`Cancellation`
``on_cancelled``     the case was cancelled (once)                              :class:`Cancellation`
``closing_writes``   the case fails: writes in the same transaction             :class:`Closure`
``on_failed``        the case failed (once): give back what was reserved        :class:`Closure`
``task_ids``         a case's file lists its agents' tasks                      the case's id
``describe``         ``GET /v1/procedures/{id}``: what a client may rely on     the procedure
===================  =========================================================  ==================================

Nothing outside a capability's module reads its settings' fields: other code asks the module
(``Review.settings(procedure)``) or calls the hooks through :class:`Capabilities`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar, Final, Generic, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from omnicity.domain.errors import ConfigurationError, OmnicityError
from omnicity.domain.models import Case, Procedure
from omnicity.observability import logger

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class Settings(BaseModel):
    """A capability's settings, as the catalogue writes them: frozen, and no key the capability does not know. Built
    when first used (``defer_build``): a function that never reads a capability's settings never pays for them."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


# ---------------------------------------------------------------------------------------------------- the contexts
class Places(Protocol):
    """Places on a day (``omnicity.adapters.slots.SlotBook``)."""

    def today(self) -> date: ...

    def book(self, procedure_id: str, day: date, capacity: int) -> None: ...

    def free(self, procedure_id: str, day: date) -> None: ...

    def booked_between(self, procedure_id: str, first: date, last: date) -> dict[str, int]: ...


class UploadCheck(Protocol):
    """Which upload keys are unusable: never uploaded, or not the image their key says
    (``omnicity.adapters.documents``)."""

    def unusable(self, keys: list[str], path: str) -> list[dict[str, Any]]: ...


class TaskWithdrawal(Protocol):
    """Takes a cancelled case's open task out of its queue and ends the workflow waiting on it
    (``omnicity.application.desk.AgentDesk``)."""

    def withdraw(self, case_id: str, kind: str, actor: str) -> None: ...


class TaskCloser(Protocol):
    """The writes that close a case's pending task, conditional on its version (``omnicity.adapters.tasks``), with the
    audit entry that records it (``omnicity.adapters.cases``); none when no task is pending."""

    def closing_writes(self, case: Case, task_id: str) -> list[dict[str, Any]]: ...


# The contexts and the cancel terms are named tuples: immutable values, and the cheapest classes to define at a cold
# start (measured here: a pydantic model or a dataclass costs several times more to define).
class Submission(NamedTuple):
    """What the submission hooks may use."""

    places: Places
    uploads: UploadCheck


class Cancellation(NamedTuple):
    """What the cancellation hooks may use. ``today``: the city's date."""

    places: Places
    withdrawals: TaskWithdrawal
    actor: str
    today: date


class Closure(NamedTuple):
    """What the hooks of a failing case may use."""

    tasks: TaskCloser
    places: Places


class CancelTerms(NamedTuple):
    """A capability's say on cancelling a case: ``allowed`` (it offers cancelling) until ``until`` (the last day, in
    the city's calendar; None: while the case is open); ``refusal`` when it forbids it now, with the field it names."""

    allowed: bool
    until: date | None = None
    refusal: str | None = None
    field: str | None = None


class CapabilityDescription(BaseModel):
    """A capability of a procedure as ``GET /v1/procedures/{id}`` publishes it: its name and its public settings."""

    model_config = ConfigDict(frozen=True)

    name: str
    settings: dict[str, Any]


# ---------------------------------------------------------------------------------------------------- the base
class Capability(Generic[SettingsT]):
    """One capability: its catalogue name, its settings model and its hooks (each does nothing unless overridden)."""

    name: ClassVar[str]
    settings_model: type[SettingsT]
    public: ClassVar[frozenset[str] | None] = None  # the settings ``describe`` publishes (None: all of them)

    @classmethod
    def settings(cls, procedure: Procedure) -> SettingsT | None:
        """The procedure's settings of this capability; None when it does not declare it."""
        raw = procedure.capabilities.get(cls.name)
        if raw is None:
            return None
        if isinstance(raw, cls.settings_model):
            return raw
        return cls.settings_model.model_validate(raw)

    @classmethod
    def required(cls, procedure: Procedure) -> SettingsT:
        """The procedure's settings of this capability; a ConfigurationError when it does not declare it."""
        settings = cls.settings(procedure)
        if settings is None:
            raise ConfigurationError(f"{procedure.id} does not declare the {cls.name} capability")
        return settings

    @classmethod
    def implied_by(cls, procedure: Procedure) -> bool:
        """Whether the procedure must declare this capability (e.g. a photos field needs ``photos``)."""
        return False

    def check_procedure(self, procedure: Procedure, settings: SettingsT) -> None:
        """Refuse (ValueError) settings that do not fit the procedure, when the catalogue loads."""

    def form_problems(self, procedure: Procedure, form: Mapping[str, Any], context: Submission) -> list[dict[str, Any]]:
        return []

    def reserve(self, procedure: Procedure, case: Case, context: Submission) -> None:
        return None

    def release(self, procedure: Procedure, case: Case, context: Submission) -> None:
        return None

    def cancellation(self, procedure: Procedure, case: Case, context: Cancellation) -> CancelTerms | None:
        return None

    def on_cancelled(self, procedure: Procedure, case: Case, context: Cancellation, *, first: bool) -> None:
        """``first``: this call cancelled the case (False: a repeated cancel, which finishes what a failed one left)."""
        return

    def closing_writes(self, procedure: Procedure, case: Case, context: Closure) -> list[dict[str, Any]]:
        return []

    def on_failed(self, procedure: Procedure, case: Case, context: Closure) -> None:
        """The case failed (called once, by the call that failed it): give back what the submission reserved."""
        return

    def task_ids(self, procedure: Procedure, case_id: str) -> list[str]:
        """The ids of the agents' tasks this capability keeps for the case (its file lists them)."""
        return []

    def describe(self, procedure: Procedure) -> CapabilityDescription:
        include = set(self.public) if self.public is not None else None
        settings = self.required(procedure).model_dump(mode="json", include=include, exclude_none=True)
        return CapabilityDescription(name=self.name, settings=settings)


_REGISTRY: dict[str, Capability[Any]] = {}

CapabilityT = TypeVar("CapabilityT", bound=type[Capability[Any]])


def register(cls: CapabilityT) -> CapabilityT:
    """Class decorator: the catalogue accepts ``cls.name`` and the platform calls its hooks."""
    existing = _REGISTRY.get(cls.name)
    if existing is not None and type(existing) is not cls:
        raise ValueError(f"two capabilities named {cls.name!r}")
    _REGISTRY[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    """Forget a capability (a test's own, once the test is over)."""
    _REGISTRY.pop(name, None)


def registered(name: str) -> Capability[Any]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown capability {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def validate_capabilities(procedure: Procedure) -> Procedure:
    """The procedure with each declared capability's settings validated into its model, and checked against the
    procedure; ValueError naming the capability and the setting otherwise. Called by the catalogue when it loads."""
    validated: dict[str, BaseModel] = {}
    for name, raw in procedure.capabilities.items():
        capability = registered(name)
        try:
            settings = capability.settings_model.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or name}: {err['msg']}" for err in exc.errors())
            raise ValueError(f"{procedure.id}: capabilities.{name}: {problems}") from None
        validated[name] = settings
    checked = procedure.model_copy(update={"capabilities": validated})
    for name, settings in validated.items():
        try:
            registered(name).check_procedure(checked, settings)
        except ValueError as exc:
            raise ValueError(f"{procedure.id}: capabilities.{name}: {exc}") from None
    for name, capability in sorted(_REGISTRY.items()):
        if name not in validated and capability.implied_by(checked):
            raise ValueError(f"{procedure.id}: declare the {name} capability (the procedure needs it)")
    return checked


class Capabilities:
    """The hooks of a procedure's capabilities, called in the order the procedure declares them. Stateless (the
    capabilities are the registry's): the platform uses the one :data:`CAPABILITIES`."""

    def of(self, procedure: Procedure) -> Iterator[Capability[Any]]:
        for name in procedure.capabilities:
            yield registered(name)

    def form_problems(self, procedure: Procedure, form: Mapping[str, Any], context: Submission) -> list[dict[str, Any]]:
        return [problem for cap in self.of(procedure) for problem in cap.form_problems(procedure, form, context)]

    def reserve(self, procedure: Procedure, case: Case, context: Submission) -> list[Capability[Any]]:
        """Reserve with each capability in turn; when one fails, those that reserved already release, and the
        error goes on. Returns the capabilities that reserved (to release them if what follows fails)."""
        done: list[Capability[Any]] = []
        try:
            for capability in self.of(procedure):
                capability.reserve(procedure, case, context)
                done.append(capability)
        except Exception:
            self.release(procedure, case, context, done)
            raise
        return done

    @staticmethod
    def release(procedure: Procedure, case: Case, context: Submission, reserved: Sequence[Capability[Any]]) -> None:
        for capability in reversed(reserved):
            capability.release(procedure, case, context)

    def cancellation(self, procedure: Procedure, case: Case, context: Cancellation) -> list[CancelTerms]:
        terms = (capability.cancellation(procedure, case, context) for capability in self.of(procedure))
        return [term for term in terms if term is not None]

    def on_cancelled(self, procedure: Procedure, case: Case, context: Cancellation, *, first: bool) -> None:
        for capability in self.of(procedure):
            capability.on_cancelled(procedure, case, context, first=first)

    def closing_writes(self, procedure: Procedure, case: Case, context: Closure) -> list[dict[str, Any]]:
        return [write for cap in self.of(procedure) for write in cap.closing_writes(procedure, case, context)]

    def on_failed(self, procedure: Procedure, case: Case, context: Closure) -> None:
        """Each capability in turn; one that fails does not keep the others from giving back theirs (logged)."""
        for capability in self.of(procedure):
            try:
                capability.on_failed(procedure, case, context)
            except OmnicityError:
                logger.exception("a failed case's reservation was not given back", extra={"case_id": case.case_id})

    def task_ids(self, procedure: Procedure, case_id: str) -> list[str]:
        return [task_id for capability in self.of(procedure) for task_id in capability.task_ids(procedure, case_id)]

    def describe(self, procedure: Procedure) -> list[CapabilityDescription]:
        return [capability.describe(procedure) for capability in self.of(procedure)]


CAPABILITIES: Final = Capabilities()
