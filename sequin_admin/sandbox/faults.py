"""Switchable faults, so every error path of a Sequin client can be shown and tested.

Faults queue up in the order they were set; each request consumes the first active fault whose
`match` prefixes its path. `count` is how many requests a fault still affects (0: until cleared).

Some faults write first and then answer with something that says nothing sure about the write
(a 504, a 500, a dropped connection, a proxy's 502 page, a 503, an empty 200, a 204): that is
when a client must read "outcome unknown" and reconcile. `consumers_late` lets the mutation
through and makes its awaited consumers miss the await timeout, so the answer is the 500
Sequin documents for that case, after a real wait.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from sequin_admin.sandbox.responses import (
    CONSUMERS_TIMED_OUT,
    DROPPED,
    Response,
    json_response,
    mutation_error,
)

FAULT_KINDS = (
    "latency",
    "timeout_504",
    "consumers_500",
    "consumers_late",
    "rate_limit_429",
    "garbage",
    "drop",
    "error_500",
    "proxy_502",
    "unavailable_503",
    "empty_200",
    "no_content_204",
)
# Faults that let the request through to the handler (when `apply` is on) before misbehaving:
# the write happens, and the answer says nothing (or something wrong) about it.
WRITE_THROUGH_KINDS = (
    "timeout_504",
    "consumers_500",
    "drop",
    "proxy_502",
    "unavailable_503",
    "empty_200",
    "no_content_204",
)


@dataclass
class Fault:
    kind: str
    count: int = 1
    latency_ms: int = 0
    retry_after: int = 1
    status: int | None = None
    apply: bool = True
    match: str = "/v1/mutations/run"

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        for name in ("count", "latency_ms", "retry_after"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        if self.status is not None and (
            not isinstance(self.status, int) or not 100 <= self.status <= 599
        ):
            raise ValueError("status must be an HTTP status code or null")
        if not isinstance(self.apply, bool):
            raise ValueError("apply must be a boolean")
        if not isinstance(self.match, str) or not self.match.startswith("/"):
            raise ValueError("match must be a path prefix starting with /")

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Fault:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(payload) - known)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
        if "kind" not in payload:
            raise ValueError("kind is required")
        return cls(**dict(payload))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def writes_through(self) -> bool:
        return self.kind in WRITE_THROUGH_KINDS and self.apply


class FaultSwitch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def set(self, fault: Fault) -> Fault:
        """Queue a fault behind those already active."""
        with self._lock:
            self._faults.append(dataclasses.replace(fault))
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return [dataclasses.replace(fault) for fault in self._faults]

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first active fault matching `path`."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.match):
                    taken = dataclasses.replace(fault)
                    if fault.count:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return taken
        return None


_NGINX_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


# What a load balancer in front of a service says when no instance answers in time.
_NO_HEALTHY_UPSTREAM = "no healthy upstream"


def _nginx_page(status: int) -> Response:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    page = _NGINX_PAGE.format(status=status, reason=reason)
    return Response(status=status, body=page.encode(), content_type="text/html")


def fault_response(fault: Fault, provider_label: str) -> Response:
    """The answer a fault gives instead of (or after) the real one; not for `latency` or
    `consumers_late`, which change how the real answer comes about."""
    if fault.kind == "timeout_504":
        return mutation_error(504, f"Error: {provider_label} API timed out")
    if fault.kind == "consumers_500":
        return mutation_error(500, CONSUMERS_TIMED_OUT)
    if fault.kind == "rate_limit_429":
        return json_response(
            429, {"summary": "Too Many Requests"}, (("Retry-After", str(fault.retry_after)),)
        )
    if fault.kind == "garbage":
        return _nginx_page(fault.status or 502)
    if fault.kind == "drop":
        return DROPPED
    if fault.kind == "error_500":
        return json_response(fault.status or 500, {"error": "Error: internal error"})
    if fault.kind == "proxy_502":
        return _nginx_page(502)
    if fault.kind == "unavailable_503":
        body = _NO_HEALTHY_UPSTREAM.encode()
        return Response(status=503, body=body, content_type="text/plain")
    if fault.kind == "empty_200":
        return Response(status=200)
    if fault.kind == "no_content_204":
        return Response(status=204, content_type="")
    raise ValueError(f"{fault.kind} has no response of its own")
