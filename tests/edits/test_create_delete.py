"""The create and delete use cases below the pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from sequin_admin.edits.bulk import Selection
from sequin_admin.edits.create_delete import (
    bulk_delete_start,
    bulk_delete_targets,
    creatable_specs,
    search_hint,
)
from sequin_admin.edits.models import Job
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, Indexed


def test_a_new_record_gets_no_read_only_field(indexed: Indexed) -> None:
    indexed(CONTACTS)
    keys = [s.key for s in creatable_specs(sync_id=SALESFORCE_SYNC_ID, collection_id=CONTACTS)]
    assert "LastName" in keys and "Email" in keys
    assert not {"Id", "CreatedDate", "SystemModstamp", "IsDeleted"} & set(keys)


def test_the_search_hint_is_the_most_telling_text_sent() -> None:
    assert search_hint(data={"Title": "CTO", "LastName": "Atreides", "Phone": "1"}) == "Atreides"
    assert search_hint(data={"HasOptedOutOfEmail": True}) == ""


def test_a_bulk_delete_counts_again_when_confirmed(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    indexed(CONTACTS)
    rows = list(IndexedRecord.objects.filter(collection_id=CONTACTS).order_by("upstream_id")[:3])
    selection = Selection(
        SALESFORCE_SYNC_ID, CONTACTS, upstream_ids=tuple(r.upstream_id for r in rows)
    )
    assert len(bulk_delete_targets(selection=selection)) == 3
    # One of them is deleted elsewhere between the page and the confirmation.
    IndexedRecord.objects.filter(pk=rows[0].pk).update(deleted=True)
    with pytest.raises(ValueError, match="Type 2"):
        bulk_delete_start(user=user, selection=selection, confirmation="3")
    assert not Job.objects.exists()
    job = bulk_delete_start(user=user, selection=selection, confirmation="2")
    assert list(job.items.values_list("upstream_id", "data")) == [
        (rows[1].upstream_id, {}),
        (rows[2].upstream_id, {}),
    ]
