"""Consumers of both kinds, their filters, and which of them can see a collection."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sequin_admin.sandbox.demo_data import (
    BILLING_WEBHOOKS_CONSUMER_ID,
    CONSUMER_IDS,
    CRM_REPLICA_CONSUMER_ID,
    HUBSPOT_SYNC_ID,
    POSTGRES_CONSUMER_IDS,
    SALESFORCE_SYNC_ID,
    SEARCH_INDEXER_CONSUMER_ID,
    STRIPE_SYNC_ID,
    WAREHOUSE_CONSUMER_ID,
)
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import (
    Consumer,
    MutationRequest,
    SequinClient,
    SequinUnexpectedAnswer,
    consumers_for,
)
from tests.sequin.peers import Answering, Canned, Received, StubServer, client_for

Stub = Callable[[Canned | Answering], StubServer]

HTTP_CONSUMERS = {"data": [{"id": "c1", "name": "one", "filters": {"provider": "*"}}]}


def test_both_kinds_of_consumer_are_listed_with_their_filters(
    client_for_sandbox: SequinClient,
) -> None:
    consumers = client_for_sandbox.list_consumers()
    assert [(c.id, c.kind) for c in consumers] == [
        *((cid, "http") for cid in CONSUMER_IDS),
        *((cid, "postgres") for cid in POSTGRES_CONSUMER_IDS),
    ]
    by_id = {c.id: c for c in consumers}
    assert by_id[BILLING_WEBHOOKS_CONSUMER_ID].filters == {
        "provider": ("stripe",),
        "sync_id": (STRIPE_SYNC_ID,),
        "collection_id": ("stripe:customer",),
    }
    assert by_id[WAREHOUSE_CONSUMER_ID].filters["sync_id"] == (SALESFORCE_SYNC_ID,)


def postgres_answering(canned: Canned) -> Answering:
    def answer(request: Received) -> Canned:
        if request.path.startswith("/v1/http-consumers"):
            return Canned(200, json.dumps(HTTP_CONSUMERS).encode())
        return canned

    return answer


def test_a_404_for_postgres_consumers_means_there_are_none(stub: Stub) -> None:
    peer = stub(postgres_answering(Canned(404, b'{"summary": "Not found"}')))
    assert [(c.id, c.kind) for c in client_for(peer.url).list_consumers()] == [("c1", "http")]
    assert [r.path for r in peer.received] == ["/v1/http-consumers", "/v1/consumers/postgres"]


def test_any_other_failure_of_the_postgres_list_is_not_hidden(stub: Stub) -> None:
    peer = stub(postgres_answering(Canned(502, b"<html>Bad Gateway</html>", "text/html")))
    with pytest.raises(SequinUnexpectedAnswer):
        client_for(peer.url).list_consumers()


def consumer(filters: Any) -> Consumer:
    return Consumer.from_json({"id": "c", "filters": filters})


@pytest.mark.parametrize(
    ("filters", "matches"),
    [
        (None, True),
        ({}, True),
        ({"provider": "*", "sync_id": "*", "collection_id": "*"}, True),
        ({"provider": "salesforce"}, True),
        ({"provider": "stripe"}, False),
        ({"sync_id": "sync-sf"}, True),
        ({"sync_id": "sync-other"}, False),
        ({"collection_id": "salesforce:*"}, True),
        ({"collection_id": "*:account"}, False),
        ({"collection_id": ["hubspot:contact", "salesforce:contact"]}, True),
        ({"provider": "salesforce", "collection_id": "salesforce:account"}, False),
        ({"provider": None, "resource_id": "0035g00000AAAAAAAA"}, True),
    ],
)
def test_a_consumer_may_match_a_collection_by_its_filters(filters: Any, matches: bool) -> None:
    assert (
        consumer(filters).may_match(sync_id="sync-sf", collection_id="salesforce:contact")
        is matches
    )


def test_only_consumers_that_can_see_the_collection_are_kept(
    client_for_sandbox: SequinClient,
) -> None:
    consumers = client_for_sandbox.list_consumers()

    def kept(sync_id: str, collection_id: str) -> set[str]:
        return {
            c.id for c in consumers_for(consumers, sync_id=sync_id, collection_id=collection_id)
        }

    assert kept(SALESFORCE_SYNC_ID, "salesforce:contact") == {
        CRM_REPLICA_CONSUMER_ID,
        SEARCH_INDEXER_CONSUMER_ID,
        WAREHOUSE_CONSUMER_ID,
    }
    assert kept(STRIPE_SYNC_ID, "stripe:customer") == {
        SEARCH_INDEXER_CONSUMER_ID,
        BILLING_WEBHOOKS_CONSUMER_ID,
    }
    assert kept(HUBSPOT_SYNC_ID, "hubspot:contact") == {SEARCH_INDEXER_CONSUMER_ID}


def test_a_mutation_may_await_a_postgres_consumer(
    client_for_sandbox: SequinClient, sandbox: SandboxServer
) -> None:
    record = sandbox.store.any_record("salesforce:contact")
    result = client_for_sandbox.run_mutation(
        MutationRequest(
            kind="update",
            sync_id=SALESFORCE_SYNC_ID,
            collection_id="salesforce:contact",
            records=({"upstream_id": record["upstream_id"], "data": {"Title": "Warehoused"}},),
            await_consumer_ids=(WAREHOUSE_CONSUMER_ID,),
            await_consumers_timeout=5000,
        )
    )
    assert result.records[0].data["Title"] == "Warehoused"
