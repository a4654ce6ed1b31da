"""Open311 GeoReport v2 on the wire: formats, the form-encoded body, the language asked, errors as the spec writes them.

Where the cut is: the service (``omnicity.application.open311.Open311``) maps GeoReport requests onto cases and back,
and answers with the spec's documents as plain data (lists of records, records as dicts); it knows nothing of HTTP.
This module is everything between it and an HTTP reply, and :class:`Open311Endpoint` wraps the service with it: which
format a path asks for, reading a form-encoded body and the query string into one set of parameters, the language of
the reply (the ``locale`` parameter, else ``Accept-Language``, else French), writing a document as JSON or XML, and an
error as the spec's list with its HTTP status. (The service keeps what depends on the procedure: which Open311
parameter a form field came from, :meth:`Open311.parameter_name`, that an error names.)

- **formats**: API Gateway path parameters are whole segments, so the format travels in them: ``services.json``,
  ``requests.xml``, ``BXL-2026-000123.xml`` (:func:`split_document`). JSON is written as is; XML with the standard
  library's ``xml.etree``: ``<services>``, ``<service_definition>``, ``<service_requests>`` (``<request>`` items) and
  ``<errors>``, UTF-8, no namespace, and never a character XML 1.0 cannot carry.
- **errors** are the spec's list of ``{code, description}`` with the HTTP status: 400 for bad input, 403 for a
  missing or wrong ``api_key``, 404 for what does not exist, 413 for a body over the limit, 429 (with ``Retry-After``,
  added by ``omnicity.http.errors``) for a client over its limit of anonymous reports; failures of ours keep their
  5xx and say nothing of their cause.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response

from omnicity.application.open311 import Open311, Params, single
from omnicity.domain.errors import MalformedRequestError, NotFoundError, OmnicityError
from omnicity.domain.models import Language

MAX_FORM_FIELDS: Final = 200
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"

_XML_UNSAFE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_ITEMS: Final = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


class Format(StrEnum):
    JSON = "json"
    XML = "xml"

    @property
    def content_type(self) -> str:
        return "application/json; charset=utf-8" if self is Format.JSON else "text/xml; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, content type and the rendered body."""

    status: int
    content_type: str
    body: str


def respond(reply: Reply) -> Response[str]:
    """``reply`` as the resolver's response."""
    return Response(status_code=reply.status, content_type=reply.content_type, body=reply.body)


# ---------------------------------------------------------------------------------------------------- the endpoint
class Open311Endpoint:
    """The Open311 service on the wire: each GeoReport request read as the spec sends it, answered in the format its
    path asks for (``fmt``) and the language asked, or the error the service raised written in the spec's format."""

    def __init__(self, service: Open311) -> None:
        self.service = service

    def services(self, fmt: Format, params: Params, accept_language: str | None = None) -> Reply:
        return _ok(fmt, "services", self.service.services(params, language_of(params, accept_language)))

    def service_definition(self, fmt: Format, code: str, params: Params, accept_language: str | None = None) -> Reply:
        language = language_of(params, accept_language)
        return _ok(fmt, "service_definition", self.service.service_definition(code, params, language))

    def create_request(self, fmt: Format, params: Params, accept_language: str | None = None, *, source: str) -> Reply:
        """:meth:`Open311.create_request` (``source``: the caller the request's address stands for)."""
        language = language_of(params, accept_language)
        return _ok(fmt, "service_requests", self.service.create_request(params, language, source=source))

    def list_requests(self, fmt: Format, params: Params, accept_language: str | None = None) -> Reply:
        return _ok(fmt, "service_requests", self.service.list_requests(params, language_of(params, accept_language)))

    def get_request(self, fmt: Format, reference: str, params: Params, accept_language: str | None = None) -> Reply:
        language = language_of(params, accept_language)
        return _ok(fmt, "service_requests", self.service.get_request(reference, params, language))

    def error(self, fmt: Format, error: OmnicityError) -> Reply:
        """:func:`error_reply`, naming the form's fields as the Open311 parameters they came from."""
        return error_reply(fmt, error, self.service.parameter_name)

    def error_response(self, path: str, error: OmnicityError) -> Response[str]:
        """The error of a request for ``path``, in the format the path asks for (JSON when it names none): the writer
        ``omnicity.http.errors.install_error_handlers`` takes."""
        return respond(self.error(format_of(path), error))


def _ok(fmt: Format, root: str, document: Any) -> Reply:
    return Reply(200, fmt.content_type, render(fmt, root, document))


# ---------------------------------------------------------------------------------------------------- reading
def split_document(segment: str) -> tuple[str, Format]:
    """``services.json`` -> ``("services", Format.JSON)``; a missing or unknown extension is a 404."""
    name, dot, extension = segment.rpartition(".")
    try:
        if not dot or not name:
            raise ValueError(segment)
        return name, Format(extension.lower())
    except ValueError:
        raise NotFoundError(f"no resource {segment!r}: add .json or .xml") from None


def format_of(path: str) -> Format:
    """The format a path asks for (its extension), JSON when it names none: how to write an error."""
    return Format.XML if path.lower().endswith(".xml") else Format.JSON


def parse_form(body: str | None, content_type: str | None) -> dict[str, list[str]]:
    """The parameters of a form-encoded body (the spec's POST format); any other body is a 400."""
    if not body:
        return {}
    media_type = (content_type or FORM_CONTENT_TYPE).split(";", 1)[0].strip().lower()
    if media_type != FORM_CONTENT_TYPE:
        raise MalformedRequestError(f"send the parameters form-encoded ({FORM_CONTENT_TYPE}), not {media_type}")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise MalformedRequestError(f"too many parameters: at most {MAX_FORM_FIELDS}") from None
    return merge_params(pairs)


def merge_params(*sources: Iterable[tuple[str, str]] | Params) -> dict[str, list[str]]:
    """Parameters from several sources (query string, then body), each name's values in order."""
    merged: dict[str, list[str]] = {}
    for source in sources:
        pairs = (
            [(name, value) for name, values in source.items() for value in values]
            if isinstance(source, Mapping)
            else source
        )
        for name, value in pairs:
            merged.setdefault(name, []).append(value)
    return merged


def language_of(params: Params, accept_language: str | None) -> Language:
    """The ``locale`` parameter (``nl``, ``nl_BE``, ``en-GB``), else the best of ``Accept-Language``, else French."""
    supported = {language.value: language for language in Language}
    locale = single(params, "locale")
    if locale:
        primary = re.split(r"[-_]", locale, maxsplit=1)[0].lower()
        if primary in supported:
            return supported[primary]
    ranked: list[tuple[float, int, Language]] = []
    for position, entry in enumerate((accept_language or "").split(",")[:20]):
        tag, _, quality = entry.strip().partition(";")
        primary = tag.strip().split("-", 1)[0].lower()
        if primary not in supported:
            continue
        weight = 1.0
        if quality.strip().startswith("q="):
            try:
                weight = float(quality.strip()[2:])
            except ValueError:
                continue
        if weight > 0:
            ranked.append((-weight, position, supported[primary]))
    return min(ranked)[2] if ranked else Language.FR


# ---------------------------------------------------------------------------------------------------- writing
def render(fmt: Format, root: str, document: Any) -> str:
    """A document (lists of records, records as dicts) as JSON, or as XML under ``root``."""
    if fmt is Format.JSON:
        return json.dumps(document, ensure_ascii=False)
    element = _element(root, document)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")


def _element(name: str, value: Any) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, list):
        for item in value:
            element.append(_element(_XML_ITEMS[name], item))
    elif isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _XML_UNSAFE.sub("\ufffd", str(value))  # XML 1.0 cannot carry control characters
    return element


def error_reply(fmt: Format, error: OmnicityError, rename: Callable[[str], str] = str) -> Reply:
    """An error in the spec's format: 403 for a missing or wrong api_key, 404 for what does not exist, 413 for a body
    over the limit, 429 for a client over its limit of reports (the handler adds ``Retry-After``), 400 for any other
    mistake of the client; failures of ours keep their 5xx status. Each detail of a validation error is one error of
    the list, its field named by ``rename`` (as the client sent it)."""
    if error.http_status in (401, 403):
        status = 403
    elif error.http_status in (404, 413, 429) or error.http_status >= 500:
        status = error.http_status
    else:
        status = 400
    if error.http_status >= 500:
        descriptions = ["the service is unavailable: try again later"]
    elif error.details:
        descriptions = [
            f"{rename(str(detail.get('field') or 'request'))}: {detail['reason']}" for detail in error.details
        ]
    else:
        descriptions = [error.message]
    errors = [{"code": status, "description": description} for description in descriptions]
    return Reply(status, fmt.content_type, render(fmt, "errors", errors))
