"""An HTTP client for Sequin's documented API. It knows nothing of Django.

One `requests.Session` per client; every call carries a (connect, read) timeout; the transport
retries only failures where nothing reached the server (urllib3 connect errors), never a read.
A 429 is retried within a bound, honouring `Retry-After`, for reads and for the idempotent
mutation kinds (update, delete); a create is never retried automatically. What each answer
means is decided in `answers.py`; nothing above the client looks at a status code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

from .answers import Answer, body_of, retry_after_seconds
from .errors import (
    SequinInvalidRequest,
    SequinNotFound,
    SequinOutcomeUnknown,
    SequinUnexpectedAnswer,
    SequinUnreachable,
)
from .types import (
    Consumer,
    ConsumerKind,
    MutationRequest,
    MutationResult,
    Record,
    RecordPage,
    Sync,
)
from .urls import api_path, service_root

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
        self.base_url = service_root(base_url)
        self.timeout = timeout
        self.max_records_per_mutation = max_records_per_mutation
        self.rate_limit_retries = rate_limit_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._token = token
        self._session = requests.Session()
        # No proxy from the environment and no .netrc: a netrc entry for the host would replace
        # the Bearer token with Basic auth, and a proxy variable meant for something else
        # would route the token through it.
        self._session.trust_env = False
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
        answer, body, _ = self._call("GET", "/v1/syncs")
        return _parsed(Sync.from_json, _items(answer, body, "data"), answer)

    def get_sync(self, sync_id: str) -> Sync:
        answer, body, _ = self._call("GET", api_path("syncs", sync_id))
        if not isinstance(body, Mapping) or "id" not in body:
            raise SequinUnexpectedAnswer(
                "Sequin returned a sync without an id.",
                status=answer.status,
                body_text=answer.text,
            )
        return _parsed(Sync.from_json, [body], answer)[0]

    def list_consumers(self) -> list[Consumer]:
        """HTTP consumers, then Postgres consumers: `await_consumer_ids` takes either."""
        http = self._consumers("/v1/http-consumers", "http")
        try:
            postgres = self._consumers("/v1/consumers/postgres", "postgres")
        except SequinNotFound:
            postgres = []  # a service without Postgres consumers has no such list
        return [*http, *postgres]

    def _consumers(self, path: str, kind: ConsumerKind) -> list[Consumer]:
        answer, body, _ = self._call("GET", path)
        return _parsed(partial(Consumer.from_json, kind=kind), _items(answer, body, "data"), answer)

    # Records

    def list_records_page(
        self,
        *,
        sync_id: str,
        collection_id: str,
        after_cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> RecordPage:
        # The docs name the collection filter `collection_id` on one page and `collection` on
        # another; sending both works whichever the service reads.
        params: dict[str, str | int] = {
            "sync_id": sync_id,
            "collection_id": collection_id,
            "collection": collection_id,
            "limit": limit,
        }
        if after_cursor:
            params["after_cursor"] = after_cursor
        answer, body, _ = self._call("GET", "/v1/records", params=params)
        records = tuple(
            record.within(sync_id=sync_id, collection_id=collection_id)
            for record in _parsed(Record.from_json, _items(answer, body, "records"), answer)
        )
        cursor = body.get("cursor")
        if not isinstance(cursor, str) or not cursor:
            if records:
                # Without a cursor the listing cannot resume after these records; ending here
                # would silently drop the rest of the collection.
                raise SequinUnexpectedAnswer(
                    f"Sequin listed {len(records)} records without a cursor to resume after "
                    f"them (cursor: {cursor!r}).",
                    status=answer.status,
                    body_text=answer.text,
                )
            cursor = after_cursor
        return RecordPage(records=records, cursor=cursor)

    def iter_record_pages(
        self,
        *,
        sync_id: str,
        collection_id: str,
        after_cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[RecordPage]:
        """Pages until an empty page or a cursor that did not move; each page's cursor resumes
        after it. A page shorter than `limit` ends nothing: the service may cap its pages."""
        cursor = after_cursor
        while True:
            page = self.list_records_page(
                sync_id=sync_id, collection_id=collection_id, after_cursor=cursor, limit=limit
            )
            if not page.records:
                return
            yield page
            if page.cursor == cursor:
                return
            cursor = page.cursor

    # Mutation API

    def run_mutation(self, request: MutationRequest) -> MutationResult:
        count = len(request.upstream_ids if request.kind == "delete" else request.records)
        if count == 0:
            raise SequinInvalidRequest("A mutation needs at least one record.")
        if count > self.max_records_per_mutation:
            raise SequinInvalidRequest(
                f"{count} records exceed SEQUIN_MAX_RECORDS_PER_MUTATION "
                f"({self.max_records_per_mutation}); split the batch."
            )
        answer, body, attempts = self._call(
            "POST",
            "/v1/mutations/run",
            payload=_encoded(request.body()),
            is_mutation=True,
            retry_rate_limit=request.kind != "create",
            awaited=bool(request.await_consumer_ids),
            timeout=self.timeout_for(request),
        )
        records = _parsed(Record.from_json, _items(answer, body, "records"), answer)
        if len(records) != count:
            # One record per mutated record is all the docs describe; fewer or more says
            # nothing sure about what was written.
            raise SequinUnexpectedAnswer(
                f"Sequin answered {answer.status} with {len(records)} records for the "
                f"{count} sent.",
                status=answer.status,
                body_text=answer.text,
            )
        return MutationResult(
            records=tuple(
                r.within(sync_id=request.sync_id, collection_id=request.collection_id)
                for r in records
            ),
            status=answer.status,
            body=body,
            attempts=attempts,
            kind=request.kind,
        )

    def timeout_for(self, request: MutationRequest) -> Timeout:
        """Awaiting consumers, Sequin may hold the answer for the whole await timeout; the
        configured read timeout comes on top as margin, so the wait ends with Sequin's own
        answer (a 200, or its 500) and not with an unknown outcome."""
        connect, read = self.timeout
        awaited = request.await_seconds
        return (connect, read) if awaited is None else (connect, awaited + read)

    # Transport

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        payload: bytes | None = None,
        is_mutation: bool = False,
        retry_rate_limit: bool = True,
        awaited: bool = False,
        timeout: Timeout | None = None,
    ) -> tuple[Answer, Any, int]:
        """The answer, its JSON body (a success) and the attempts it took; or raises."""
        attempts = 0
        waited = 0.0
        while True:
            attempts += 1
            response = self._send(
                method,
                path,
                params=params,
                payload=payload,
                is_mutation=is_mutation,
                timeout=timeout or self.timeout,
            )
            answer = Answer.of(response, masked=self._token)
            if answer.status == 429 and retry_rate_limit and attempts <= self.rate_limit_retries:
                wait = retry_after_seconds(answer.retry_after)
                wait = DEFAULT_RETRY_WAIT if wait is None else wait
                if waited + wait <= self.max_retry_wait:
                    waited += wait
                    self._sleep(wait)
                    continue
            body = body_of(answer, is_mutation=is_mutation, awaited=awaited)
            return answer, body, attempts

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None,
        payload: bytes | None,
        is_mutation: bool,
        timeout: Timeout,
    ) -> requests.Response:
        url = f"{self.base_url}{path}"
        headers = {"Content-Type": "application/json"} if payload is not None else None
        try:
            # Never a redirect: a 3xx is an answer to interpret, and following one would
            # resend a mutation (and the token) to wherever it points.
            return self._session.request(
                method,
                url,
                params=params,
                data=payload,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
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


def _encoded(body: Any) -> bytes:
    """The exact bytes sent. NaN and infinity are not JSON (Python would write them anyway),
    so a value that JSON cannot hold is refused here, before anything leaves."""
    try:
        return json.dumps(body, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise SequinInvalidRequest(f"The change cannot be sent as JSON: {exc}.") from exc


def _nothing_sent(exc: requests.ConnectionError) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _parsed(
    parse: Callable[[Mapping[str, Any]], T], items: list[Mapping[str, Any]], answer: Answer
) -> list[T]:
    """Typed values, or SequinUnexpectedAnswer when an item lacks what the docs promise."""
    try:
        return [parse(item) for item in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise SequinUnexpectedAnswer(
            f"Sequin's answer is not shaped as documented ({type(exc).__name__}: {exc}).",
            status=answer.status,
            body_text=answer.text,
        ) from exc


def _items(answer: Answer, body: Any, key: str) -> list[Mapping[str, Any]]:
    items = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise SequinUnexpectedAnswer(
            f"Sequin's answer has no list of {key!r}.", status=answer.status, body_text=answer.text
        )
    return items
