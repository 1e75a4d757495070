"""One typed error for every kind of answer Sequin (or the network) can give.

Each error says what it means for a mutation: `outcome` is "failed" (nothing was applied, or
the upstream refused), "unknown" (the change may have reached the upstream) or
"consumers_unconfirmed" (applied upstream; the awaited consumers did not confirm in time).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

Outcome = Literal["failed", "unknown", "consumers_unconfirmed"]

# Bodies are kept for the journal and the error page, bounded so a huge HTML page from a proxy
# cannot fill the database.
MAX_BODY_CHARS = 20_000


class SequinError(Exception):
    outcome: ClassVar[Outcome] = "failed"
    title: ClassVar[str] = "Sequin answered with an error"

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

    @property
    def body_json(self) -> Any:
        try:
            return json.loads(self.body_text)
        except ValueError:
            return None


class SequinValidationError(SequinError):
    """400 or 422: the upstream (or Sequin) refused the data."""

    title = "The upstream refused the change"


class SequinAuthError(SequinError):
    title = "Sequin refused the token"


class SequinNotFound(SequinError):
    title = "Not found upstream"


class SequinRateLimited(SequinError):
    title = "Rate limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SequinOutcomeUnknown(SequinError):
    """504, a read timeout or a dropped connection: the change may have been applied."""

    outcome = "unknown"
    title = "Outcome unknown"


class SequinConsumersNotConfirmed(SequinError):
    """500 after `await_consumer_ids`: saved upstream, the consumers did not confirm in time."""

    outcome = "consumers_unconfirmed"
    title = "Saved upstream; consumers not confirmed in time"


class SequinUnexpectedAnswer(SequinError):
    """A body that is not JSON, another 5xx, or a status Sequin does not document."""

    title = "Sequin answered with something unexpected"


class SequinUnreachable(SequinError):
    """Nothing reached Sequin (refused connection, DNS, connect timeout), or a read failed."""

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
