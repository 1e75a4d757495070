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


class SequinAuthError(SequinError):
    kind = ErrorKind.AUTH
    title = "Sequin refused the token"


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
    """A body that is not JSON, another 5xx, or a status Sequin does not document. For a
    mutation nobody knows whether the write happened, so it is reconciled like a 504."""

    kind = ErrorKind.UNEXPECTED
    title = "Sequin answered with something unexpected"
    may_have_landed = True


class SequinUnreachable(SequinError):
    """Nothing reached Sequin (refused connection, DNS, connect timeout), or a read failed."""

    kind = ErrorKind.UNREACHABLE
    title = "Sequin could not be reached"


def error_text(body: Any, raw_text: str) -> str:
    """The human message from either documented error body, else the raw text."""
    if isinstance(body, Mapping):
        for key in ("error", "summary", "message"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return raw_text.strip()[:500]


def field_errors_from(body: Any) -> dict[str, list[str]]:
    """`{"validation_errors": {"field": ["reason"]}}` from the management error shape."""
    if not isinstance(body, Mapping):
        return {}
    errors = body.get("validation_errors")
    if not isinstance(errors, Mapping):
        return {}
    return {
        str(name): [str(r) for r in reasons] if isinstance(reasons, list) else [str(reasons)]
        for name, reasons in errors.items()
    }
