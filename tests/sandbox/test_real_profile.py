"""The "real" profile: answers shaped as a live Sequin sent them, over real HTTP."""

from __future__ import annotations

import base64
import binascii
import os
import re
import select
import signal
import subprocess
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
import requests

from sequin_admin.sandbox.cursors import OpaqueCursors, encode_cursor
from sequin_admin.sandbox.demo_data import (
    DEFAULT_TOKEN,
    HUBSPOT_SYNC_ID,
    SALESFORCE_SYNC_ID,
    STRIPE_SYNC_ID,
)
from sequin_admin.sandbox.server import SandboxServer

if TYPE_CHECKING:
    from tests.sandbox.conftest import Api

LIVE_RECORD_KEYS = {
    "id", "sync", "collection_id", "provider", "stream_id", "upstream_id", "updated_idx",
    "upstream_created_at", "upstream_updated_at", "inserted_at", "data", "deleted",
}  # fmt: skip
NAIVE_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


def _as_plain_cursor(cursor: str) -> str | None:
    """What a docs-profile cursor would say; None when it is not base64 text at all."""
    try:
        return base64.b64decode(cursor, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _page(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get("/v1/records", **params)
    assert response.status_code == 200, response.text
    return response.json()


def test_records_carry_a_sync_object_and_live_stamps(real_api: Api) -> None:
    records = _page(real_api, collection_id="stripe:customer", limit=50)["records"]
    assert records
    for record in records:
        assert set(record) == LIVE_RECORD_KEYS
        assert record["sync"] == {
            "id": STRIPE_SYNC_ID,
            "external_id": None,
            "metadata": {"tenant": "acme", "environment": "production"},
        }
        assert NAIVE_STAMP.match(record["inserted_at"]), record["inserted_at"]
        for key in ("upstream_created_at", "upstream_updated_at"):
            assert record[key].endswith("+00:00")
            assert datetime.fromisoformat(record[key]).utcoffset() is not None
        assert record["deleted"] is False


def test_pages_are_capped_at_100_whatever_the_limit(real_api: Api) -> None:
    assert len(_page(real_api, limit=500)["records"]) == 100
    assert len(_page(real_api, limit=30)["records"]) == 30


def test_cursors_are_opaque_and_page_through_every_record(
    real_api: Api, real_sandbox: SandboxServer
) -> None:
    first = _page(real_api, collection_id="hubspot:company", limit=500)
    again = _page(real_api, collection_id="hubspot:company", limit=500)
    assert first["records"] == again["records"]
    assert first["cursor"] != again["cursor"]  # salted: the same place, another spelling
    assert _as_plain_cursor(first["cursor"]) != str(first["records"][-1]["updated_idx"])
    ids = [r["upstream_id"] for r in first["records"]]
    cursor = first["cursor"]
    while True:
        page = _page(real_api, collection_id="hubspot:company", limit=500, after_cursor=cursor)
        if not page["records"]:
            assert page["cursor"] == cursor
            break
        ids.extend(r["upstream_id"] for r in page["records"])
        cursor = page["cursor"]
    assert len(ids) == len(set(ids)) == real_sandbox.store.count_records("hubspot:company")


@pytest.mark.parametrize("kind", ["tampered", "docs"])
def test_a_cursor_it_did_not_issue_is_refused(real_api: Api, kind: str) -> None:
    issued = _page(real_api, limit=10)["cursor"]
    if kind == "tampered":
        cursor = issued[:-2] + ("AA" if issued[-2:] != "AA" else "BB")
    else:
        cursor = encode_cursor(10)
    response = real_api.get("/v1/records", after_cursor=cursor)
    assert response.status_code == 400
    assert "after_cursor" in response.json()["validation_errors"]


def test_an_update_answer_holds_only_the_patched_fields_and_no_updated_idx(
    real_api: Api, real_sandbox: SandboxServer
) -> None:
    record = real_sandbox.store.any_record("salesforce:contact")
    response = real_api.mutate(
        kind="update",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id="salesforce:contact",
        records=[{"upstream_id": record["upstream_id"], "data": {"Title": "CFO", "Phone": ""}}],
    )
    assert response.status_code == 200
    (answered,) = response.json()["records"]
    assert answered["data"] == {"Title": "CFO", "Phone": None}
    assert "updated_idx" not in answered
    assert answered["sync"]["id"] == SALESFORCE_SYNC_ID
    stored = real_sandbox.store.get_record(
        SALESFORCE_SYNC_ID, "salesforce:contact", record["upstream_id"]
    )
    assert stored is not None
    assert stored["data"]["LastName"] == record["data"]["LastName"]
    assert stored["updated_idx"] > record["updated_idx"]


def test_a_create_answer_holds_the_whole_record_without_updated_idx(real_api: Api) -> None:
    response = real_api.mutate(
        kind="create",
        sync_id=HUBSPOT_SYNC_ID,
        collection_id="hubspot:contact",
        records=[{"data": {"email": "paul@arrakis.org", "firstname": "Paul"}}],
    )
    assert response.status_code == 200
    (created,) = response.json()["records"]
    assert "updated_idx" not in created
    assert created["data"]["hs_object_id"] == created["upstream_id"]


def test_a_delete_answer_reads_deleted_false_as_the_docs_example(
    real_api: Api, real_sandbox: SandboxServer
) -> None:
    record = real_sandbox.store.any_record("stripe:customer")
    response = real_api.mutate(
        kind="delete",
        sync_id=STRIPE_SYNC_ID,
        collection_id="stripe:customer",
        upstream_ids=[record["upstream_id"]],
    )
    assert response.status_code == 200
    assert response.json()["records"][0]["deleted"] is False
    stored = real_sandbox.store.get_record(STRIPE_SYNC_ID, "stripe:customer", record["upstream_id"])
    assert stored is not None and stored["deleted"] is True


def test_the_docs_profile_is_unchanged(api: Api) -> None:
    record = _page(api, limit=1)["records"][0]
    assert "sync_id" in record and "created_at" in record and "sync" not in record
    assert _as_plain_cursor(_page(api, limit=1)["cursor"]) == str(record["updated_idx"])


def test_serve_profile_real_from_the_command_line() -> None:
    env = {**os.environ, "SANDBOX_TOKEN": DEFAULT_TOKEN}
    command = [sys.executable, "-m", "sequin_admin.sandbox", "serve", "--port", "0"]
    command += ["--db", ":memory:", "--profile", "real"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "the sandbox printed no banner"
        banner = process.stdout.readline()
        assert "profile real" in banner
        match = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert match, banner
        with requests.Session() as session:
            session.trust_env = False  # loopback: no proxy from the environment
            response = session.get(
                f"{match.group(0)}/v1/records",
                params={"limit": 500},
                headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
                timeout=(2, 10),
            )
        records = response.json()["records"]
        assert len(records) == 100 and "sync" in records[0]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_opaque_cursors_round_trip_under_one_secret_only() -> None:
    issued = OpaqueCursors("token-a").encode(2_745_327_036)
    assert OpaqueCursors("token-a").decode(issued) == 2_745_327_036
    with pytest.raises(ValueError):
        OpaqueCursors("token-b").decode(issued)
