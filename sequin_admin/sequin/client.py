"""An HTTP client for Sequin's documented API. It knows nothing of Django.

One `requests.Session` per client; every call carries a (connect, read) timeout; the transport
retries only failures where nothing reached the server (urllib3 connect errors), never a read.
A 429 is retried within a bound, honouring `Retry-After`, for reads and for the idempotent
mutation kinds (update, delete); a create is never retried automatically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

from .errors import (
    SequinAuthError,
    SequinConsumersNotConfirmed,
    SequinError,
    SequinNotFound,
    SequinOutcomeUnknown,
    SequinRateLimited,
    SequinUnexpectedAnswer,
    SequinUnreachable,
    SequinValidationError,
    error_text,
    field_errors_from,
)
from .types import Consumer, MutationRequest, MutationResult, Record, RecordPage, Sync

Timeout = tuple[float, float]
T = TypeVar("T")

DEFAULT_TIMEOUT: Timeout = (5.0, 40.0)
DEFAULT_PAGE_SIZE = 500
DEFAULT_RETRY_WAIT = 1.0  # a 429 without Retry-After


class SequinClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_records_per_mutation: int = 100,
        rate_limit_retries: int = 2,
        max_retry_wait: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_records_per_mutation = max_records_per_mutation
        self.rate_limit_retries = rate_limit_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": "sequin-admin/0.1",
            }
        )
        # connect=2 covers refused connections and connect timeouts only; read=0 and status=0
        # because a request that reached the server may have changed something. urllib3 would
        # otherwise act on a 429's Retry-After itself; `_call` does that, within its bound.
        retry = Retry(
            total=2,
            connect=2,
            read=0,
            status=0,
            other=0,
            redirect=0,
            backoff_factor=0.2,
            respect_retry_after_header=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"SequinClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    # Management API

    def list_syncs(self) -> list[Sync]:
        body, _ = self._call("GET", "/v1/syncs")
        return _parsed(Sync.from_json, _items(body, "data"))

    def get_sync(self, sync_id: str) -> Sync:
        body, _ = self._call("GET", f"/v1/syncs/{sync_id}")
        if not isinstance(body, Mapping) or "id" not in body:
            raise SequinUnexpectedAnswer("Sequin returned a sync without an id.", status=200)
        return _parsed(Sync.from_json, [body])[0]

    def list_consumers(self) -> list[Consumer]:
        body, _ = self._call("GET", "/v1/http-consumers")
        return _parsed(Consumer.from_json, _items(body, "data"))

    # Records

    def list_records_page(
        self,
        *,
        sync_id: str,
        collection_id: str,
        after_cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> RecordPage:
        params: dict[str, str | int] = {
            "sync_id": sync_id,
            "collection_id": collection_id,
            "limit": limit,
        }
        if after_cursor:
            params["after_cursor"] = after_cursor
        body, _ = self._call("GET", "/v1/records", params=params)
        records = tuple(_parsed(Record.from_json, _items(body, "records")))
        cursor = body.get("cursor") if isinstance(body, Mapping) else None
        return RecordPage(records=records, cursor=str(cursor) if cursor else after_cursor)

    def iter_record_pages(
        self,
        *,
        sync_id: str,
        collection_id: str,
        after_cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[RecordPage]:
        """Pages until the listing is exhausted; each page's cursor resumes after it."""
        cursor = after_cursor
        while True:
            page = self.list_records_page(
                sync_id=sync_id, collection_id=collection_id, after_cursor=cursor, limit=limit
            )
            if not page.records:
                return
            yield page
            if len(page.records) < limit or page.cursor in (None, cursor):
                return
            cursor = page.cursor

    # Mutation API

    def run_mutation(self, request: MutationRequest) -> MutationResult:
        count = len(request.upstream_ids if request.kind == "delete" else request.records)
        if count == 0:
            raise ValueError("A mutation needs at least one record.")
        if count > self.max_records_per_mutation:
            raise ValueError(
                f"{count} records exceed SEQUIN_MAX_RECORDS_PER_MUTATION "
                f"({self.max_records_per_mutation}); split the batch."
            )
        body, (status, attempts) = self._call(
            "POST",
            "/v1/mutations/run",
            json_body=request.body(),
            is_mutation=True,
            retry_rate_limit=request.kind != "create",
            awaited=bool(request.await_consumer_ids),
        )
        records = tuple(_parsed(Record.from_json, _items(body, "records")))
        return MutationResult(records=records, status=status, body=body, attempts=attempts)

    # Transport

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        is_mutation: bool = False,
        retry_rate_limit: bool = True,
        awaited: bool = False,
    ) -> tuple[Any, tuple[int, int]]:
        attempts = 0
        waited = 0.0
        while True:
            attempts += 1
            response = self._send(
                method, path, params=params, json_body=json_body, is_mutation=is_mutation
            )
            if (
                response.status_code == 429
                and retry_rate_limit
                and attempts <= self.rate_limit_retries
            ):
                wait = _retry_after_seconds(response.headers.get("Retry-After"))
                wait = DEFAULT_RETRY_WAIT if wait is None else wait
                if waited + wait <= self.max_retry_wait:
                    waited += wait
                    self._sleep(wait)
                    continue
            return _interpret(response, is_mutation=is_mutation, awaited=awaited), (
                response.status_code,
                attempts,
            )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None,
        json_body: Any,
        is_mutation: bool,
    ) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            return self._session.request(
                method, url, params=params, json=json_body, timeout=self.timeout
            )
        except requests.ConnectTimeout as exc:
            raise SequinUnreachable(f"Sequin did not accept a connection in time ({url}).") from exc
        except requests.ReadTimeout as exc:
            if is_mutation:
                raise SequinOutcomeUnknown(
                    "Sequin did not answer in time; the change may have been applied."
                ) from exc
            raise SequinUnreachable("Sequin did not answer in time.") from exc
        except requests.ConnectionError as exc:
            if _nothing_sent(exc) or not is_mutation:
                raise SequinUnreachable(f"Sequin could not be reached ({url}).") from exc
            raise SequinOutcomeUnknown(
                "The connection dropped before Sequin answered; the change may have been applied."
            ) from exc
        except requests.RequestException as exc:
            if is_mutation:
                raise SequinOutcomeUnknown(f"The request failed: {type(exc).__name__}.") from exc
            raise SequinUnreachable(f"The request failed: {type(exc).__name__}.") from exc


def _nothing_sent(exc: requests.ConnectionError) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _retry_after_seconds(header: str | None) -> float | None:
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


def _parsed(parse: Callable[[Mapping[str, Any]], T], items: list[Mapping[str, Any]]) -> list[T]:
    """Typed values, or SequinUnexpectedAnswer when an item lacks what the docs promise."""
    try:
        return [parse(item) for item in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise SequinUnexpectedAnswer(
            f"Sequin's answer is not shaped as documented ({type(exc).__name__}: {exc}).",
            status=200,
        ) from exc


def _items(body: Any, key: str) -> list[Mapping[str, Any]]:
    items = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise SequinUnexpectedAnswer(f"Sequin's answer has no list of {key!r}.", status=200)
    return items


def _interpret(response: requests.Response, *, is_mutation: bool, awaited: bool) -> Any:
    status = response.status_code
    text = response.text
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if 200 <= status < 300:
        if body is None:
            raise SequinUnexpectedAnswer(
                f"Sequin answered {status} with a body that is not JSON.",
                status=status,
                body_text=text,
            )
        return body
    error = _error_for(
        status,
        body,
        text,
        is_mutation=is_mutation,
        awaited=awaited,
        retry_after=response.headers.get("Retry-After"),
    )
    raise error


def _error_for(
    status: int,
    body: Any,
    text: str,
    *,
    is_mutation: bool,
    awaited: bool,
    retry_after: str | None,
) -> SequinError:
    message = error_text(body, text)
    common: dict[str, Any] = {"status": status, "body_text": text}
    if body is None and status not in (401, 403, 404, 429, 504):
        return SequinUnexpectedAnswer(
            f"Sequin answered {status} with a body that is not JSON.", **common
        )
    if status in (400, 422):
        return SequinValidationError(message, field_errors=field_errors_from(body), **common)
    if status in (401, 403):
        return SequinAuthError(
            "Sequin refused the token: an administrator must fix SEQUIN_API_TOKEN.", **common
        )
    if status == 404:
        return SequinNotFound(message or "Not found.", **common)
    if status == 429:
        seconds = _retry_after_seconds(retry_after)
        return SequinRateLimited(message or "Too many requests.", retry_after=seconds, **common)
    if status == 504:
        if is_mutation:
            return SequinOutcomeUnknown(message or "The upstream timed out.", **common)
        return SequinUnreachable(message or "Sequin timed out.", **common)
    if status == 500 and is_mutation and awaited:
        return SequinConsumersNotConfirmed(message, **common)
    return SequinUnexpectedAnswer(f"Sequin answered {status}: {message}", **common)
