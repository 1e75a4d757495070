"""Routes, Bearer-token checks and faults, independent of the HTTP server that carries them."""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sequin_admin.sandbox.faults import Fault, FaultSwitch, fault_response
from sequin_admin.sandbox.mutations import run_mutation
from sequin_admin.sandbox.profiles import DOCS, Profile
from sequin_admin.sandbox.responses import Response, json_response, summary_error
from sequin_admin.sandbox.schemas import PROVIDER_LABELS
from sequin_admin.sandbox.store import Store

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CONTROL_PREFIX = "/_sandbox/"
MUTATION_PATH = re.compile(r"/v1/mutations/run/?")

Query = dict[str, list[str]]
Handler = Callable[[re.Match[str], Query, bytes], Response]


@dataclass(frozen=True)
class Handled:
    response: Response
    fault: Fault | None = None


def _param(query: Query, *names: str) -> str | None:
    """The first non-empty value among `names` (aliases), else None."""
    for name in names:
        for value in query.get(name, []):
            if value:
                return value
    return None


class SandboxApi:
    def __init__(
        self,
        store: Store,
        faults: FaultSwitch,
        token: str,
        *,
        profile: Profile = DOCS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.faults = faults
        self.token = token
        self.profile = profile
        self.cursors = profile.cursors(token)
        self.sleep = sleep
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/v1/syncs/?"), self._list_syncs),
            ("GET", re.compile(r"/v1/syncs/([^/]+)/?"), self._get_sync),
            ("GET", re.compile(r"/v1/records/?"), self._list_records),
            ("GET", re.compile(r"/v1/http-consumers/?"), self._list_consumers),
            ("GET", re.compile(r"/v1/http-consumers/([^/]+)/?"), self._get_consumer),
            ("GET", re.compile(r"/v1/consumers/postgres/?"), self._list_postgres_consumers),
            ("POST", MUTATION_PATH, self._run_mutation),
            ("GET", re.compile(r"/_sandbox/faults/?"), self._list_faults),
            ("POST", re.compile(r"/_sandbox/faults/?"), self._add_fault),
            ("DELETE", re.compile(r"/_sandbox/faults/?"), self._clear_faults),
            ("POST", re.compile(r"/_sandbox/reset/?"), self._reset),
        ]

    # --- entry point --------------------------------------------------------------------------

    def handle(self, method: str, target: str, authorization: str | None, body: bytes) -> Handled:
        parts = urlsplit(target)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        if not (path == "/v1" or path.startswith(("/v1/", CONTROL_PREFIX))):
            return Handled(summary_error(404, "Not found"))
        if not self._authorized(authorization):
            return Handled(summary_error(401, "Unauthorized: invalid API key"))
        # Control endpoints never misbehave: a fault must always be switchable off.
        fault = None if path.startswith(CONTROL_PREFIX) else self.faults.take(path)

        def respond() -> Response:
            return self._route(method, path, query, body)

        if fault is None:
            return Handled(respond())
        if fault.kind == "consumers_late":
            return Handled(self._with_late_consumers(fault, method, path, query, body), fault)
        return Handled(self._with_fault(fault, respond, query, body), fault)

    def _authorized(self, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not credentials:
            return False
        return hmac.compare_digest(credentials.strip().encode(), self.token.encode())

    def _route(self, method: str, path: str, query: Query, body: bytes) -> Response:
        allowed = []
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method == method:
                try:
                    return handler(match, query, body)
                except Exception:
                    logger.exception("sandbox handler failed: %s %s", method, path)
                    return summary_error(500, "Internal server error")
            allowed.append(route_method)
        if allowed:
            return summary_error(405, "Method not allowed")
        return summary_error(404, "Not found")

    def _with_fault(
        self, fault: Fault, respond: Callable[[], Response], query: Query, body: bytes
    ) -> Response:
        # Any fault may be slow: a 504 or a 429 that takes seconds is what upstreams do.
        if fault.latency_ms:
            self.sleep(fault.latency_ms / 1000)
        if fault.kind == "latency":
            return respond()
        if fault.writes_through:
            respond()
        return fault_response(fault, self._provider_label(query, body))

    def _with_late_consumers(
        self, fault: Fault, method: str, path: str, query: Query, body: bytes
    ) -> Response:
        """The mutation runs, and the consumers it awaits miss its await timeout."""
        if fault.latency_ms:
            self.sleep(fault.latency_ms / 1000)
        if method == "POST" and MUTATION_PATH.fullmatch(path):
            return self._mutate(body, consumers_late=True)
        return self._route(method, path, query, body)

    def _provider_label(self, query: Query, body: bytes) -> str:
        """Whose API 'timed out': the provider of the sync the request was about."""
        sync_id = _param(query, "sync_id")
        if sync_id is None:
            try:
                parsed: Any = json.loads(body) if body else None
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and isinstance(parsed.get("sync_id"), str):
                sync_id = parsed["sync_id"]
        sync = self.store.get_sync(sync_id) if sync_id else None
        return PROVIDER_LABELS.get(sync["provider"], "Upstream") if sync else "Upstream"

    # --- Sequin's endpoints -------------------------------------------------------------------

    def _list_syncs(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        return json_response(200, {"data": self.store.list_syncs()})

    def _get_sync(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        sync = self.store.get_sync(unquote(match.group(1)))
        return json_response(200, sync) if sync else summary_error(404, "Not found")

    def _list_consumers(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        return json_response(200, {"data": self.store.list_consumers()})

    def _get_consumer(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        consumer = self.store.get_consumer(unquote(match.group(1)))
        return json_response(200, consumer) if consumer else summary_error(404, "Not found")

    def _list_postgres_consumers(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        return json_response(200, {"data": self.store.list_postgres_consumers()})

    def _list_records(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        raw_limit = _param(query, "limit")
        limit = DEFAULT_LIMIT
        if raw_limit is not None:
            if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
                return summary_error(
                    400,
                    "Invalid limit",
                    {"limit": [f"must be an integer between 1 and {MAX_LIMIT}"]},
                )
            limit = int(raw_limit)
        after_cursor = _param(query, "after_cursor")
        after_idx = 0
        if after_cursor is not None:
            try:
                after_idx = self.cursors.decode(after_cursor)
            except ValueError:
                return summary_error(
                    400, "Invalid cursor", {"after_cursor": ["is not a cursor from this API"]}
                )
        records = self.store.list_records(
            after_idx=after_idx,
            limit=self.profile.page_size(limit),
            sync_id=_param(query, "sync_id"),
            collection_id=_param(query, "collection_id", "collection"),
            provider=_param(query, "provider"),
        )
        cursor = self.cursors.encode(records[-1]["updated_idx"]) if records else after_cursor
        sync_of = cache(self.store.get_sync)
        wire = [self.profile.record(record, sync_of) for record in records]
        return json_response(200, {"records": wire, "cursor": cursor})

    def _run_mutation(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        return self._mutate(body)

    def _mutate(self, body: bytes, *, consumers_late: bool = False) -> Response:
        return run_mutation(
            self.store,
            body,
            profile=self.profile,
            sleep=self.sleep,
            consumers_late=consumers_late,
        )

    # --- control endpoints --------------------------------------------------------------------

    def _faults_payload(self) -> dict[str, Any]:
        return {"data": [fault.to_dict() for fault in self.faults.active()]}

    def _list_faults(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        return json_response(200, self._faults_payload())

    def _add_fault(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        try:
            payload = json.loads(body or b"null")
            if not isinstance(payload, dict):
                raise ValueError("body must be a JSON object")
            fault = Fault.from_dict(payload)
        except (ValueError, TypeError) as error:
            return summary_error(400, "Invalid fault", {"fault": [str(error)]})
        self.faults.set(fault)
        return json_response(201, self._faults_payload())

    def _clear_faults(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        self.faults.clear()
        return json_response(200, self._faults_payload())

    def _reset(self, match: re.Match[str], query: Query, body: bytes) -> Response:
        self.store.reset()
        self.faults.clear()
        return json_response(200, {"records": self.store.count_records()})
