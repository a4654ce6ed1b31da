"""The origin browsers may call the API from (AllowedOrigin, ALLOWED_ORIGIN): ``*`` is for dev and local use. A prod
stack refuses it twice: at deploy time (template.yaml's ProdNamesItsOrigin rule) and at the API function's cold start
(omnicity.config.ApiSettings), with a message that says what to pass."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, Final

import pytest
from pydantic import ValidationError

from infra.local.template import Resolver, describe, load_template
from omnicity.config import ApiSettings, load_settings
from omnicity.domain.errors import ConfigurationError
from tests.conftest import TEMPLATE

PORTAL: Final = "https://my.brussels.example"
TEMPLATE_DOCUMENT: Final = load_template(TEMPLATE)
MALFORMED: Final = [
    f"{PORTAL}/",  # a browser's Origin never ends with a slash: it would match no request
    f"{PORTAL}/portal",
    f"{PORTAL},https://kiosk.brussels.example",  # one origin, not a list
    "my.brussels.example",
    "null",
    " *",
]


def api_environment(**parameters: str) -> dict[str, str]:
    """The API function's environment as the template gives it, for these parameter overrides."""
    return dict(_environment(tuple(sorted(parameters.items()))))


@cache
def _environment(parameters: tuple[tuple[str, str], ...]) -> Mapping[str, str]:
    return describe(TEMPLATE, dict(parameters)).functions["ApiFunction"].environment


def test_the_templates_default_is_for_dev_only() -> None:
    # Given the template's defaults (Stage=dev, AllowedOrigin=*); Then the API starts
    assert ApiSettings.model_validate(api_environment()).allowed_origin == "*"
    # and a developer's portal on http://localhost is an origin too
    assert ApiSettings.model_validate(api_environment(AllowedOrigin="http://localhost:5173")).allowed_origin


@pytest.mark.parametrize("origin", ["*", "http://my.brussels.example"])
def test_in_prod_the_api_refuses_any_origin_but_the_portals_https_one(origin: str) -> None:
    # Given a prod stack deployed without the portal's https origin
    environment = api_environment(Stage="prod", AllowedOrigin=origin)
    # Then the API's settings are refused, naming the variable
    with pytest.raises(ValidationError, match="ALLOWED_ORIGIN"):
        ApiSettings.model_validate(environment)


def test_in_prod_the_portals_origin_is_taken() -> None:
    environment = api_environment(Stage="prod", AllowedOrigin=PORTAL)
    assert ApiSettings.model_validate(environment).allowed_origin == PORTAL


@pytest.mark.parametrize("origin", MALFORMED)
def test_what_is_no_origin_is_refused_in_every_stage(origin: str) -> None:
    environment = {**api_environment(), "ALLOWED_ORIGIN": origin}
    with pytest.raises(ValidationError, match="ALLOWED_ORIGIN"):
        ApiSettings.model_validate(environment)


@pytest.fixture
def prod_environment_with_any_origin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in api_environment(Stage="prod").items():
        monkeypatch.setenv(name, value)
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


@pytest.mark.usefixtures("prod_environment_with_any_origin")
def test_the_cold_start_fails_with_a_message_saying_what_to_pass() -> None:
    # Given the API function starting in a prod stack whose AllowedOrigin was left at *
    # When it loads its settings (at import, as a cold start does)
    with pytest.raises(ConfigurationError) as refused:
        load_settings(ApiSettings)
    # Then the error names the variable, the reason and what to deploy with
    message = str(refused.value)
    assert "ALLOWED_ORIGIN" in message
    assert "in prod" in message
    assert "AllowedOrigin=https://" in message


# ------------------------------------------------------------------------- the template's own checks
def rule_allows(**parameters: str) -> bool:
    """Whether CloudFormation's Rules let a stack with these parameters be created or updated."""
    resolver = Resolver(TEMPLATE_DOCUMENT, parameters)
    for rule in TEMPLATE_DOCUMENT.get("Rules", {}).values():
        applies = "RuleCondition" not in rule or resolver.resolve(rule["RuleCondition"]) is True
        if applies and not all(resolver.resolve(assertion["Assert"]) is True for assertion in rule["Assertions"]):
            return False
    return True


def test_a_prod_deployment_without_an_origin_is_refused_before_anything_changes() -> None:
    assert not rule_allows(Stage="prod")  # the default origin, *
    assert not rule_allows(Stage="prod", AllowedOrigin="*")
    # (a prod stack also names its timestamp authority: tests/unit/test_seal_template.py)
    assert rule_allows(Stage="prod", AllowedOrigin=PORTAL, SealTimestampUrl="https://tsa.city.example/tsr")
    assert rule_allows(Stage="dev")


def allowed_pattern() -> Any:
    return TEMPLATE_DOCUMENT["Parameters"]["AllowedOrigin"]["AllowedPattern"]


@pytest.mark.parametrize("origin", [*MALFORMED, "*", PORTAL, "http://localhost:5173", "https://x.example:8443"])
def test_the_parameters_pattern_and_the_settings_agree_on_what_an_origin_is(origin: str) -> None:
    # CloudFormation refuses at deploy time what the function would refuse at its cold start, and nothing else
    by_template = re.fullmatch(str(allowed_pattern()), origin) is not None
    try:
        ApiSettings.model_validate({**api_environment(), "ALLOWED_ORIGIN": origin})
        by_settings = True
    except ValidationError:
        by_settings = False
    assert by_template == by_settings
