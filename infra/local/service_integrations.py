"""Let moto's Step Functions interpreter run the ``states:startExecution`` service integration as AWS does.

A Task ``arn:aws:states:::states:startExecution`` names its parameters as the Step Functions API does
(``StateMachineArn``, ``Name``, ``Input``) and reads the reply the same way (``ExecutionArn``, ``StartDate``). The
interpreter moto took from LocalStack hands those parameters to a boto3 client unchanged, but a boto3 client wants its
own names (``stateMachineArn``...): the call fails with ``States.Runtime`` (``KeyError: 'StateMachineArn'``), because
moto left the name mapping of its service integrations a stub. Installed, the mapping follows the operation's botocore
shapes, both ways, for this integration only (the Lambda tasks, the only others the template uses, already work).

The started execution runs in the same moto backend (in-process, or the moto server at ``MOTO_PORT``), so an Express
execution hands a case on to a Standard one locally as on AWS. Process-wide while installed, like the Lambda bridge.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Final

_SERVICE: Final = "stepfunctions"
_MAPPED: Final = ("_normalise_parameters", "_normalise_response")


class _Installed:
    """moto's methods while the mapping is installed: the class's own, or None where it inherits the base's."""

    originals: dict[str, Callable[..., Any] | None] = {}


@cache
def _operation_model(action: str) -> Any:
    import botocore.session

    operation = action[:1].upper() + action[1:]  # the ASL resource's action, e.g. startExecution -> StartExecution
    return botocore.session.get_session().get_service_model(_SERVICE).operation_model(operation)


def install_service_integrations() -> None:
    """Map the ``states:*`` integration's parameters to boto3's names, and its replies back to the ASL names."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    if _Installed.originals:
        return
    normalise_parameters: Callable[..., Any] = StateTaskServiceSfn._normalise_parameters
    normalise_response: Callable[..., Any] = StateTaskServiceSfn._normalise_response

    def parameters_as_boto(
        task: Any,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        normalise_parameters(task, parameters, boto_service_name, service_action_name)  # Input becomes a JSON string
        if service_action_name is None:  # the Task's own call (not the resolver of a .sync pattern)
            task._to_boto_request(parameters, _operation_model(task.resource.api_action).input_shape)

    def response_as_asl(
        task: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        normalise_response(task, response, boto_service_name, service_action_name)
        action = service_action_name or task.resource.api_action
        task._from_boto_response(response, _operation_model(_camel(action)).output_shape)

    _Installed.originals = {name: vars(StateTaskServiceSfn).get(name) for name in _MAPPED}
    replacements = {"_normalise_parameters": parameters_as_boto, "_normalise_response": response_as_asl}
    for name, replacement in replacements.items():
        setattr(StateTaskServiceSfn, name, replacement)


def restore_service_integrations() -> None:
    """moto's own (unmapped) integration again."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    for name, original in _Installed.originals.items():
        if original is None:
            delattr(StateTaskServiceSfn, name)  # inherited again
        else:
            setattr(StateTaskServiceSfn, name, original)
    _Installed.originals = {}


def _camel(action: str) -> str:
    """``describe_execution`` (how the interpreter names its own follow-up calls) -> ``describeExecution``."""
    head, *rest = action.split("_")
    return head + "".join(word.title() for word in rest)
