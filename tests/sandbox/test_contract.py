from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from sequin_admin.sandbox.demo_data import (
    CONSUMER_IDS,
    HUBSPOT_SYNC_ID,
    SALESFORCE_SYNC_ID,
    STRIPE_SYNC_ID,
    WAREHOUSE_CONSUMER_ID,
)
from sequin_admin.sandbox.server import SandboxServer

if TYPE_CHECKING:
    from tests.sandbox.conftest import Api

SYNC_KEYS = {
    "id", "provider", "stream_id", "name", "org_id", "status", "health", "collection_ids",
    "rate_limit", "credential_id", "credential", "max_age_days", "sync_frequency",
    "initial_backfill_completed_at", "metadata", "created_at", "updated_at",
}  # fmt: skip
CONSUMER_KEYS = {
    "id", "stream_id", "name", "deliver_policy", "ack_wait_ms", "max_deliver", "max_ack_pending",
    "filters", "metadata", "created_at", "updated_at",
}  # fmt: skip
RECORD_KEYS = {
    "id", "sync_id", "collection_id", "provider", "stream_id", "upstream_id", "updated_idx",
    "upstream_created_at", "upstream_updated_at", "created_at", "data", "deleted",
}  # fmt: skip


def _is_iso_z(text: str) -> bool:
    return text.endswith("Z") and datetime.fromisoformat(text.replace("Z", "+00:00")) is not None


def _all_pages(api: Api, limit: int, **filters: str) -> tuple[list[dict], str | None]:
    records: list[dict] = []
    cursor: str | None = None
    while True:
        params = {"limit": limit, **filters}
        if cursor:
            params["after_cursor"] = cursor
        page = api.get("/v1/records", **params).json()
        if not page["records"]:
            assert page["cursor"] == cursor
            return records, cursor
        records.extend(page["records"])
        cursor = page["cursor"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/syncs"),
        ("GET", f"/v1/syncs/{SALESFORCE_SYNC_ID}"),
        ("GET", "/v1/records"),
        ("GET", "/v1/http-consumers"),
        ("GET", "/v1/consumers/postgres"),
        ("POST", "/v1/mutations/run"),
        ("GET", "/_sandbox/faults"),
        ("POST", "/_sandbox/reset"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "sandbox-token", "Bearer "])
def test_requests_without_the_right_bearer_token_get_401(
    make_api: Callable[[str | None], Api], method: str, path: str, authorization: str | None
) -> None:
    api = make_api(None)
    headers = {"Authorization": authorization} if authorization else {}
    response = api.session.request(method, api.url + path, headers=headers, timeout=(2, 10))
    assert response.status_code == 401
    assert response.json() == {"summary": "Unauthorized: invalid API key"}


def test_syncs_list_the_three_demo_syncs(api: Api) -> None:
    response = api.get("/v1/syncs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    syncs = response.json()["data"]
    assert [s["id"] for s in syncs] == [SALESFORCE_SYNC_ID, HUBSPOT_SYNC_ID, STRIPE_SYNC_ID]
    assert {s["provider"]: s["collection_ids"] for s in syncs} == {
        "salesforce": ["salesforce:contact", "salesforce:account"],
        "hubspot": ["hubspot:contact", "hubspot:company"],
        "stripe": ["stripe:customer"],
    }
    for sync in syncs:
        assert set(sync) == SYNC_KEYS
        assert sync["status"] == "active"
        assert sync["health"] == {"status": "healthy", "sync_id": sync["id"]}
        assert set(sync["rate_limit"]) == {
            "allowed_requests",
            "interval",
            "max_concurrent_requests",
        }
        assert sync["credential"]["id"] == sync["credential_id"]
        assert sync["credential"]["provider"] == sync["provider"]
        assert sync["credential"]["properties"]["secret"] == "********"
        assert sync["credential"]["properties"]["kind"] == sync["provider"]
        assert all(_is_iso_z(sync[k]) for k in ("created_at", "updated_at"))


def test_one_sync_is_the_bare_object_and_an_unknown_one_is_404(api: Api) -> None:
    listed = api.get("/v1/syncs").json()["data"][1]
    response = api.get(f"/v1/syncs/{HUBSPOT_SYNC_ID}")
    assert response.status_code == 200
    assert response.json() == listed
    missing = api.get("/v1/syncs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json() == {"summary": "Not found"}


def test_http_consumers_list_the_demo_consumers(api: Api) -> None:
    response = api.get("/v1/http-consumers")
    assert response.status_code == 200
    consumers = response.json()["data"]
    assert [c["id"] for c in consumers] == CONSUMER_IDS
    for consumer in consumers:
        assert set(consumer) == CONSUMER_KEYS
        assert set(consumer["filters"]) == {"provider", "sync_id", "collection_id"}
        assert consumer["deliver_policy"] in {"all", "new", "last", "1h"}
    assert {c["name"] for c in consumers} >= {"crm-replica", "search-indexer"}
    one = api.get(f"/v1/http-consumers/{CONSUMER_IDS[0]}")
    assert one.json() == consumers[0]


def test_postgres_consumers_have_their_own_list_with_filters(api: Api) -> None:
    response = api.get("/v1/consumers/postgres")
    assert response.status_code == 200
    (consumer,) = response.json()["data"]
    assert consumer["id"] == WAREHOUSE_CONSUMER_ID
    assert consumer["filters"] == {
        "provider": "salesforce",
        "sync_id": SALESFORCE_SYNC_ID,
        "collection_id": "*",
    }
    assert consumer["id"] not in {c["id"] for c in api.get("/v1/http-consumers").json()["data"]}


def test_records_have_the_wire_shape_and_come_earliest_change_first(api: Api) -> None:
    page = api.get("/v1/records", limit=50).json()
    assert set(page) == {"records", "cursor"}
    records = page["records"]
    assert len(records) == 50
    indexes = [r["updated_idx"] for r in records]
    assert indexes == sorted(indexes)
    for record in records:
        assert set(record) == RECORD_KEYS
        assert isinstance(record["updated_idx"], int)
        assert isinstance(record["data"], dict)
        assert record["deleted"] is False
        assert record["provider"] == record["collection_id"].split(":")[0]
        for key in ("upstream_created_at", "upstream_updated_at", "created_at"):
            assert _is_iso_z(record[key]), key


def test_records_limit_defaults_to_100_and_allows_up_to_1000(api: Api) -> None:
    assert len(api.get("/v1/records").json()["records"]) == 100
    assert len(api.get("/v1/records", limit=1000).json()["records"]) == 1000


@pytest.mark.parametrize("limit", ["1001", "0", "-5", "ten"])
def test_records_limit_out_of_range_is_a_400_naming_limit(api: Api, limit: str) -> None:
    response = api.get("/v1/records", limit=limit)
    assert response.status_code == 400
    body = response.json()
    assert body["summary"]
    assert list(body["validation_errors"]) == ["limit"]


@pytest.mark.parametrize("cursor", ["not-a-cursor!", "YWJj", "%%%"])
def test_records_bad_cursor_is_a_400(api: Api, cursor: str) -> None:
    response = api.get("/v1/records", after_cursor=cursor)
    assert response.status_code == 400
    assert "after_cursor" in response.json()["validation_errors"]


def test_paging_a_collection_returns_every_record_exactly_once(
    api: Api, sandbox: SandboxServer
) -> None:
    records, cursor = _all_pages(api, 137, collection_id="hubspot:company")
    ids = [r["upstream_id"] for r in records]
    assert len(ids) == len(set(ids)) == sandbox.store.count_records("hubspot:company") == 500
    assert {r["collection_id"] for r in records} == {"hubspot:company"}
    assert cursor is not None


def test_collection_is_an_alias_of_collection_id_and_provider_filters(api: Api) -> None:
    by_alias = api.get("/v1/records", collection="stripe:customer", limit=20).json()
    by_name = api.get("/v1/records", collection_id="stripe:customer", limit=20).json()
    assert by_alias == by_name
    stripe = api.get("/v1/records", provider="stripe", limit=200).json()["records"]
    assert {r["provider"] for r in stripe} == {"stripe"}
    sf = api.get("/v1/records", sync_id=SALESFORCE_SYNC_ID, limit=300).json()["records"]
    assert {r["collection_id"] for r in sf} == {"salesforce:contact", "salesforce:account"}


def test_an_empty_listing_echoes_the_cursor_or_gives_null(api: Api) -> None:
    nothing = api.get("/v1/records", sync_id="no-such-sync").json()
    assert nothing == {"records": [], "cursor": None}
    first = api.get("/v1/records", collection_id="hubspot:company", limit=1).json()
    beyond = api.get("/v1/records", sync_id="no-such-sync", after_cursor=first["cursor"]).json()
    assert beyond == {"records": [], "cursor": first["cursor"]}


def test_listing_after_the_last_cursor_returns_only_what_changed_since(
    api: Api, sandbox: SandboxServer
) -> None:
    _, cursor = _all_pages(api, 1000, collection_id="hubspot:contact")
    target = sandbox.store.any_record("hubspot:contact")
    response = api.mutate(
        kind="update",
        sync_id=HUBSPOT_SYNC_ID,
        collection_id="hubspot:contact",
        records=[{"upstream_id": target["upstream_id"], "data": {"jobtitle": "CTO"}}],
    )
    assert response.status_code == 200
    changed = api.get("/v1/records", collection_id="hubspot:contact", after_cursor=cursor).json()
    assert [r["upstream_id"] for r in changed["records"]] == [target["upstream_id"]]
    assert changed["records"][0]["data"]["jobtitle"] == "CTO"
    again = api.get(
        "/v1/records", collection_id="hubspot:contact", after_cursor=changed["cursor"]
    ).json()
    assert again == {"records": [], "cursor": changed["cursor"]}


def test_unknown_paths_are_404_and_wrong_methods_405(api: Api) -> None:
    assert api.get("/v1/nope").status_code == 404
    assert api.get("/v1/nope").json() == {"summary": "Not found"}
    assert api.get("/elsewhere").status_code == 404
    wrong = api.delete("/v1/syncs")
    assert wrong.status_code == 405
    assert api.get("/v1/mutations/run").status_code == 405
