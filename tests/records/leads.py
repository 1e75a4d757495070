"""A collection of made-up leads written straight into the index, sized at will: ties, nulls,
missing keys, nested and typed fields, some deleted."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from sequin_admin.records.models import IndexedCollection, IndexedRecord

SYNC = "sync-listing"
LEADS = "test:lead"
STATUSES = ["open", "working", "closed", "lost"]
NAMES = ["ada", "bob", "cy", "dee", "eve", None]


def lead_data(n: int) -> dict[str, Any]:
    """Lead n: names repeat (ties), some are null or missing, nested and typed fields."""
    data: dict[str, Any] = {
        "Status": STATUSES[n % 4],
        "Amount": None if n % 5 == 0 else (n * 37) % 1000,
        "Active": n % 3 == 0,
        "Address": {"city": ["oslo", "lima", "pune"][n % 3], "zip": f"{n:05d}"},
        "CloseDate": f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
        "Note": f"note {n} {'Urgent' if n % 7 == 0 else 'calm'}",
    }
    name = NAMES[n % 6]
    if n % 11 != 0:  # leave the key out now and then: missing sorts with null
        data["Name"] = name
    if n % 13 == 0:
        data["Note"] = ""
    return data


def make_leads(count: int, start: int = 0, collection_id: str = LEADS) -> None:
    IndexedRecord.objects.bulk_create(
        IndexedRecord(
            sync_id=SYNC,
            collection_id=collection_id,
            upstream_id=f"lead-{n:05d}",
            data=lead_data(n),
            # Versions repeat too, so ties go down to the id.
            updated_idx=1000 + n // 2,
            deleted=n % 17 == 0,
            search_text=f"lead-{n:05d} {json.dumps(lead_data(n)).lower()}",
        )
        for n in range(start, start + count)
    )
    state, _ = IndexedCollection.objects.get_or_create(sync_id=SYNC, collection_id=collection_id)
    rows = IndexedRecord.objects.filter(sync_id=SYNC, collection_id=collection_id)
    state.record_count = rows.filter(deleted=False).count()
    state.deleted_count = rows.filter(deleted=True).count()
    state.field_kinds = {
        "Status": "text",
        "Amount": "integer",
        "Active": "boolean",
        "Address": "json",
        "CloseDate": "text",
        "Note": "text",
        "Name": "text",
    }
    state.last_refreshed_at = timezone.now()
    state.save()
