"""Citizen notifications: an email in the case's language, from the templates in ``catalogue/messages.yaml``.

Sent through SES; the local runtime captures what SES receives (``GET /local/outbox``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from omnicity import aws
from omnicity.domain.city import get_messages
from omnicity.domain.errors import DeliveryFailedError
from omnicity.domain.models import Case, Procedure


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)  # noqa: S701 - plain-text email


def compose(message: str, case: Case, procedure: Procedure, to: str, extra: Mapping[str, str] | None = None) -> Email:
    """The email ``message`` (e.g. ``document_ready``, ``rejected``) about ``case``, in the case's language.

    ``extra`` adds what the case does not hold (e.g. ``municipality``, the registered address's, for a letter)."""
    template = get_messages().emails[message]
    language = case.language
    decided = next((entry for entry in reversed(case.timeline) if entry.event.startswith("decided:")), None)
    outcome = get_messages().outcomes.get(case.outcome or "")
    context = {
        "reference": case.reference,
        "title": procedure.title.in_language(language),
        "reason": case.reason.in_language(language) if case.reason else "",
        "outcome": outcome.in_language(language) if outcome else "",
        "comment": decided.note.in_language(language) if decided and decided.note else "",
        **(extra or {}),
    }
    return Email(
        to=to,
        subject=_compiled(template.subject.in_language(language)).render(context),
        body=_compiled(template.body.in_language(language)).render(context),
    )


@cache
def _compiled(source: str) -> Any:
    """A message template compiled once per execution environment (messages.yaml does not change while it runs)."""
    return _environment().from_string(source)


class EmailSender:
    def __init__(self, sender: str, client: Any | None = None) -> None:
        self._sender = sender
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.ses()
        return self._client

    def send(self, email: Email) -> str:
        """Send; a transient failure is TransientError (retried), a refusal for good DeliveryFailedError."""
        from botocore.exceptions import ClientError

        try:
            with aws.translate_errors("SES send_email"):
                response = self.client.send_email(
                    Source=self._sender,
                    Destination={"ToAddresses": [email.to]},
                    Message={
                        "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": email.body, "Charset": "UTF-8"}},
                    },
                )
        except ClientError as exc:
            raise DeliveryFailedError(f"SES refused the message ({aws.error_code(exc)})") from exc
        return str(response["MessageId"])
