"""`POST /v1/mutations/run`: parse the request, apply its records in order, wait for the
awaited consumers, then answer in the profile's shape.

A batch is deliberately not atomic: records are applied in order and the first one the upstream
refuses stops the batch, leaving the earlier ones applied. That is the behaviour a client must
survive, since Sequin documents nothing stronger. (How they are written, one statement for an
update or a delete batch, is the sandbox's own speed; it changes nothing a client sees.)
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sequin_admin.sandbox.demo_data import CONFIRM_MS
from sequin_admin.sandbox.profiles import DOCS, Profile
from sequin_admin.sandbox.responses import (
    CONSUMERS_TIMED_OUT,
    Response,
    json_response,
    mutation_error,
    summary_error,
)
from sequin_admin.sandbox.schemas import (
    SCHEMAS,
    CollectionSchema,
    Stamps,
    mark_deleted,
    modified_stamps,
    new_record_data,
    normalize,
    validate,
    validation_error_text,
)
from sequin_admin.sandbox.store import RecordSave, Store
from sequin_admin.sandbox.timestamps import utc_now

KINDS = ("create", "update", "delete")
# A consumer the demo data gives no pace of its own.
DEFAULT_CONFIRM_MS = 50


class MutationFailed(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _bad_request(message: str) -> MutationFailed:
    return MutationFailed(mutation_error(400, f"Error: {message}"))


def _not_found(message: str) -> MutationFailed:
    return MutationFailed(mutation_error(404, f"Error: {message}"))


@dataclass(frozen=True)
class ParsedMutation:
    kind: str
    sync_id: str
    collection_id: str
    records: list[dict[str, Any]] = field(default_factory=list)
    upstream_ids: list[str] = field(default_factory=list)
    await_consumer_ids: list[str] = field(default_factory=list)
    await_consumers_timeout: int = 30_000


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _required_string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        raise _bad_request(f"Missing required parameter: {key}")
    if not isinstance(value, str) or not value:
        raise _bad_request(f"Invalid parameter: {key} must be a non-empty string")
    return value


def _records(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    items = body.get("records")
    if items is None:
        raise _bad_request("Missing required parameter: records")
    if not isinstance(items, list) or not items:
        raise _bad_request("Invalid parameter: records must be a non-empty list")
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad_request(f"Invalid parameter: records[{n}] must be an object")
        if not isinstance(item.get("data"), dict):
            raise _bad_request(f"Invalid parameter: records[{n}].data must be an object")
        if kind == "update":
            upstream_id = item.get("upstream_id")
            if upstream_id is None:
                raise _bad_request(f"Missing required parameter: records[{n}].upstream_id")
            if not isinstance(upstream_id, str) or not upstream_id:
                raise _bad_request(f"Invalid parameter: records[{n}].upstream_id must be a string")
    return items


def _upstream_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("upstream_ids")
    if ids is None:
        raise _bad_request("Missing required parameter: upstream_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise _bad_request("Invalid parameter: upstream_ids must be a non-empty list of strings")
    return ids


def parse_mutation(raw: bytes) -> ParsedMutation:
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except ValueError as error:
        raise _bad_request("Request body is not valid JSON") from error
    if not isinstance(body, dict):
        raise _bad_request("Request body must be a JSON object")
    kind = body.get("kind")
    if kind is None:
        raise _bad_request("Missing required parameter: kind")
    if kind not in KINDS:
        raise _bad_request(f"Invalid mutation kind: {kind} (expected one of: {', '.join(KINDS)})")
    sync_id = _required_string(body, "sync_id")
    collection_id = _required_string(body, "collection_id")
    consumer_ids = body.get("await_consumer_ids", [])
    if consumer_ids is None:
        consumer_ids = []
    if not isinstance(consumer_ids, list) or not all(isinstance(c, str) for c in consumer_ids):
        raise _bad_request("Invalid parameter: await_consumer_ids must be a list of consumer ids")
    timeout = body.get("await_consumers_timeout", 30_000)
    if timeout is None:
        timeout = 30_000
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0:
        raise _bad_request(
            "Invalid parameter: await_consumers_timeout must be a non-negative integer (ms)"
        )
    return ParsedMutation(
        kind=kind,
        sync_id=sync_id,
        collection_id=collection_id,
        records=_records(body, kind) if kind != "delete" else [],
        upstream_ids=_upstream_ids(body) if kind == "delete" else [],
        await_consumer_ids=consumer_ids,
        await_consumers_timeout=timeout,
    )


class _Mutation:
    def __init__(
        self,
        store: Store,
        request: ParsedMutation,
        sync: dict[str, Any],
        schema: CollectionSchema,
        now: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.request = request
        self.sync = sync
        self.schema = schema
        self.now = now
        # The batch's records as they stand, read once for the batch and kept up to date as
        # it writes them (one record may come twice); filled by run().
        self._stored: dict[str, dict[str, Any]] = {}

    def _refuse_if_invalid(self, data: dict[str, Any], *, creating: bool) -> None:
        issues = validate(self.schema, data, creating=creating)
        if issues:
            raise MutationFailed(mutation_error(400, validation_error_text(self.schema, issues)))

    def _live_record(self, upstream_id: str) -> dict[str, Any]:
        record = self._stored.get(upstream_id)
        if record is None or record["deleted"]:
            raise _not_found(f"Record not found: {upstream_id}")
        return record

    def create(self, given: dict[str, Any]) -> dict[str, Any]:
        self._refuse_if_invalid(given, creating=True)
        with self.store.locked():
            upstream_id = self.store.new_upstream_id(self.sync["id"], self.schema.collection_id)
            moment = self.now()
            data = new_record_data(self.schema, normalize(self.schema, given), upstream_id, moment)
            return self.store.insert_record(
                sync=self.sync,
                collection_id=self.schema.collection_id,
                upstream_id=upstream_id,
                data=data,
                moment=moment,
            )

    def update(self, upstream_id: str, patch: dict[str, Any], stamps: Stamps) -> RecordSave:
        record = self._live_record(upstream_id)
        self._refuse_if_invalid(patch, creating=False)
        data = {**record["data"], **normalize(self.schema, patch), **stamps}
        return self._changed(record, data)

    def delete(self, upstream_id: str, stamps: Stamps) -> RecordSave:
        record = self._live_record(upstream_id)
        data = dict(record["data"])
        mark_deleted(self.schema, data)
        data.update(stamps)
        return self._changed(record, data, deleted=True)

    def _changed(
        self, record: dict[str, Any], data: dict[str, Any], *, deleted: bool = False
    ) -> RecordSave:
        # The batch's next record with this id starts from this change.
        self._stored[record["upstream_id"]] = {**record, "data": data, "deleted": deleted}
        return RecordSave(record, data, deleted)

    def run(self) -> list[dict[str, Any]]:
        with self.store.writing():
            if self.request.kind == "create":
                return [self.create(item["data"]) for item in self.request.records]
            return self._change_stored()

    def _change_stored(self) -> list[dict[str, Any]]:
        """An update or a delete: the records read in one query, their changes written in
        one statement. Those before the first refused record are written all the same."""
        moment = self.now()
        stamps = modified_stamps(self.schema, moment)
        ids = self.request.upstream_ids or [r["upstream_id"] for r in self.request.records]
        self._stored = self.store.get_records(self.sync["id"], self.schema.collection_id, ids)
        saves: list[RecordSave] = []
        try:
            if self.request.kind == "delete":
                for upstream_id in ids:
                    saves.append(self.delete(upstream_id, stamps))
            else:
                for item in self.request.records:
                    saves.append(self.update(item["upstream_id"], item["data"], stamps))
        finally:
            saved = self.store.save_records(saves, moment=moment)
        return saved


def await_consumers(
    consumer_ids: list[str],
    timeout_ms: int,
    *,
    late: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Hold the answer until every awaited consumer has processed the mutation (they work in
    parallel, each at its own pace); False once the await timeout ran out first."""
    if not consumer_ids:
        return True
    needed = math.inf if late else max(CONFIRM_MS.get(c, DEFAULT_CONFIRM_MS) for c in consumer_ids)
    if needed <= timeout_ms:
        sleep(needed / 1000)
        return True
    sleep(timeout_ms / 1000)
    return False


def run_mutation(
    store: Store,
    raw: bytes,
    *,
    profile: Profile = DOCS,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    consumers_late: bool = False,
) -> Response:
    """Apply the mutation, await its consumers, answer as `profile` shapes answers.

    `consumers_late` makes the awaited consumers miss the await timeout: the write stays and
    the answer is the documented 500.
    """
    try:
        request = parse_mutation(raw)
        sync = store.get_sync(request.sync_id)
        if sync is None:
            raise _not_found(f"Sync not found: {request.sync_id}")
        if request.collection_id not in sync["collection_ids"]:
            raise _not_found(
                f"Collection not found: {request.collection_id} is not synced by {sync['id']}"
            )
        unknown = [c for c in request.await_consumer_ids if not store.knows_consumer(c)]
        if unknown:
            reasons = [f"unknown consumer: {consumer_id}" for consumer_id in unknown]
            return summary_error(422, "Validation failed", {"await_consumer_ids": reasons})
        schema = SCHEMAS[request.collection_id]
        records = _Mutation(store, request, sync, schema, now).run()
    except MutationFailed as failure:
        return failure.response
    # The clock starts after the upstream write, which stays whatever the consumers do.
    if not await_consumers(
        request.await_consumer_ids,
        request.await_consumers_timeout,
        late=consumers_late,
        sleep=sleep,
    ):
        return mutation_error(500, CONSUMERS_TIMED_OUT)
    sent = [item["data"] for item in request.records] or [None] * len(records)
    answer = [
        profile.answer_record(record, store.get_sync, kind=request.kind, sent=patch)
        for record, patch in zip(records, sent, strict=True)
    ]
    return json_response(200, {"records": answer})
