"""The one place Logger, Tracer and Metrics are created (Powertools); everything else imports them from here.

template.yaml sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; the values below are the same names,
so the module gives the same telemetry when imported before the environment is set (tests, scripts).

Personal data stays out of the logs. Code logs ids (case, task, document, order), never a person; and whatever
slips through anyway is scrubbed on the way out by the Logger's formatter (:class:`RedactingFormatter`):

- the value of any field whose name says it is personal or secret (``nrn``, ``first_name``, ``address``,
  ``email``, ``authorization``, ``task_token``, ``form``, ... at any depth, ``custom:nrn`` too) is replaced;
- in every remaining string (the message, the exception and its traceback included): national register numbers
  (see :func:`redact_text`), email addresses, JWTs (``eyJ...``), ``Bearer``/``Basic`` credentials, presigned URL
  signatures and credentials, and pydantic's ``input_value=...`` echoes of rejected input (the whole value, whatever
  it is: a string, a dict, a list, up to pydantic's ``, input_type=``).

The handlers never log their event (``inject_lambda_context(log_event=False)``). The Tracer records no response
(``POWERTOOLS_TRACER_CAPTURE_RESPONSE=false``: responses carry case files and presigned URLs) and no exception as
metadata (``POWERTOOLS_TRACER_CAPTURE_ERROR=false``, template.yaml Globals; X-Ray still records the error's type).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord

from omnicity.domain.nrn import NRN_LENGTH, is_valid_nrn

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "omnicity")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Omnicity")

REDACTED: Final = "[redacted]"

# Field names (compared lower-case, without "_", "-" or a "prefix:" such as Cognito's "custom:") whose values are
# personal data, free text a person typed, or credentials.
SENSITIVE_KEYS: Final = frozenset(
    {
        # who a person is
        "nrn",
        "niss",
        "insz",
        "rrn",
        "nationalnumber",
        "nationalregisternumber",
        "name",
        "firstname",
        "lastname",
        "givenname",
        "familyname",
        "middlename",
        "fullname",
        "username",
        "birthdate",
        "dateofbirth",
        "applicant",
        "person",
        # where and how to reach them, where they were
        "address",
        "addressstring",
        "street",
        "number",
        "postalcode",
        "email",
        "emailaddress",
        "phone",
        "phonenumber",
        "location",
        "lat",
        "lon",
        "long",
        "lng",
        "latitude",
        "longitude",
        # what they wrote, what they were sent, what they showed
        "form",
        "body",
        "comment",
        "question",
        "answer",
        "description",
        "reason",
        "purpose",
        "note",
        "notes",
        "accessnotes",
        "artistname",
        "attachments",
        "photos",
        "mediaurl",
        "input",
        "inputvalue",
        # credentials: tokens, keys, signatures, codes
        "token",
        "accesstoken",
        "idtoken",
        "refreshtoken",
        "tasktoken",
        "authorization",
        "cookie",
        "setcookie",
        "password",
        "secret",
        "apikey",
        "xapikey",
        "signature",
        "xamzsignature",
        "xamzcredential",
        "xamzsecuritytoken",
        "policy",
        "handoffcode",
    }
)
# ... and any name ending like these (reporter_email, task_token, client_secret, applicant_nrn...).
_SENSITIVE_SUFFIXES: Final = ("nrn", "email", "token", "secret", "password", "apikey")

# National register numbers in free text. normalize_nrn accepts the 11 digits with any number of separators anywhere
# (whitespace, dots, dashes), so numbers are looked for in every run of ASCII digits joined by separators ("born
# 14/03, 87 03 14 132 35." holds the run "87 03 14 132 35"), glued to letters or not ("nrn87031413235"). In a run, a
# candidate is 11 digits made of whole groups (a group: digits between separators), never a part of a group: a
# 13-digit epoch or a 12-digit uuid group is no candidate. A candidate is replaced when
# - its check digits are right (omnicity.domain.nrn's rule, either century): an NRN, however it was typed; or
# - it is written the usual ways (11 digits, or separators only where the card has them: 87.03.14-132.35,
#   870314-132.35, 87 03 14 132 35) and no letter is glued to it: a mistyped NRN stays hidden too.
# So dates (2026-12-04: 8 digits), references (BXL-2026-000123: 10), ISO timestamps, uuids, request ids, counts and
# durations are kept (an 11-digit candidate that happens to pass the check, about one in fifty, is not).
_NRN_SEPARATOR: Final = r"[\s.\-]"  # what normalize_nrn removes (str patterns: \s is Unicode whitespace, as there)
_DIGIT_GROUP: Final = re.compile(r"[0-9]+")
_CARD_BREAKS: Final = frozenset({2, 4, 6, 9})  # YY.MM.DD-SSS.CC: after how many digits the card's separators come


def _glued(character: str) -> bool:
    return character.isalnum() or character == "_"


def _scrub_digit_run(match: re.Match[str]) -> str:
    """The run of digits and separators ``match`` found, with every national register number in it replaced."""
    run = match.group()
    if len(run) < NRN_LENGTH:
        return run
    groups = [(group.start(), group.end()) for group in _DIGIT_GROUP.finditer(run)]
    text, start, end = match.string, match.start(), match.end()
    alone_before = start == 0 or not _glued(text[start - 1])
    alone_after = end == len(text) or not _glued(text[end])
    spans: list[tuple[int, int]] = []
    for first in range(len(groups)):
        digits, last = 0, first
        breaks: set[int] = set()
        for last in range(first, len(groups)):
            digits += groups[last][1] - groups[last][0]
            if digits >= NRN_LENGTH:
                break
            breaks.add(digits)
        if digits != NRN_LENGTH:
            if digits < NRN_LENGTH:
                break  # the groups left hold fewer than 11 digits: no later candidate either
            continue
        number = "".join(run[g_start:g_end] for g_start, g_end in groups[first : last + 1])
        alone = (first > 0 or alone_before) and (last < len(groups) - 1 or alone_after)
        if is_valid_nrn(number) or (alone and breaks <= _CARD_BREAKS):
            spans.append((groups[first][0], groups[last][1]))
    if not spans:
        return run
    scrubbed: list[str] = []
    done = 0
    for span_start, span_end in spans:
        if span_start >= done:  # else it overlaps the one before, whose REDACTED covers it too
            scrubbed += [run[done:span_start], REDACTED]
        done = max(done, span_end)
    return "".join([*scrubbed, run[done:]])


_PATTERNS: Final[tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...]] = (
    # JSON Web Tokens (and JWEs): base64url JSON headers start with "eyJ"
    (re.compile(r"\beyJ[\w-]*(?:\.[\w-]*){1,4}", re.ASCII), REDACTED),
    # Authorization header values written out
    (re.compile(r"\b(Bearer|Basic)\s+[\w.~+/=-]+", re.ASCII | re.IGNORECASE), rf"\1 {REDACTED}"),
    # presigned URLs (SigV4 and SigV2 query strings, presigned POST fields written as key=value)
    (
        re.compile(
            r"\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId)=[^&\s\"'<>]+",
            re.ASCII | re.IGNORECASE,
        ),
        rf"\1={REDACTED}",
    ),
    # pydantic echoes the rejected input in its messages, one error a line: "[type=..., input_value={'street': 'Rue
    # Haute', 'number': '120'}, input_type=dict]". The value is a repr (a string, a dict, a list, quotes in quotes):
    # everything up to the line's last ", input_type=" goes (a value holding ", input_type=" itself ends before
    # pydantic's own); without one, the rest of the line.
    (re.compile(r"\binput_value=(?:[^\n]*(?=, input_type=)|[^\n]*)"), f"input_value={REDACTED}"),
    # email addresses
    (re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"), REDACTED),
    # Belgian national register numbers, written any way omnicity.domain.nrn.normalize_nrn accepts: see _scrub_digit_run
    (re.compile(rf"[0-9](?:{_NRN_SEPARATOR}*[0-9])*"), _scrub_digit_run),
)


def _is_sensitive(key: object) -> bool:
    name = str(key).rsplit(":", 1)[-1].lower().replace("_", "").replace("-", "")
    return name in SENSITIVE_KEYS or name.endswith(_SENSITIVE_SUFFIXES)


def redact_text(text: str) -> str:
    """``text`` with the national register numbers, emails, tokens and signatures it contains replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """A copy of ``value`` (a log record's fields, at any depth) safe to write to a log: see the module's doc.

    Strings are scrubbed; mappings lose the values of their sensitive keys; sequences are scrubbed item by item;
    numbers, booleans and None are kept; anything else is written as its (scrubbed) ``str()``.
    """
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        # an NRN stored as a number still is one
        return REDACTED if redact_text(str(value)) != str(value) else value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: REDACTED if _is_sensitive(key) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    return redact_text(str(value))


# Powertools' own "location" key, "<function>:<line>": where the code logged, not where a person was.
_CODE_LOCATION: Final = re.compile(r"(?:\w+|<\w+>):[0-9]+")


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter that scrubs every record (message, extra fields, appended keys, exception)
    with :func:`redact` just before it is serialized. Powertools' own ``location`` (the logging code's function and
    line) is kept: the sensitive ``location`` is a place, in the fields of a report."""

    def serialize(self, log: LogRecord) -> str:
        scrubbed = redact(log)
        location = log.get("location")
        if isinstance(location, str) and _CODE_LOCATION.fullmatch(location):
            scrubbed["location"] = location
        return super().serialize(scrubbed)


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


class Tracing(Protocol):
    """What the functions use of a tracer: Powertools' Tracer, or :class:`Untraced` where nothing is traced."""

    def capture_lambda_handler(self, lambda_handler: Callable[[Any, Any], Any]) -> Callable[..., Any]: ...

    def capture_method(self, method: Callable[..., Any]) -> Callable[..., Any]: ...


class Untraced:
    """The tracer where Powertools would not trace (outside Lambda, under SAM local, POWERTOOLS_TRACE_DISABLED): its
    decorators return what they decorate. A Tracer built there still loads the X-Ray SDK, which loads botocore and
    creates a client of its own at import: nearly as long as ``import boto3``, for nothing (bench/cold_start.py)."""

    def capture_lambda_handler(self, lambda_handler: HandlerT) -> HandlerT:
        return lambda_handler

    def capture_method(self, method: HandlerT) -> HandlerT:
        return method


def tracing_enabled() -> bool:
    """Whether Powertools' Tracer traces in this environment (its own rule: in Lambda, not under SAM local or
    Chalice, unless POWERTOOLS_TRACE_DISABLED), asked without building one."""
    return not Tracer._is_tracer_disabled()


# Only botocore is patched: AWS is all the platform calls (patching everything X-Ray knows of, http.client, sqlite3,
# requests..., loads a hundred more modules at every cold start).
tracer: Tracing = Tracer(service=SERVICE, patch_modules=("botocore",)) if tracing_enabled() else Untraced()
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
