"""How the sandbox shapes its answers: as Sequin's docs show them, or as a live Sequin sent them.

`docs` (the default) follows the documentation's examples: records with `sync_id` and
`created_at`, stamps ending in `Z`, base64 cursors, pages as long as asked (up to 1,000),
mutation answers holding the whole record with its `updated_idx`.

`real` follows what a live Sequin actually sent, and picks the less convenient reading where
the docs leave a question open (see "What a live Sequin actually sent" in the API reference):
- records carry `sync: {id, external_id, metadata}` and no `sync_id`;
- `inserted_at` without a UTC offset, and no `created_at`; other stamps end in `+00:00`;
- cursors are opaque;
- pages hold at most 100 records, whatever `limit` asks;
- mutation answers carry no `updated_idx`;
- an update's answer holds only the patched keys of `data`;
- a delete's answer shows the record with `deleted: false`, as the docs' delete example does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sequin_admin.sandbox.cursors import CursorCodec, OpaqueCursors, PlainCursors

SyncLookup = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Profile:
    name: str
    # The most records a page holds, whatever `limit` asks; None: as many as asked.
    page_cap: int | None = None
    opaque_cursors: bool = False
    # `sync: {id, external_id, metadata}` in place of `sync_id`.
    sync_objects: bool = False
    # `inserted_at` without an offset in place of `created_at`; `+00:00` in place of `Z`.
    live_stamps: bool = False
    answers_carry_updated_idx: bool = True
    partial_update_answers: bool = False
    delete_answers_read_live: bool = False

    def cursors(self, secret: str) -> CursorCodec:
        return OpaqueCursors(secret) if self.opaque_cursors else PlainCursors()

    def page_size(self, limit: int) -> int:
        return limit if self.page_cap is None else min(limit, self.page_cap)

    def record(self, stored: Mapping[str, Any], sync_of: SyncLookup) -> dict[str, Any]:
        """A stored record as this profile puts it on the wire in a listing."""
        wire = dict(stored)
        if self.sync_objects:
            sync_id = wire.pop("sync_id")
            sync = sync_of(sync_id) or {}
            wire = {
                "id": wire.pop("id"),
                "sync": {
                    "id": sync_id,
                    "external_id": sync.get("external_id"),
                    "metadata": sync.get("metadata") or {},
                },
                **wire,
            }
        if self.live_stamps:
            created = wire.pop("created_at")
            wire["inserted_at"] = created.removesuffix("Z") if created else created
            for key in ("upstream_created_at", "upstream_updated_at"):
                if isinstance(wire.get(key), str):
                    wire[key] = wire[key].removesuffix("Z") + "+00:00"
        return wire

    def answer_record(
        self,
        stored: Mapping[str, Any],
        sync_of: SyncLookup,
        *,
        kind: str,
        sent: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A record as this profile puts it in a mutation's answer; `sent` is the update's
        patch for this record."""
        wire = self.record(stored, sync_of)
        if not self.answers_carry_updated_idx:
            wire.pop("updated_idx", None)
        if kind == "update" and self.partial_update_answers and sent is not None:
            wire["data"] = {key: wire["data"].get(key) for key in sent}
        if kind == "delete" and self.delete_answers_read_live:
            wire["deleted"] = False
        return wire


DOCS = Profile(name="docs")
REAL = Profile(
    name="real",
    page_cap=100,
    opaque_cursors=True,
    sync_objects=True,
    live_stamps=True,
    answers_carry_updated_idx=False,
    partial_update_answers=True,
    delete_answers_read_live=True,
)
PROFILES = {profile.name: profile for profile in (DOCS, REAL)}


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; one of {', '.join(PROFILES)}") from None
