"""template.yaml's web ACL in front of the API: a rate rule per source IP on every anonymous write (each starts a
workflow and an agent's task), AWS managed rules that let the API's own bodies through, the association with the API's
stage, and an alarm when the rate rule refuses someone. The rule's statement is evaluated here, the way WAF would, on
requests made from the template's own routes: a new anonymous POST route the rule does not cover fails this test."""

from __future__ import annotations

import json
import posixpath
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

import pytest

from infra.local.template import ApiRoute, describe, load_template
from omnicity.application.views import ErrorResponse
from omnicity.http.edge import MAX_BODY_BYTES, SECURITY_HEADERS
from tests.conftest import TEMPLATE

TEMPLATE_DOCUMENT: Final = load_template(TEMPLATE)
RESOURCES: Final[dict[str, Any]] = TEMPLATE_DOCUMENT["Resources"]
DESCRIPTION: Final = describe(TEMPLATE)
assert DESCRIPTION.api is not None
API_ID: Final = DESCRIPTION.api.logical_id
WAF_BODY_INSPECTION_BYTES: Final = 8 * 1024  # what WAF inspects of a body on API Gateway (and Common's size limit)


def of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == resource_type}


def web_acl() -> dict[str, Any]:
    (acl,) = of_type("AWS::WAFv2::WebACL").values()
    return dict(acl["Properties"])


def rate_rule() -> dict[str, Any]:
    (rule,) = [rule for rule in web_acl()["Rules"] if "RateBasedStatement" in rule["Statement"]]
    return dict(rule)


# ------------------------------------------------------------------------- a small evaluator of WAF statements
def transform(text: str, transformations: list[Mapping[str, Any]]) -> str:
    for step in sorted(transformations, key=lambda step: int(step["Priority"])):
        kind = step["Type"]
        if kind == "NONE":
            continue
        if kind == "URL_DECODE":
            text = urllib.parse.unquote(text)
        elif kind == "LOWERCASE":
            text = text.lower()
        elif kind == "NORMALIZE_PATH":
            text = posixpath.normpath(re.sub("/+", "/", text)) + ("/" if text.endswith("/") else "")
        else:
            raise AssertionError(f"a text transformation this test does not model: {kind}")
    return text


def matches(statement: Mapping[str, Any], method: str, path: str) -> bool:
    """Whether WAF's statement matches a request (method and URI path: what these statements look at)."""
    if "AndStatement" in statement:
        return all(matches(inner, method, path) for inner in statement["AndStatement"]["Statements"])
    if "OrStatement" in statement:
        return any(matches(inner, method, path) for inner in statement["OrStatement"]["Statements"])
    if "NotStatement" in statement:
        return not matches(statement["NotStatement"]["Statement"], method, path)
    byte_match = statement["ByteMatchStatement"]
    (field,) = byte_match["FieldToMatch"]
    value = {"Method": method, "UriPath": path}[field]
    text, search = transform(value, byte_match["TextTransformations"]), str(byte_match["SearchString"])
    constraint = byte_match["PositionalConstraint"]
    return {
        "EXACTLY": text == search,
        "STARTS_WITH": text.startswith(search),
        "ENDS_WITH": text.endswith(search),
        "CONTAINS": search in text,
    }[constraint]


def sample_path(route: ApiRoute) -> str:
    """The route's path with each parameter filled (Open311's {document} is requests.json on a POST)."""
    return re.sub(r"\{[^}]+\}", "requests.json", route.path)


def anonymous_writes() -> list[ApiRoute]:
    return [route for route in DESCRIPTION.routes if not route.requires_auth and route.method in ("POST", "PUT")]


# ------------------------------------------------------------------------- the rate rule
def test_the_rate_rule_counts_per_source_ip_up_to_a_template_parameter() -> None:
    statement = rate_rule()["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP"
    assert statement["Limit"] == {"Ref": "AnonymousWriteRateLimit"}
    parameter = TEMPLATE_DOCUMENT["Parameters"]["AnonymousWriteRateLimit"]
    assert parameter["Type"] == "Number"
    assert int(parameter["MinValue"]) <= int(parameter["Default"])
    assert int(parameter["MinValue"]) >= 10  # WAF's lowest rate limit


def test_there_are_anonymous_writes_to_cover() -> None:
    # the reports of the portal and Open311's requests: if this changes, the rule's scope must be read again
    assert {(route.method, route.path) for route in anonymous_writes()} == {
        ("POST", "/v1/reports"),
        ("POST", "/open311/v2/{document}"),
    }


@pytest.mark.parametrize("route", anonymous_writes(), ids=lambda route: f"{route.method} {route.path}")
def test_the_rate_rule_covers_each_anonymous_write_however_its_path_is_written(route: ApiRoute) -> None:
    scope = rate_rule()["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    path = sample_path(route)
    stage = DESCRIPTION.api.stage_name if DESCRIPTION.api else ""
    # on the execute-api host (the stage first), behind a custom domain (no stage), encoded, or with doubled slashes
    for written in (f"/{stage}{path}", path, f"/{stage}{path}".replace("/v", "/%76"), f"/{stage}/{path}"):
        assert matches(scope, route.method, written), written


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/dev/v1/reports/BXL-2026-000001"),  # following one's report
        ("GET", "/dev/open311/v2/requests.json"),  # the public listing
        ("POST", "/dev/v1/cases"),  # a signed-in citizen's case: the authorizer knows who it is
        ("POST", "/dev/v1/uploads"),
        ("POST", "/dev/v1/agent/tasks/t-1/complete"),
    ],
)
def test_the_rate_rule_leaves_reads_and_signed_in_writes_alone(method: str, path: str) -> None:
    scope = rate_rule()["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert not matches(scope, method, path)


def test_the_rate_rule_answers_429_with_the_apis_error_shape_first_of_all_rules() -> None:
    rule = rate_rule()
    assert rule["Priority"] == min(other["Priority"] for other in web_acl()["Rules"])
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    headers = {header["Name"]: header["Value"] for header in response["ResponseHeaders"]}
    assert int(headers["Retry-After"]) > 0
    assert headers["Access-Control-Allow-Origin"] == {"Ref": "AllowedOrigin"}  # the portal can read the refusal
    assert {name: headers.get(name) for name in SECURITY_HEADERS} == dict(SECURITY_HEADERS)  # like every answer
    body = web_acl()["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    assert ErrorResponse.model_validate(json.loads(body["Content"])).error.code == "too_many_requests"


# ------------------------------------------------------------------------- managed rules, association, alarm
def managed_groups() -> dict[str, dict[str, Any]]:
    return {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]: rule
        for rule in web_acl()["Rules"]
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }


def test_the_web_acl_is_regional_allows_by_default_and_takes_the_managed_rules() -> None:
    acl = web_acl()
    assert acl["Scope"] == "REGIONAL"  # API Gateway REST APIs take regional web ACLs
    assert acl["DefaultAction"] == {"Allow": {}}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= set(managed_groups())
    for rule in acl["Rules"]:
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
        assert rule["VisibilityConfig"]["MetricName"] == rule["Name"]


def test_the_common_rules_let_the_bodies_the_api_accepts_through() -> None:
    # Given the Common rule set, which blocks bodies past 8 KB, and the API, which takes bodies up to MAX_BODY_BYTES
    group = managed_groups()["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    overrides = {override["Name"]: override["ActionToUse"] for override in group.get("RuleActionOverrides", [])}
    # Then its size rule only counts them, for as long as the API takes larger bodies than it allows
    assert MAX_BODY_BYTES > WAF_BODY_INSPECTION_BYTES
    assert overrides.get("SizeRestrictions_BODY") == {"Count": {}}
    assert all(action == {"Count": {}} for action in overrides.values())  # overrides only ever soften


def test_the_web_acl_guards_the_apis_stage() -> None:
    (association,) = of_type("AWS::WAFv2::WebACLAssociation").values()
    properties = association["Properties"]
    (acl_id,) = of_type("AWS::WAFv2::WebACL")
    assert properties["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    # the stage SAM generates for the API, by reference: the association waits for it
    api = "${" + API_ID + "}"
    stage = "${" + API_ID + ".Stage}"
    stage_arn = "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/" + api + "/stages/" + stage
    assert properties["ResourceArn"] == {"Fn::Sub": stage_arn}


def test_ops_hear_of_refused_anonymous_writes() -> None:
    alarms = [
        alarm["Properties"]
        for alarm in of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["Namespace"] == "AWS/WAFV2"
    ]
    (alarm,) = alarms
    dimensions = {dimension["Name"]: dimension["Value"] for dimension in alarm["Dimensions"]}
    assert alarm["MetricName"] == "BlockedRequests"
    assert dimensions["WebACL"] == web_acl()["VisibilityConfig"]["MetricName"]
    assert dimensions["Rule"] == rate_rule()["VisibilityConfig"]["MetricName"]
    assert dimensions["Region"] == {"Ref": "AWS::Region"}
    assert alarm["AlarmActions"] == [{"Ref": "OpsAlarmTopic"}]
