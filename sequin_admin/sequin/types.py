"""Typed values the Sequin client returns; plain dataclasses, no Django."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

MutationKind = Literal["create", "update", "delete"]

# What Sequin waits for awaited consumers when a mutation names no await_consumers_timeout.
DEFAULT_AWAIT_TIMEOUT_MS = 30_000

JsonObject = dict[str, Any]


def parse_timestamp(value: object) -> datetime | None:
    """Sequin writes `Z`, `+00:00`, no offset at all (a live `inserted_at`) and
    "2023-12-15 01:29:29"; all parse here, and a stamp without an offset is UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _flag(value: object) -> bool:
    """`deleted` as JSON true/false, the strings "true"/"false", or 0/1; absent is false."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise ValueError(f"deleted is neither true nor false: {value!r}")


def _index(value: object) -> int | None:
    """`updated_idx` as an integer, a digit string or an integral float; absent is None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"updated_idx is not an integer: {value!r}")


def _upstream_id(body: Mapping[str, Any]) -> str:
    value = body["upstream_id"]
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ValueError(f"upstream_id is not an id: {value!r}")
    return str(value)


@dataclass(frozen=True)
class Sync:
    id: str
    provider: str
    name: str
    status: str
    health_status: str
    collection_ids: tuple[str, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Sync:
        health = body.get("health")
        health_status = health.get("status", "") if isinstance(health, Mapping) else ""
        return cls(
            id=str(body["id"]),
            provider=str(body.get("provider") or ""),
            name=str(body.get("name") or body["id"]),
            status=str(body.get("status") or ""),
            health_status=str(health_status or ""),
            collection_ids=tuple(str(c) for c in body.get("collection_ids") or ()),
        )


@dataclass(frozen=True)
class Record:
    sync_id: str
    collection_id: str
    upstream_id: str
    data: JsonObject
    deleted: bool
    updated_idx: int | None
    upstream_created_at: datetime | None
    upstream_updated_at: datetime | None
    id: str = ""
    # When Sequin first wrote the record to the stream (`inserted_at`, or `created_at`).
    inserted_at: datetime | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Record:
        """Both wire shapes: the docs' `sync_id` and the live `sync: {id, ...}`."""
        sync = body.get("sync")
        sync_id = body.get("sync_id") or (sync.get("id") if isinstance(sync, Mapping) else "")
        data = body.get("data")
        return cls(
            id=str(body.get("id") or ""),
            sync_id=str(sync_id or ""),
            collection_id=str(body.get("collection_id") or body.get("collection") or ""),
            upstream_id=_upstream_id(body),
            data=dict(data) if isinstance(data, Mapping) else {},
            deleted=_flag(body.get("deleted")),
            updated_idx=_index(body.get("updated_idx")),
            upstream_created_at=parse_timestamp(body.get("upstream_created_at")),
            upstream_updated_at=parse_timestamp(body.get("upstream_updated_at")),
            inserted_at=parse_timestamp(body.get("inserted_at") or body.get("created_at")),
        )

    def within(self, *, sync_id: str, collection_id: str) -> Record:
        """This record, with the sync and collection it was asked under where it names none."""
        if self.sync_id and self.collection_id:
            return self
        return replace(
            self,
            sync_id=self.sync_id or sync_id,
            collection_id=self.collection_id or collection_id,
        )


@dataclass(frozen=True)
class RecordPage:
    """One page of `GET /v1/records`; `cursor` resumes the listing after this page."""

    records: tuple[Record, ...]
    cursor: str | None


ConsumerKind = Literal["http", "postgres"]
# The filter keys a consumer may carry that say which records reach it.
_FILTER_KEYS = ("provider", "sync_id", "collection_id")


@dataclass(frozen=True)
class Consumer:
    """An HTTP or a Postgres consumer; either can be awaited by a mutation."""

    id: str
    name: str
    kind: ConsumerKind = "http"
    # Filter key -> the patterns a record's value must match one of; `"*"` is a wildcard.
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, kind: ConsumerKind = "http") -> Consumer:
        return cls(
            id=str(body["id"]),
            name=str(body.get("name") or body["id"]),
            kind=kind,
            filters=_filters(body.get("filters")),
        )

    def may_match(self, *, sync_id: str, collection_id: str, provider: str | None = None) -> bool:
        """Whether this consumer's filters let records of the collection through to it.

        Keys other than provider, sync_id and collection_id (e.g. `resource_id`) cannot be
        judged from a collection, so they do not exclude it.
        """
        values = {
            "provider": provider or collection_id.partition(":")[0],
            "sync_id": sync_id,
            "collection_id": collection_id,
        }
        return all(
            any(_matches(pattern, values[key]) for pattern in patterns)
            for key, patterns in self.filters.items()
            if key in values
        )


def consumers_for(
    consumers: Iterable[Consumer], *, sync_id: str, collection_id: str
) -> list[Consumer]:
    """The consumers that can receive the collection's records: the only ones worth awaiting."""
    return [c for c in consumers if c.may_match(sync_id=sync_id, collection_id=collection_id)]


def _filters(value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        return {}
    filters: dict[str, tuple[str, ...]] = {}
    for key, raw in value.items():
        patterns = raw if isinstance(raw, list) else [raw]
        kept = tuple(str(p) for p in patterns if p is not None and p != "")
        if kept:  # a null or empty filter constrains nothing
            filters[str(key)] = kept
    return filters


def _matches(pattern: str, value: str) -> bool:
    if "*" not in pattern:
        return pattern == value
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value) is not None


@dataclass(frozen=True)
class MutationRequest:
    """What is sent to `POST /v1/mutations/run`; `body()` is the exact JSON."""

    kind: MutationKind
    sync_id: str
    collection_id: str
    records: tuple[JsonObject, ...] = ()
    upstream_ids: tuple[str, ...] = ()
    await_consumer_ids: tuple[str, ...] = ()
    await_consumers_timeout: int | None = None

    @property
    def await_seconds(self) -> float | None:
        """How long Sequin may hold the answer waiting for consumers; None when none awaited."""
        if not self.await_consumer_ids:
            return None
        timeout = self.await_consumers_timeout
        return (DEFAULT_AWAIT_TIMEOUT_MS if timeout is None else timeout) / 1000

    def body(self) -> JsonObject:
        body: JsonObject = {
            "kind": self.kind,
            "sync_id": self.sync_id,
            "collection_id": self.collection_id,
        }
        if self.kind == "delete":
            body["upstream_ids"] = list(self.upstream_ids)
        else:
            body["records"] = [dict(record) for record in self.records]
        if self.await_consumer_ids:
            body["await_consumer_ids"] = list(self.await_consumer_ids)
            if self.await_consumers_timeout is not None:
                body["await_consumers_timeout"] = self.await_consumers_timeout
        return body


@dataclass(frozen=True)
class MutationResult:
    """A mutation Sequin answered with success. Each returned record names its sync and
    collection (the request's where the answer left them out). What `data` holds is Sequin's
    word, not a promise of the whole record (an update may return only the patched keys), and
    a delete's records may still read `deleted: false`: the caller decides by `kind`."""

    records: tuple[Record, ...]
    status: int
    body: JsonObject = field(repr=False)
    attempts: int = 1
    kind: MutationKind | None = None
