"""Listing records: a listing ends on an empty page or a cursor that did not move, never on a
short page; a page of records without a usable cursor is an error, not the end."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sequin_admin.sandbox.demo_data import HUBSPOT_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import SequinClient, SequinUnexpectedAnswer
from tests.sequin.peers import Answering, Canned, Received, StubServer, client_for

Stub = Callable[[Canned | Answering], StubServer]


def capped_service(total: int, cap: int, only_filter: str | None = None) -> Answering:
    """A service holding `total` records that never returns more than `cap` per page, with
    cursors of its own spelling; `only_filter` is the one collection parameter it reads."""

    def answer(request: Received) -> Canned:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        if only_filter and query.get(only_filter) != "hubspot:company":
            return Canned(200, b'{"records": [], "cursor": null}')
        start = int(query.get("after_cursor", "pos-0").removeprefix("pos-"))
        end = min(total, start + min(cap, int(query["limit"])))
        records = [
            {"sync_id": "s", "collection_id": "hubspot:company", "upstream_id": str(n)}
            for n in range(start, end)
        ]
        cursor = f"pos-{end}" if records else query.get("after_cursor")
        return Canned(200, json.dumps({"records": records, "cursor": cursor}).encode())

    return answer


def upstream_ids(client: SequinClient, limit: int = 500, **where: Any) -> list[str]:
    pages = client.iter_record_pages(
        sync_id=where.get("sync_id", "s"), collection_id="hubspot:company", limit=limit
    )
    return [record.upstream_id for page in pages for record in page.records]


def test_a_service_capping_its_pages_is_still_listed_to_the_end(stub: Stub) -> None:
    peer = stub(capped_service(total=250, cap=100))
    ids = upstream_ids(client_for(peer.url), limit=500)
    assert ids == [str(n) for n in range(250)]
    assert len(peer.received) == 4  # 100, 100, 50, then the empty page that ends it


def test_every_record_of_the_sandbox_is_listed_whatever_its_page_cap(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    ids = upstream_ids(client_for_sandbox, limit=500, sync_id=HUBSPOT_SYNC_ID)
    assert len(ids) == len(set(ids)) == sandbox.store.count_records("hubspot:company") == 500


@pytest.mark.parametrize("only_filter", ["collection_id", "collection"])
def test_the_collection_filter_is_sent_under_both_documented_names(
    stub: Stub, only_filter: str
) -> None:
    peer = stub(capped_service(total=30, cap=100, only_filter=only_filter))
    assert len(upstream_ids(client_for(peer.url))) == 30
    query = parse_qs(urlsplit(peer.received[0].path).query)
    assert query["collection_id"] == query["collection"] == ["hubspot:company"]


@pytest.mark.parametrize("cursor", [None, "", 607, {"after": 1}, "MISSING"])
def test_records_without_a_usable_cursor_are_an_error_not_the_end(
    stub: Stub, cursor: object
) -> None:
    page: dict[str, Any] = {"records": [{"sync_id": "s", "upstream_id": "1"}]}
    if cursor != "MISSING":
        page["cursor"] = cursor
    peer = stub(Canned(200, json.dumps(page).encode()))
    with pytest.raises(SequinUnexpectedAnswer) as caught:
        upstream_ids(client_for(peer.url))
    assert "cursor" in caught.value.message


def test_an_empty_page_ends_the_listing_and_keeps_the_last_cursor(stub: Stub) -> None:
    peer = stub(Canned(200, b'{"records": [], "cursor": null}'))
    page = client_for(peer.url).list_records_page(
        sync_id="s", collection_id="c", after_cursor="kept"
    )
    assert page.records == () and page.cursor == "kept"


def test_a_cursor_that_does_not_move_ends_the_listing(stub: Stub) -> None:
    same = {"records": [{"sync_id": "s", "upstream_id": "1"}], "cursor": "stuck"}
    peer = stub(Canned(200, json.dumps(same).encode()))
    pages = list(
        client_for(peer.url).iter_record_pages(sync_id="s", collection_id="c", after_cursor="stuck")
    )
    assert len(pages) == 1 and len(peer.received) == 1
