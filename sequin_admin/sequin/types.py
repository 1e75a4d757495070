"""Typed values the Sequin client returns; plain dataclasses, no Django."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

MutationKind = Literal["create", "update", "delete"]

JsonObject = dict[str, Any]


def parse_timestamp(value: object) -> datetime | None:
    """Sequin writes both ISO 8601 and "2023-12-15 01:29:29"; both parse here."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Sync:
    id: str
    provider: str
    name: str
    status: str
    health_status: str
    collection_ids: tuple[str, ...]
    raw: JsonObject = field(repr=False, compare=False)

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
            raw=dict(body),
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

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Record:
        sync = body.get("sync")
        sync_id = body.get("sync_id") or (sync.get("id") if isinstance(sync, Mapping) else "")
        data = body.get("data")
        updated_idx = body.get("updated_idx")
        return cls(
            id=str(body.get("id") or ""),
            sync_id=str(sync_id or ""),
            collection_id=str(body.get("collection_id") or body.get("collection") or ""),
            upstream_id=str(body["upstream_id"]),
            data=dict(data) if isinstance(data, Mapping) else {},
            deleted=bool(body.get("deleted", False)),
            updated_idx=int(updated_idx) if isinstance(updated_idx, int | str) else None,
            upstream_created_at=parse_timestamp(body.get("upstream_created_at")),
            upstream_updated_at=parse_timestamp(body.get("upstream_updated_at")),
        )


@dataclass(frozen=True)
class RecordPage:
    """One page of `GET /v1/records`; `cursor` resumes the listing after this page."""

    records: tuple[Record, ...]
    cursor: str | None


@dataclass(frozen=True)
class Consumer:
    id: str
    name: str
    raw: JsonObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Consumer:
        return cls(id=str(body["id"]), name=str(body.get("name") or body["id"]), raw=dict(body))


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
    records: tuple[Record, ...]
    status: int
    body: JsonObject = field(repr=False)
    attempts: int = 1
