"""One typed error for every kind of answer Sequin (or the network) can give.

The client decides what an answer means, once: each error class carries its `kind`, and
everything above the client (the journal, the views, the templates) switches on that kind,
never on HTTP status codes. `may_have_landed` says whether a mutation that ended in this
error may still have reached the upstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    """What an answer means; the journal stores it as `Mutation.error_kind`."""

    VALIDATION = "validation"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    UNKNOWN = "unknown"
    CONSUMERS_UNCONFIRMED = "consumers_unconfirmed"
    UNEXPECTED = "unexpected"
    UNREACHABLE = "unreachable"


# Bodies are kept for the journal and the error page, bounded so a huge HTML page from a proxy
# cannot fill the database.
MAX_BODY_CHARS = 20_000


class SequinError(Exception):
    kind: ClassVar[ErrorKind] = ErrorKind.UNEXPECTED
    title: ClassVar[str] = "Sequin answered with an error"
    # True where a mutation may have reached the upstream although no success came back.
    may_have_landed: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body_text: str = "",
        field_errors: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body_text = body_text[:MAX_BODY_CHARS]
        self.field_errors: dict[str, list[str]] = dict(field_errors or {})


class SequinValidationError(SequinError):
    """400 or 422: the upstream (or Sequin) refused the data."""

    kind = ErrorKind.VALIDATION
    title = "The upstream refused the change"


class SequinInvalidRequest(SequinValidationError, ValueError):
    """Refused before anything was sent (a NaN, a value JSON cannot hold, too many records).
    A ValueError too, since it is the caller's request that is wrong."""

    title = "The change cannot be sent"


class SequinAuthError(SequinError):
    """401: the token is wrong, expired or missing."""

    kind = ErrorKind.AUTH
    title = "Sequin refused the token"


class SequinForbidden(SequinAuthError):
    """403: Sequin knows the token, but it may not do this; a new token would not help."""

    title = "The token lacks permission"


class SequinNotFound(SequinError):
    kind = ErrorKind.NOT_FOUND
    title = "Not found upstream"


class SequinRateLimited(SequinError):
    kind = ErrorKind.RATE_LIMITED
    title = "Rate limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SequinOutcomeUnknown(SequinError):
    """504, a read timeout or a dropped connection: the change may have been applied."""

    kind = ErrorKind.UNKNOWN
    title = "Outcome unknown"
    may_have_landed = True


class SequinConsumersNotConfirmed(SequinError):
    """500 after `await_consumer_ids`: saved upstream, the consumers did not confirm in time."""

    kind = ErrorKind.CONSUMERS_UNCONFIRMED
    title = "Saved upstream; consumers not confirmed in time"
    may_have_landed = True


class SequinUnexpectedAnswer(SequinError):
    """Neither a documented failure nor a parseable success: a body that is not JSON, an
    empty 200, a 204, a 200 of another shape, a redirect, a 500 without await, a proxy's
    502 or 503. For a mutation nobody knows whether the write happened, so it is reconciled
    like a 504; for a read it is just an error."""

    kind = ErrorKind.UNEXPECTED
    title = "Sequin answered with something unexpected"
    may_have_landed = True


class SequinUnreachable(SequinError):
    """Nothing reached Sequin (refused connection, DNS, connect timeout), or a read failed."""

    kind = ErrorKind.UNREACHABLE
    title = "Sequin could not be reached"


MAX_MESSAGE_CHARS = 500
# Keys that hold a human message in the error bodies seen: Sequin's mutation `{"error"}` and
# management `{"summary"}`, Phoenix's `{"errors": {"detail"}}`, and the generic `{"message"}`.
_MESSAGE_KEYS = ("error", "summary", "message", "detail", "title", "errors")


def error_text(body: Any, raw_text: str) -> str:
    """The human message of an error body; the raw text only when the body is not JSON.

    A JSON body of an unknown shape gives its text values ("field: reason; ..."), never the
    JSON itself, so a person never reads braces and quotes.
    """
    if body is None:
        return raw_text.strip()[:MAX_MESSAGE_CHARS]
    return _message_in(body)[:MAX_MESSAGE_CHARS]


def _message_in(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        for key in _MESSAGE_KEYS:
            found = _message_in(value.get(key))
            if found:
                return found
        parts = [(str(key), _message_in(item)) for key, item in value.items()]
        return "; ".join(f"{key}: {text}" for key, text in parts if text)
    if isinstance(value, list):
        return "; ".join(text for text in map(_message_in, value) if text)
    return ""  # numbers, booleans, null: no words to show


def field_errors_from(body: Any) -> dict[str, list[str]]:
    """Per-field reasons: the management shape `{"validation_errors": {"field": ["reason"]}}`,
    or a changeset-like `{"errors": {"field": ["reason"]}}`."""
    if not isinstance(body, Mapping):
        return {}
    errors = body.get("validation_errors")
    if not isinstance(errors, Mapping):
        errors = body.get("errors")
        if not isinstance(errors, Mapping) or "detail" in errors:
            return {}
    return {
        str(name): [_message_in(r) or str(r) for r in reasons]
        if isinstance(reasons, list)
        else [_message_in(reasons) or str(reasons)]
        for name, reasons in errors.items()
    }
