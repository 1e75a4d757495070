"""Filling the index from a listing: what the service's cursors may look like."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from django.conf import LazySettings

from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from tests.sequin.peers import Canned, Received, StubServer

# Opaque cursors have no documented length; a live one was longer than the 500 characters
# the index's column once held (PostgreSQL refused it, SQLite did not notice).
LONG_CURSOR = "opaque-" + "x" * 2_000


def one_page_with_a_long_cursor(request: Received) -> Canned:
    query = parse_qs(urlsplit(request.path).query)
    if "after_cursor" in query:  # the next page is empty: the listing ends
        return Canned(200, json.dumps({"records": [], "cursor": LONG_CURSOR}).encode())
    records = [{"sync_id": "s", "collection_id": "hubspot:company", "upstream_id": "u1"}]
    return Canned(200, json.dumps({"records": records, "cursor": LONG_CURSOR}).encode())


def test_a_cursor_longer_than_500_characters_is_stored_and_resumed_from(
    settings: LazySettings, db: None
) -> None:
    peer = StubServer(one_page_with_a_long_cursor).start()
    try:
        settings.SEQUIN_API_URL = peer.url
        state = collection_refresh(sync_id="s", collection_id="hubspot:company")
        state.refresh_from_db()
        assert state.cursor == LONG_CURSOR
        assert IndexedRecord.objects.filter(upstream_id="u1").exists()
        collection_refresh(sync_id="s", collection_id="hubspot:company")
        resumed = parse_qs(urlsplit(peer.received[-1].path).query)
        assert resumed["after_cursor"] == [LONG_CURSOR]
    finally:
        peer.stop()
