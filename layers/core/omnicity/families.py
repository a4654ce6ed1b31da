"""The workflow families, declared once: which state machines of template.yaml run a procedure, and what they need.

A procedure's catalogue entry names its ``family``. Everything else that depends on a family reads it from here:
the catalogue refuses, at load, a procedure of an unknown family or without a capability its family's steps rely on
(``omnicity.catalogue``); the functions that start workflows read the ARN of each family's machine from the variable
named here (``omnicity.config``); the template check (``infra/checks/statemachines.py``, run by ``make lint`` and
``tests/unit/test_families.py``) holds these declarations and template.yaml together, both ways: every machine of the
template belongs to one family, with the ASL file, the step functions and the environment named here.

A platform module (beside ``config``): plain data, importing nothing, so that every function may read it at cold start
for nothing.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Machine(NamedTuple):
    """A state machine of template.yaml: its logical id, its ASL file (its ``DefinitionUri``) and the workflow step
    functions its Tasks invoke (template logical ids, each handed to the definition through its
    ``DefinitionSubstitutions`` as ``<logical id>Arn``)."""

    logical_id: str
    definition_uri: str
    steps: tuple[str, ...]


class Family(NamedTuple):
    """One family of procedures and the machines that run its cases.

    ``machine`` is the one a submission starts (one execution per case, named after it): the functions in
    ``started_by`` (template logical ids) find its ARN in their environment variable ``arn_variable``.
    ``hands_over_to``: the machines ``machine`` starts in its turn (a ``states:startExecution`` Task, the execution
    named after the case; its ARN handed to the definition as ``<logical id>Arn``), which run this family's cases only.
    ``capabilities``: what each procedure of the family must declare, because the family's steps read its settings.
    """

    name: str
    machine: Machine
    arn_variable: str
    started_by: tuple[str, ...]
    hands_over_to: tuple[Machine, ...] = ()
    capabilities: tuple[str, ...] = ()

    @property
    def machines(self) -> tuple[Machine, ...]:
        """Its machines in the order a case runs through them: the one a submission starts first."""
        return (self.machine, *self.hands_over_to)


# Step functions several machines share: a submission's checks; the ending (tell the citizen, complete the case, or
# fail it visibly on any error); a person's decision (open the task, record the decision).
_CHECKS: Final = ("ValidateRequestFunction", "CheckEligibilityFunction")
_ENDINGS: Final = ("NotifyFunction", "CompleteCaseFunction", "MarkFailedFunction")
_HUMAN: Final = ("OpenTaskFunction", "RecordDecisionFunction")
_SUBMITTERS: Final = ("ApiFunction",)  # the API submits a case of any procedure

FAMILIES: Final = (
    # Certificates, extracts, permits: issued at once on an Express machine; a case an agent must decide is handed to
    # the Standard review machine, which waits for the agent (Express cannot wait on a task token).
    Family(
        name="document_request",
        machine=Machine(
            "DocumentRequestStateMachine",
            "statemachines/document_request.asl.json",
            (*_CHECKS, "RenderDocumentFunction", *_ENDINGS),
        ),
        hands_over_to=(
            Machine(
                "DocumentReviewStateMachine",
                "statemachines/document_review.asl.json",
                ("RenderDocumentFunction", *_ENDINGS, *_HUMAN),
            ),
        ),
        arn_variable="DOCUMENT_REQUEST_STATE_MACHINE_ARN",
        started_by=_SUBMITTERS,
    ),
    # Alerts and bulky-items collections: every case waits for a field agent's task, which its review declares.
    Family(
        name="field_service",
        machine=Machine(
            "FieldServiceStateMachine", "statemachines/field_service.asl.json", (*_CHECKS, *_ENDINGS, *_HUMAN)
        ),
        arn_variable="FIELD_SERVICE_STATE_MACHINE_ARN",
        started_by=(*_SUBMITTERS, "Open311Function"),  # Open311 files alerts
        capabilities=("review",),
    ),
    # A letter from the card producer: the order waits for the producer's confirmation of the dispatch.
    Family(
        name="card_order",
        machine=Machine(
            "CardOrderStateMachine",
            "statemachines/card_order.asl.json",
            (*_CHECKS, "OrderPinLetterFunction", "RecordDispatchFunction", *_ENDINGS),
        ),
        arn_variable="CARD_ORDER_STATE_MACHINE_ARN",
        started_by=_SUBMITTERS,
        capabilities=("card_order",),
    ),
)
BY_NAME: Final = {family.name: family for family in FAMILIES}


def started_by(function: str) -> tuple[Family, ...]:
    """The families whose workflows the template function ``function`` (a logical id) starts."""
    return tuple(family for family in FAMILIES if function in family.started_by)
