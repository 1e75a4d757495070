"""The Sequin HTTP client: typed records, typed errors; no Django views."""

from __future__ import annotations

from .client import SequinClient
from .errors import (
    ErrorKind,
    SequinAuthError,
    SequinConsumersNotConfirmed,
    SequinError,
    SequinForbidden,
    SequinInvalidRequest,
    SequinNotFound,
    SequinOutcomeUnknown,
    SequinRateLimited,
    SequinUnexpectedAnswer,
    SequinUnreachable,
    SequinValidationError,
)
from .types import (
    Consumer,
    MutationRequest,
    MutationResult,
    Record,
    RecordPage,
    Sync,
    consumers_for,
)

__all__ = [
    "Consumer",
    "ErrorKind",
    "MutationRequest",
    "MutationResult",
    "Record",
    "RecordPage",
    "SequinAuthError",
    "SequinClient",
    "SequinConsumersNotConfirmed",
    "SequinError",
    "SequinForbidden",
    "SequinInvalidRequest",
    "SequinNotFound",
    "SequinOutcomeUnknown",
    "SequinRateLimited",
    "SequinUnexpectedAnswer",
    "SequinUnreachable",
    "SequinValidationError",
    "Sync",
    "consumers_for",
]
