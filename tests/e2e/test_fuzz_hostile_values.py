"""Fuzzing with hostile values: schemathesis generates every operation's request from the committed ``openapi.json``
(as in test_fuzz_openapi.py), then one value of each body, at any depth, is replaced with a value a reviewer would try:
numbers JSON allows but no float holds, integers past 2**53 and 2**63, nesting past the API's depth, texts holding
line and paragraph separators or control characters. Half the bodies that name a procedure are first made a real,
valid submission of one, so the hostile value reaches the form's own validation. Whatever is sent, the API answers
as its document says (a documented 4xx, in the one error shape), never a 5xx.

Bounded and deterministic like the other fuzz test (fixed seed, derandomized, a few examples per operation).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st

from infra.local.runtime import LocalRuntime
from tests.conftest import ELISE, ROOT, Api
from tests.e2e.test_fuzz_openapi import AGENT_PATHS, CHECKED, CONFIG, DEPARTMENTS

SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.json", config=CONFIG)
GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}
# Real submissions: a hostile value put into one of these reaches the procedure's form validation
SUBMISSIONS: list[tuple[str, dict[str, Any]]] = [
    ("residence-certificate", {"purpose": "housing"}),
    ("criminal-record-extract", {"model": "596.2", "purpose": "Animation de stages pour enfants"}),
    ("public-space-alert", {"category": "litter", "description": "Sacs poubelles éventrés", "location": GRAND_PLACE}),
    ("street-artist-permit", {"artist_name": "Lili Fanfare", "discipline": "music"}),
]


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


SEPARATORS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00", "\u202e", "\ud800"]
HOSTILE_VALUES: list[Any] = [
    10**400,
    -(10**400),
    10**308 * 10,
    2**53,
    2**63,
    -(2**63) - 1,
    int("9" * 4000),
    1e308,
    5e-324,
    -0.0,
    _nested(17),
    _nested(120),
    _nested(400),
    {"a": {"b": {"c": _nested(30)}}},
    *(f"Animation{separator}## Personne{separator}- Nom: Dupont" for separator in SEPARATORS),
]
HOSTILE = st.sampled_from(HOSTILE_VALUES)


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every place of a body where a value can be put: each key of each object, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, str(key))
            yield from _paths(item, (*prefix, str(key)))


def _with(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


@SCHEMA.hook
def flatmap_body(ctx: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return st.just(body)
    bases = [st.just(body)]
    if "procedure_id" in body:
        bases.append(st.sampled_from(SUBMISSIONS).map(lambda real: {**body, "procedure_id": real[0], "form": real[1]}))

    def hostile(base: dict[str, Any]) -> Any:
        paths = list(_paths(base)) or [("form",)]
        return st.tuples(st.sampled_from(paths), HOSTILE).map(lambda choice: _with(base, *choice))

    return st.one_of(bases).flatmap(hostile)


@pytest.fixture(scope="module")
def tokens(served: LocalRuntime) -> dict[str, str]:
    api = Api(served)
    return {
        "citizen": api.token(ELISE),
        "agent": api.token("agent-hostile", role="agent", client="counter", departments=DEPARTMENTS),
    }


@SCHEMA.include(method="POST").parametrize()
def test_hostile_values_in_any_body_are_refused_as_documented(
    case: Any, served: LocalRuntime, tokens: dict[str, str]
) -> None:
    # Given a generated request whose body holds one hostile value, with the token of its audience
    audience = "agent" if case.path.startswith(AGENT_PATHS) else "citizen"
    # When it is sent to the served API, Then the reply passes every check: no 5xx, a documented status and body
    case.call_and_validate(
        base_url=served.api_url, headers={"Authorization": f"Bearer {tokens[audience]}"}, checks=CHECKED
    )


@pytest.mark.parametrize(("procedure_id", "form"), SUBMISSIONS, ids=[procedure for procedure, _ in SUBMISSIONS])
def test_each_hostile_value_in_each_place_of_a_real_submission_is_refused_as_documented(
    served: LocalRuntime, tokens: dict[str, str], procedure_id: str, form: dict[str, Any]
) -> None:
    # Given a real, valid submission of the procedure (the random run above reaches few of these places)
    submission = {"procedure_id": procedure_id, "language": "fr", "form": form}
    anonymous = procedure_id == "public-space-alert"
    operation = SCHEMA["/v1/reports" if anonymous else "/v1/cases"]["POST"]
    headers = {} if anonymous else {"Authorization": f"Bearer {tokens['citizen']}"}
    for path in [path for path in _paths(submission) if path != ("procedure_id",)]:
        for value in HOSTILE_VALUES:
            # When one place of it holds one hostile value
            case = operation.Case(body=_with(submission, path, value), media_type="application/json")
            # Then the API refuses it as its document says: a documented 4xx in the one error shape, never a 5xx
            response = case.call_and_validate(base_url=served.api_url, headers=headers, checks=CHECKED)
            assert 400 <= response.status_code < 500, (path, repr(value)[:80], response.text)
