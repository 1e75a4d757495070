"""What an HTTP answer from Sequin means, decided once, here.

Success is a 200 with a JSON body (its shape is checked by the caller, which knows what it
asked for). The documented failures (400, 401, 403, 404, 422, 429) mean nothing was written.
A 504, and a 500 after awaiting consumers, are documented too and say the write may have
happened. Every other answer is unexpected; for a mutation that means "may have landed".
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from .errors import (
    SequinAuthError,
    SequinConsumersNotConfirmed,
    SequinError,
    SequinForbidden,
    SequinNotFound,
    SequinOutcomeUnknown,
    SequinRateLimited,
    SequinUnexpectedAnswer,
    SequinUnreachable,
    SequinValidationError,
    error_text,
    field_errors_from,
)

UNAUTHORIZED = "Sequin refused the token: an administrator must fix SEQUIN_API_TOKEN."
FORBIDDEN = (
    "Sequin refused the request: the token lacks permission for it (403 Forbidden). "
    "An administrator must grant the token access; the token itself is valid."
)

MASK = "********"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Answer:
    status: int
    # The parsed JSON; None when the body is empty, not JSON, or JSON `null`.
    body: Any
    # The body decoded as UTF-8, kept for messages and for the journal.
    text: str
    content_type: str
    retry_after: str | None
    location: str | None

    @classmethod
    def of(cls, response: requests.Response, *, masked: str = "") -> Answer:
        raw = response.content
        if masked:
            # A server that echoes the request's credentials back (in an error, say) must
            # not carry the token into a page, the journal or a log: it goes before any use.
            raw = raw.replace(masked.encode(), MASK.encode())
        # Bytes, not `response.text`: JSON is UTF-8 whatever the Content-Type says, and
        # requests would decode a `text/plain` without a charset as ISO-8859-1.
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = None
        return cls(
            status=response.status_code,
            body=body,
            text=raw.decode("utf-8", errors="replace"),
            content_type=response.headers.get("Content-Type", ""),
            retry_after=response.headers.get("Retry-After"),
            location=response.headers.get("Location"),
        )

    @property
    def readable_text(self) -> str:
        """The body as words: an HTML page's title (or its text), else the text itself."""
        if "html" not in self.content_type.lower() and not self.text.lstrip().startswith("<"):
            return self.text.strip()
        title = _TITLE.search(self.text)
        words = title.group(1) if title else _TAG.sub(" ", self.text)
        return " ".join(html.unescape(words).split())


def body_of(answer: Answer, *, is_mutation: bool, awaited: bool) -> Any:
    """The JSON body of a success; otherwise raise the error this answer means."""
    if answer.status == 200 and answer.body is not None:
        return answer.body
    raise error_for(answer, is_mutation=is_mutation, awaited=awaited)


def error_for(answer: Answer, *, is_mutation: bool, awaited: bool) -> SequinError:
    status, body = answer.status, answer.body
    message = error_text(body, answer.readable_text)
    common: dict[str, Any] = {"status": status, "body_text": answer.text}
    if status in (400, 422):
        return SequinValidationError(
            message or f"Sequin refused the request ({status}).",
            field_errors=field_errors_from(body),
            **common,
        )
    if status == 401:
        return SequinAuthError(UNAUTHORIZED, **common)
    if status == 403:
        return SequinForbidden(FORBIDDEN, **common)
    if status == 404:
        return SequinNotFound(message or "Not found.", **common)
    if status == 429:
        seconds = retry_after_seconds(answer.retry_after)
        return SequinRateLimited(message or "Too many requests.", retry_after=seconds, **common)
    if status == 504:
        if is_mutation:
            return SequinOutcomeUnknown(message or "The upstream timed out.", **common)
        return SequinUnreachable(message or "Sequin timed out.", **common)
    # Sequin's own 500 after an await is JSON; a proxy's HTML 500 says nothing about consumers.
    if status == 500 and is_mutation and awaited and body is not None:
        return SequinConsumersNotConfirmed(
            message or "The consumers did not confirm in time.", **common
        )
    return SequinUnexpectedAnswer(unexpected_message(answer, message), **common)


def unexpected_message(answer: Answer, message: str = "") -> str:
    status = answer.status
    if 300 <= status < 400:
        target = f" to {answer.location}" if answer.location else ""
        return f"Sequin answered {status}, a redirect{target}; the client follows none."
    if not answer.text.strip():
        return f"Sequin answered {status} with an empty body."
    if answer.body is None:
        shown = answer.readable_text[:200]
        return f"Sequin answered {status} with a body that is not JSON: {shown}"
    if 200 <= status < 300 or not message:
        return f"Sequin answered {status}, which its documentation does not describe."
    return f"Sequin answered {status}: {message}"


def retry_after_seconds(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
