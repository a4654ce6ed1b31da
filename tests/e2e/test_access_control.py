"""Who may call what: every route of template.yaml, tried by every kind of caller (OWASP API Security Top 10: broken
object level authorisation first, then authentication and function level authorisation).

The routes are read from the template's API events, as the local gateway reads them: a route added to the template
without an expectation here fails ``test_every_route_of_the_template_has_an_expectation``, and every parametrised test
of that route. Each route is tried with no token, a forged token (signed with another key), an expired token,
another citizen's token on the owner's objects, a kiosk device's token, an agent of another department, citizens on
agent and reporting routes, and an agent's token issued to the portal client. Each answer is checked for its status,
its error shape, the security headers, and, for every refusal of an object, that it is the very answer a caller gets
for an object that does not exist: nobody learns that someone else's case, document or task exists.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Final
from urllib.parse import urlencode

import pytest

from infra.local.runtime import LocalRuntime
from infra.local.template import ApiRoute, describe
from infra.local.tokens import LocalIssuer
from tests.conftest import ELISE, PIETER, TEMPLATE, Api, Reply, is_not_found
from tests.e2e.test_public_space_alert import upload

HUGO: Final = "72030324138"  # fictional; his criminal record holds entries: his extract waits for an agent
OPEN311_KEY: Final = "omnicity-open311-demo-key"  # the template's default (the demo key, docs/open311.md)
FORM: Final = "application/x-www-form-urlencoded"

# ------------------------------------------------------------------------------------------------ who calls
ANONYMOUS, FORGED, EXPIRED = "anonymous", "forged", "expired"
OWNER = "owner"  # Élise, on the portal: the objects below are hers
OTHER_CITIZEN = "other_citizen"  # Pieter, on the portal
KIOSK = "kiosk"  # a kiosk device's own session (kiosk client, group kiosk)
AGENT = "agent"  # an agent of the population department (which handles the objects) and of reporting
OTHER_AGENT = "other_agent"  # an agent of the cleanliness department only
AGENT_VIA_PORTAL = "agent_via_portal"  # an agent's token issued to the portal client

UNAUTHENTICATED = (ANONYMOUS, FORGED, EXPIRED)
SIGNED_IN = (OWNER, OTHER_CITIZEN, KIOSK, AGENT, OTHER_AGENT)  # each protected route says what each of them gets
PRINCIPALS = (*UNAUTHENTICATED, *SIGNED_IN, AGENT_VIA_PORTAL)

TOKEN_REQUESTS: Final[Mapping[str, Mapping[str, Any]]] = {
    OWNER: {"sub": ELISE},
    OTHER_CITIZEN: {"sub": PIETER},
    KIOSK: {"sub": "kiosk-grand-place-1", "role": "kiosk", "client": "kiosk"},
    AGENT: {"sub": "agent-042", "role": "agent", "client": "counter", "departments": ["population", "reporting"]},
    OTHER_AGENT: {"sub": "agent-099", "role": "agent", "client": "counter", "departments": ["cleanliness"]},
    AGENT_VIA_PORTAL: {"sub": "agent-042", "role": "agent", "client": "portal", "departments": ["population"]},
}

# ------------------------------------------------------------------------------------------------ what they call
PUBLIC = "public"  # no authorizer: anyone, with or without a token, gets the same answer
API_KEY = "api key"  # no authorizer: the function itself checks an Open311 api_key
TOKEN = "token"  # behind the Cognito authorizer

# The routes anyone may call without signing in: listed here on purpose, so that a route made public in the template
# by mistake (Auth: {Authorizer: NONE}) fails test_the_public_routes_are_exactly_the_listed_ones.
PUBLIC_ROUTES: Final = frozenset(
    {
        ("GET", "/v1/procedures"),  # the catalogue
        ("GET", "/v1/procedures/{procedure_id}"),
        ("GET", "/v1/procedures/{procedure_id}/slots"),  # the open collection days
        ("GET", "/v1/documents/{document_id}"),  # verify a document by the code printed on it
        ("POST", "/v1/reports"),  # report anonymously
        ("GET", "/v1/reports/{reference}"),  # track an anonymous report
        ("GET", "/swagger"),
        ("GET", "/open311/v2/{document}"),  # Open311 GET: services and requests
        ("GET", "/open311/v2/services/{service_file}"),
        ("GET", "/open311/v2/requests/{request_file}"),
        ("POST", "/open311/v2/{document}"),  # Open311 POST: no token, an api_key the function checks
    }
)


@dataclass(frozen=True)
class World:
    """The objects the routes are tried on: Élise's, Hugo's, an anonymous report's."""

    case_id: str  # Élise's residence certificate (completed, with its document)
    document_id: str  # its document
    reference: str  # its reference (a certificate's: not public)
    handoff_code: str  # its hand-off code
    task_id: str  # the review task of Hugo's criminal record extract (population department, open)
    report_reference: str  # an anonymous report's reference (public)
    alert_case_id: str  # Élise's alert about litter, with a photo (the cleanliness department handles it)


# The same kinds of objects, none of which exists: a refusal must look exactly like the answer about these.
MISSING: Final = World(
    case_id=str(uuid.UUID(int=0x5EC)),
    document_id="doc-00000000000000000000",
    reference="BXL-2099-999999",
    handoff_code="AAAAA-AAAAA-AAAAA",  # well-formed (its check character matches), and no case's
    task_id="task-00000000000000000000",
    report_reference="BXL-2099-999998",
    alert_case_id=str(uuid.UUID(int=0xA1E)),
)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str = ""
    body: Any = None
    raw: bytes | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Rule:
    """What a route answers to each caller."""

    access: str
    call: Callable[[World], Call]
    expect: Mapping[str, int]  # TOKEN routes: the status for each of SIGNED_IN; others: {"anyone": status}
    changes_the_object: bool = False  # a 2xx changes the task: that caller gets a task of its own

    def status_for(self, principal: str) -> int:
        if self.access != TOKEN:
            return self.expect["anyone"]
        if principal in UNAUTHENTICATED:
            return 401  # API Gateway's authorizer, before any function
        if principal == AGENT_VIA_PORTAL:
            return 403  # agents work at the counter: a token of another client is refused, whatever the route
        return self.expect[principal]


def anyone(status: int) -> dict[str, int]:
    return {"anyone": status}


def signed_in(owner: int, other_citizen: int, kiosk: int, agent: int, other_agent: int) -> dict[str, int]:
    return {OWNER: owner, OTHER_CITIZEN: other_citizen, KIOSK: kiosk, AGENT: agent, OTHER_AGENT: other_agent}


def get(path: str, query: str = "") -> Callable[[World], Call]:
    return lambda world: Call("GET", path.format(**vars(world)), query)


def post(path: str, body: Any = None) -> Callable[[World], Call]:
    return lambda world: Call("POST", path.format(**vars(world)), body=body)


CITIZENS_ONLY = signed_in(owner=403, other_citizen=403, kiosk=403, agent=200, other_agent=403)
HUGOS_TASK = signed_in(owner=403, other_citizen=403, kiosk=403, agent=200, other_agent=404)  # agent routes
ELISES_CASE = signed_in(owner=200, other_citizen=404, kiosk=404, agent=200, other_agent=404)  # owner or department
ELISES_ONLY = signed_in(owner=200, other_citizen=404, kiosk=404, agent=404, other_agent=404)  # the owner alone
SUBMISSION = {"procedure_id": "residence-certificate", "language": "fr", "form": {}, "citizen_nrn": ELISE}
REPORT = {
    "procedure_id": "public-space-alert",
    "language": "fr",
    "form": {"category": "litter", "description": "Sacs éventrés.", "location": {"lat": 50.8467, "lon": 4.3525}},
}
OPEN311_POST_WITHOUT_KEY = urlencode(
    {"service_code": "litter", "description": "Sacs éventrés.", "lat": "50.8467", "long": "4.3525"}
).encode()

RULES: Final[Mapping[tuple[str, str], Rule]] = {
    # -- the catalogue, public
    ("GET", "/v1/procedures"): Rule(PUBLIC, get("/v1/procedures"), anyone(200)),
    ("GET", "/v1/procedures/{procedure_id}"): Rule(PUBLIC, get("/v1/procedures/residence-certificate"), anyone(200)),
    ("GET", "/v1/procedures/{procedure_id}/slots"): Rule(
        PUBLIC, get("/v1/procedures/bulky-items-removal/slots"), anyone(200)
    ),
    # -- cases: one's own, or the ones one's department handles
    # Élise submits for herself; the population agent at the counter for her; nobody else for her.
    ("POST", "/v1/cases"): Rule(
        TOKEN,
        post("/v1/cases", SUBMISSION),
        signed_in(owner=201, other_citizen=403, kiosk=403, agent=201, other_agent=403),
    ),
    ("GET", "/v1/cases"): Rule(
        TOKEN, get("/v1/cases"), signed_in(owner=200, other_citizen=200, kiosk=403, agent=403, other_agent=403)
    ),
    ("GET", "/v1/cases/{case_id}"): Rule(TOKEN, get("/v1/cases/{case_id}"), ELISES_CASE),
    ("GET", "/v1/cases/{case_id}/documents/{document_id}"): Rule(
        TOKEN, get("/v1/cases/{case_id}/documents/{document_id}"), ELISES_CASE
    ),
    ("GET", "/v1/cases/{case_id}/access-log"): Rule(TOKEN, get("/v1/cases/{case_id}/access-log"), ELISES_ONLY),
    # A certificate cannot be cancelled: 409 tells its owner so, and only her.
    ("POST", "/v1/cases/{case_id}/cancel"): Rule(
        TOKEN, post("/v1/cases/{case_id}/cancel"), {**ELISES_ONLY, OWNER: 409}
    ),
    # The case does not wait for an answer: 409 tells its owner so, and only her.
    ("POST", "/v1/cases/{case_id}/reply"): Rule(
        TOKEN, post("/v1/cases/{case_id}/reply", {"answer": "Voici."}), {**ELISES_ONLY, OWNER: 409}
    ),
    ("POST", "/v1/uploads"): Rule(
        TOKEN,
        post("/v1/uploads", {"content_type": "image/jpeg"}),
        signed_in(owner=201, other_citizen=201, kiosk=403, agent=403, other_agent=403),
    ),
    ("POST", "/v1/handoff/{code}"): Rule(
        TOKEN,
        post("/v1/handoff/{handoff_code}"),
        signed_in(owner=200, other_citizen=404, kiosk=403, agent=403, other_agent=403),
    ),
    ("GET", "/v1/documents/{document_id}"): Rule(PUBLIC, get("/v1/documents/{document_id}"), anyone(200)),
    # -- anonymous reports, public
    ("POST", "/v1/reports"): Rule(PUBLIC, post("/v1/reports", REPORT), anyone(201)),
    ("GET", "/v1/reports/{reference}"): Rule(PUBLIC, get("/v1/reports/{report_reference}"), anyone(200)),
    # -- agents: their departments' tasks and cases
    ("GET", "/v1/agent/tasks"): Rule(TOKEN, get("/v1/agent/tasks", "department=population"), CITIZENS_ONLY),
    ("POST", "/v1/agent/tasks/{task_id}/claim"): Rule(
        TOKEN, post("/v1/agent/tasks/{task_id}/claim"), HUGOS_TASK, changes_the_object=True
    ),
    # Nobody claimed the task: the agent learns it is not theirs to release (409), the others nothing.
    ("POST", "/v1/agent/tasks/{task_id}/release"): Rule(
        TOKEN, post("/v1/agent/tasks/{task_id}/release"), {**HUGOS_TASK, AGENT: 409}
    ),
    # Handed to a colleague of the department the platform knows (the lookup agent signed in: see lookup_agent)
    ("POST", "/v1/agent/tasks/{task_id}/reassign"): Rule(
        TOKEN,
        post("/v1/agent/tasks/{task_id}/reassign", {"agent": "agent-lookup"}),
        HUGOS_TASK,
        changes_the_object=True,
    ),
    ("POST", "/v1/agent/tasks/{task_id}/complete"): Rule(
        TOKEN, post("/v1/agent/tasks/{task_id}/complete", {"outcome": "approve"}), HUGOS_TASK, changes_the_object=True
    ),
    ("POST", "/v1/agent/tasks/{task_id}/ask"): Rule(
        TOKEN,
        post("/v1/agent/tasks/{task_id}/ask", {"question": "Pour quel employeur ?"}),
        HUGOS_TASK,
        changes_the_object=True,
    ),
    ("GET", "/v1/agent/cases/{case_id}"): Rule(TOKEN, get("/v1/agent/cases/{case_id}"), HUGOS_TASK),
    # Élise's alert is the cleanliness department's: its agent publishes the photo (again: nothing changes), the
    # population agent learns nothing, citizens and kiosks have no back office.
    ("POST", "/v1/agent/cases/{case_id}/photos/{photo}/publish"): Rule(
        TOKEN,
        post("/v1/agent/cases/{alert_case_id}/photos/0/publish"),
        signed_in(owner=403, other_citizen=403, kiosk=403, agent=404, other_agent=200),
    ),
    # Élise's certificate is the population department's: its agent revokes it (again, with the same reason: nothing
    # changes), the cleanliness agent learns nothing, citizens and kiosks have no back office.
    ("POST", "/v1/agent/cases/{case_id}/documents/{document_id}/revoke"): Rule(
        TOKEN,
        post("/v1/agent/cases/{case_id}/documents/{document_id}/revoke", {"reason": "Délivré par erreur."}),
        signed_in(owner=403, other_citizen=403, kiosk=403, agent=200, other_agent=404),
    ),
    # -- the city's figures: agents of the reporting department
    ("GET", "/v1/stats"): Rule(TOKEN, get("/v1/stats", "from=2026-01-01&to=2026-01-31"), CITIZENS_ONLY),
    ("GET", "/swagger"): Rule(PUBLIC, get("/swagger"), anyone(200)),
    # -- Open311: public reads; a POST needs an api_key (test_open311_posts_need_an_api_key_not_a_token)
    ("GET", "/open311/v2/{document}"): Rule(PUBLIC, get("/open311/v2/services.json"), anyone(200)),
    ("POST", "/open311/v2/{document}"): Rule(
        API_KEY,
        lambda _: Call(
            "POST", "/open311/v2/requests.json", raw=OPEN311_POST_WITHOUT_KEY, headers={"Content-Type": FORM}
        ),
        anyone(403),
    ),
    ("GET", "/open311/v2/services/{service_file}"): Rule(PUBLIC, get("/open311/v2/services/litter.xml"), anyone(200)),
    ("GET", "/open311/v2/requests/{request_file}"): Rule(
        PUBLIC, get("/open311/v2/requests/{report_reference}.json"), anyone(200)
    ),
}

TEMPLATE_ROUTES: Final[tuple[ApiRoute, ...]] = describe(TEMPLATE).routes


def case(route: ApiRoute, principal: str) -> Any:
    return pytest.param(route, principal, id=f"{route.method} {route.path} as {principal}")


ROUTE_CASES = [case(route, principal) for route in TEMPLATE_ROUTES for principal in PRINCIPALS]
PLACEHOLDERS: Final = World(**{field.name: f"<{field.name}>" for field in fields(World)})


def refused(route: ApiRoute, principal: str) -> bool:
    """Whether the route is about an object (its call names one) and refuses this caller (403 or 404)."""
    rule = RULES.get((route.method, route.path))
    if rule is None:  # reported by the tests above
        return False
    return rule.call(PLACEHOLDERS) != rule.call(MISSING) and rule.status_for(principal) in (403, 404)


REFUSAL_CASES = [
    case(route, principal) for route in TEMPLATE_ROUTES for principal in PRINCIPALS if refused(route, principal)
]

# What every answer carries (omnicity.http.edge; template.yaml's GatewayResponses for API Gateway's own answers).
SECURITY_HEADERS: Final = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
PERSONAL_KEYS: Final = {"applicant", "nrn", "citizen_nrn", "email", "form", "uploads_owner", "submitted_by"}


# ------------------------------------------------------------------------------------------------ helpers
def rule_of(route: ApiRoute) -> Rule:
    rule = RULES.get((route.method, route.path))
    if rule is None:
        pytest.fail(f"{route.method} {route.path} ({route.event_name}) has no expectation in {__name__}: add its Rule")
    return rule


def header(reply: Reply, name: str) -> str | None:
    return next((value for key, value in reply.headers.items() if key.lower() == name.lower()), None)


def assert_security_headers(reply: Reply) -> None:
    """The security headers, with their values (an HTML page has a policy of its own, as strict on frames)."""
    html = (header(reply, "Content-Type") or "").startswith("text/html")
    for name, value in SECURITY_HEADERS.items():
        if html and name == "Content-Security-Policy":
            policy = header(reply, name) or ""
            assert policy.startswith("default-src 'none';"), policy
            assert "frame-ancestors 'none'" in policy, policy
        else:
            assert header(reply, name) == value, (name, reply.status, dict(reply.headers))


def assert_error_shape(reply: Reply, route: ApiRoute) -> None:
    """An error is JSON in the API's one shape; Open311's in the spec's (a list of code and description)."""
    assert (header(reply, "Content-Type") or "").startswith("application/json"), reply.headers
    document = reply.json
    if route.function_id == "Open311Function":
        assert isinstance(document, list), document
        assert document
        assert all(set(entry) == {"code", "description"} for entry in document), document
        assert {str(entry["code"]) for entry in document} == {str(reply.status)}
        return
    assert set(document) == {"error"}, document
    error = document["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["code"]
    assert error["message"]
    assert isinstance(error["details"], list)


def personal_keys(document: Any) -> set[str]:
    if isinstance(document, dict):
        return (set(document) & PERSONAL_KEYS) | {key for value in document.values() for key in personal_keys(value)}
    if isinstance(document, list):
        return {key for item in document for key in personal_keys(item)}
    return set()


def send(api: Api, call: Call, token: str | None) -> Reply:
    return api.request(
        call.method, call.path, token=token, body=call.body, raw=call.raw, query=call.query, headers=call.headers
    )


def without_ids(text: str, *worlds: World) -> str:
    """The answer with the objects' ids replaced by their kind: what remains must not depend on which object."""
    for world in worlds:
        for field in fields(World):
            text = text.replace(getattr(world, field.name), f"<{field.name}>")
    return text


def settle(api: Api, call: Call, reply: Reply, decided_case: str | None = None) -> None:
    """Let the workflows a call started or resumed end before the module's platform stops: a new certificate's, a
    decided extract's. (An alert's waits for its field task: nothing to wait for.)"""
    if call.method == "POST" and call.path == "/v1/cases" and reply.status == 201:
        api.wait(reply.json["case_id"])
    if decided_case is not None and reply.status == 200 and reply.json.get("status") == "completed":
        api.wait(decided_case)


def submit_hugos_extract(api: Api, hugo: str, agent: str) -> tuple[str, str]:
    """A new criminal record extract of Hugo's, waiting for the population department: its task id and case id."""
    body = {"procedure_id": "criminal-record-extract", "language": "fr", "form": {"model": "595"}}
    created = api.request("POST", "/v1/cases", token=hugo, body=body)
    assert created.status == 201, created.body
    api.wait_for_status(created.json["case_id"], hugo, "waiting")
    queue = api.request("GET", "/v1/agent/tasks", token=agent, query="department=population&limit=100")
    assert queue.status == 200, queue.body
    task = next(task for task in queue.json["items"] if task["reference"] == created.json["reference"])
    return str(task["task_id"]), str(created.json["case_id"])


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def tokens(api: Api, runtime: LocalRuntime) -> dict[str, str | None]:
    minted: dict[str, str | None] = {ANONYMOUS: None}
    for principal, request in TOKEN_REQUESTS.items():
        minted[principal] = api.token(**request)
    # Élise's claims, signed with a key that is not the issuer's
    forger = LocalIssuer(dict.fromkeys(runtime.issuer.client_ids, 3600), issuer=runtime.issuer.issuer)
    minted[FORGED] = forger.mint("citizen", ELISE, "portal")
    # Élise's token, issued two hours ago (it lived one hour)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime.issuer, "_clock", lambda: time.time() - 2 * 3600)
        minted[EXPIRED] = api.token(ELISE)
    return minted


@pytest.fixture(scope="module")
def lookup_agent(api: Api) -> str:
    return api.token("agent-lookup", role="agent", client="counter", departments=["population"])


@pytest.fixture(scope="module")
def hugo(api: Api) -> str:
    return api.token(HUGO)


@pytest.fixture(scope="module")
def world(api: Api, tokens: dict[str, str | None], hugo: str, lookup_agent: str) -> World:
    elise = tokens[OWNER]
    assert elise is not None
    created = api.submit(elise, form={"purpose": "employment"})
    assert created.status == 201, created.body
    case_id = created.json["case_id"]
    api.wait(case_id)
    case = api.case(case_id, elise)
    assert case["status"] == "completed", case
    report = api.request("POST", "/v1/reports", body=REPORT)
    assert report.status == 201, report.body
    form = {"category": "litter", "description": "Sacs éventrés.", "location": {"lat": 50.8467, "lon": 4.3525}}
    alert = {"procedure_id": "public-space-alert", "language": "fr", "form": {**form, "photos": [upload(api, elise)]}}
    elises_alert = api.request("POST", "/v1/cases", token=elise, body=alert)
    assert elises_alert.status == 201, elises_alert.body
    return World(
        case_id=case_id,
        document_id=case["documents"][0]["document_id"],
        reference=case["reference"],
        handoff_code=created.json["handoff_code"],
        task_id=submit_hugos_extract(api, hugo, lookup_agent)[0],
        report_reference=report.json["reference"],
        alert_case_id=elises_alert.json["case_id"],
    )


# ------------------------------------------------------------------------------------------------ the routes
def test_every_route_of_the_template_has_an_expectation() -> None:
    # Given the routes API Gateway will have (template.yaml's Api events)
    deployed = {(route.method, route.path) for route in TEMPLATE_ROUTES}
    # Then each has its rule here, and no rule is left for a route that is gone
    assert deployed - set(RULES) == set(), "routes without an expectation in this suite"
    assert set(RULES) - deployed == set(), "expectations for routes the template no longer has"


def test_the_public_routes_are_exactly_the_listed_ones() -> None:
    # Given the routes the template serves without the authorizer
    open_routes = {(route.method, route.path) for route in TEMPLATE_ROUTES if not route.requires_auth}
    # Then they are the ones listed as public, and the rules say the same
    assert open_routes == PUBLIC_ROUTES
    assert {key for key, rule in RULES.items() if rule.access != TOKEN} == PUBLIC_ROUTES
    # And every other route sits behind the Cognito authorizer
    assert all(route.authorizer == "CognitoAuthorizer" for route in TEMPLATE_ROUTES if route.requires_auth)


@pytest.mark.parametrize(("route", "principal"), ROUTE_CASES)
def test_each_caller_gets_what_the_route_allows_them(
    api: Api,
    runtime: LocalRuntime,
    world: World,
    tokens: dict[str, str | None],
    hugo: str,
    lookup_agent: str,
    route: ApiRoute,
    principal: str,
) -> None:
    # Given the route's rule, and the objects it is tried on (a task of its own when the call changes the task)
    rule = rule_of(route)
    expected = rule.status_for(principal)
    fresh_case = None
    if rule.changes_the_object and 200 <= expected < 300:
        task_id, fresh_case = submit_hugos_extract(api, hugo, lookup_agent)
        world = replace(world, task_id=task_id)
    # When this caller calls it
    call = rule.call(world)
    reply = send(api, call, tokens[principal])
    settle(api, call, reply, fresh_case)
    # Then the status is the one the rule gives, with the security headers
    assert reply.status == expected, f"{principal}: {reply.status} {reply.body[:300]!r}"
    if expected == 404:
        # the operation's own, about the object: not the 404 of a path no route serves (a mistyped call)
        assert is_not_found(reply), principal
    assert_security_headers(reply)
    if reply.status >= 400:
        # An error is in the one error shape, and tells nobody else's national register number
        assert_error_shape(reply, route)
        assert ELISE.encode() not in reply.body
    if reply.status == 401:
        # Refused by API Gateway's authorizer: the template's UNAUTHORIZED answer
        assert runtime.description.api is not None
        assert reply.body.decode() == runtime.description.api.gateway_responses["UNAUTHORIZED"].body
    if rule.access != TOKEN and reply.status < 300 and header(reply, "Content-Type") == "application/json":
        # A public answer holds no personal data
        assert personal_keys(reply.json) == set(), reply.json
        assert ELISE.encode() not in reply.body


@pytest.mark.parametrize(("route", "principal"), REFUSAL_CASES)
def test_a_refusal_is_the_same_answer_as_for_an_object_that_does_not_exist(
    api: Api, world: World, tokens: dict[str, str | None], route: ApiRoute, principal: str
) -> None:
    # Given a route about an object (a case, a document, a task, a hand-off code) that refuses this caller
    rule = rule_of(route)
    # When the caller tries the real object, then one that does not exist
    theirs = send(api, rule.call(world), tokens[principal])
    missing = send(api, rule.call(MISSING), tokens[principal])
    # Then both answers are the same, word for word but the id: the refusal tells nothing of the object
    assert theirs.status == missing.status == rule.status_for(principal)
    if theirs.status == 404:
        assert is_not_found(theirs)
        assert is_not_found(missing)
    assert without_ids(theirs.body.decode(), world, MISSING) == without_ids(missing.body.decode(), world, MISSING)


# ------------------------------------------------------------------------------------------------ more of the same
def test_my_cases_are_mine_only(api: Api, world: World, tokens: dict[str, str | None]) -> None:
    # When Élise and Pieter each list their cases
    hers = api.request("GET", "/v1/cases", token=tokens[OWNER], query="limit=100")
    his = api.request("GET", "/v1/cases", token=tokens[OTHER_CITIZEN], query="limit=100")
    # Then her case is in her list and not in his
    assert world.case_id in {item["case_id"] for item in hers.json["items"]}
    assert world.case_id not in {item["case_id"] for item in his.json["items"]}


@pytest.mark.parametrize(
    "path",
    ["/v1/reports/{reference}", "/open311/v2/requests/{reference}.json"],
    ids=["track", "open311-request"],
)
def test_a_certificates_reference_is_not_public(api: Api, world: World, path: str) -> None:
    # Given the reference of Élise's certificate (only anonymous reports are tracked in public)
    theirs = api.request("GET", path.format(reference=world.reference))
    missing = api.request("GET", path.format(reference=MISSING.reference))
    # Then it answers what a reference that does not exist answers
    assert is_not_found(theirs)
    assert is_not_found(missing)
    assert without_ids(theirs.body.decode(), world, MISSING) == without_ids(missing.body.decode(), world, MISSING)
    assert ELISE.encode() not in theirs.body


def test_a_submission_cannot_set_what_the_platform_decides(
    api: Api, world: World, tokens: dict[str, str | None]
) -> None:
    # (mass assignment) Given Élise's submission that also claims the fields the platform decides: the channel (the
    # token's client), the applicant (the token's NRN), the ids, the status and the author
    claims = {
        "channel": "counter",
        "applicant": {"nrn": PIETER, "email": "pieter@example.be"},
        "case_id": world.case_id,
        "reference": "BXL-2000-000001",
        "status": "completed",
        "submitted_by": "agent:agent-042",
    }
    body = {"procedure_id": "residence-certificate", "language": "fr", "form": {}, **claims}
    # When she submits it
    reply = api.request("POST", "/v1/cases", token=tokens[OWNER], body=body)
    # Then none of it is taken: a new case of hers, on the portal, submitted by her
    assert reply.status == 201, reply.body
    assert reply.json["case_id"] != world.case_id
    assert reply.json["reference"] != claims["reference"]
    case = api.case(reply.json["case_id"], tokens[OWNER] or "")
    assert case["channel"] == "portal"
    assert case["timeline"][0]["status"] == "submitted"
    assert case["timeline"][0]["actor"] == "citizen"
    assert is_not_found(api.request("GET", f"/v1/cases/{reply.json['case_id']}", token=tokens[OTHER_CITIZEN]))
    # And the case it named is untouched
    assert api.case(world.case_id, tokens[OWNER] or "")["reference"] == world.reference
    api.wait(reply.json["case_id"])


def test_an_agent_at_the_counter_submits_only_for_their_departments_procedures(
    api: Api, tokens: dict[str, str | None]
) -> None:
    # Given a procedure of the population department, and an agent of cleanliness only
    body = {"procedure_id": "residence-certificate", "language": "fr", "form": {}, "citizen_nrn": PIETER}
    # When each agent opens it at the counter for Pieter
    theirs = api.request("POST", "/v1/cases", token=tokens[OTHER_AGENT], body=body)
    ours = api.request("POST", "/v1/cases", token=tokens[AGENT], body=body)
    # Then only the population agent can
    assert theirs.status == 403, theirs.body
    assert ours.status == 201, ours.body
    api.wait(ours.json["case_id"])


@pytest.mark.parametrize(
    ("fields_", "status"),
    [
        ({}, 403),
        ({"api_key": "not-the-key-of-anyone"}, 403),
        ({"api_key": OPEN311_KEY}, 200),
    ],
    ids=["no-key", "wrong-key", "the-key"],
)
def test_open311_posts_need_an_api_key_not_a_token(
    api: Api, tokens: dict[str, str | None], fields_: dict[str, str], status: int
) -> None:
    # When an Open311 app posts a request, with a citizen's bearer token in every case
    values = {"service_code": "litter", "description": "Sacs éventrés.", "lat": "50.8467", "long": "4.3525", **fields_}
    reply = api.request(
        "POST",
        "/open311/v2/requests.json",
        token=tokens[OWNER],
        raw=urlencode(values).encode(),
        headers={"Content-Type": FORM},
    )
    # Then only the api_key decides (a token is no key); a refusal is in the spec's error format
    assert reply.status == status, reply.body
    assert_security_headers(reply)
    if status == 403:
        [error] = reply.json
        assert error["code"] == 403
        assert "api_key" in error["description"]
    else:
        assert reply.json[0]["service_request_id"]


def test_the_rules_name_only_known_callers() -> None:
    # (a typo in a rule would silently test nothing)
    for key, rule in RULES.items():
        assert set(rule.expect) == (set(SIGNED_IN) if rule.access == TOKEN else {"anyone"}), key
        assert all(100 <= status < 600 for status in rule.expect.values()), key
