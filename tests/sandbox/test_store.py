from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from sequin_admin.sandbox import demo_data
from sequin_admin.sandbox.__main__ import main
from sequin_admin.sandbox.demo_data import (
    COLLECTION_SIZES,
    CONSUMER_IDS,
    DEFAULT_TOKEN,
    HUBSPOT_SYNC_ID,
    SALESFORCE_SYNC_ID,
    STRIPE_SYNC_ID,
)
from sequin_admin.sandbox.ids import salesforce_checksum
from sequin_admin.sandbox.schemas import SCHEMAS
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sandbox.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = (2.0, 10.0)

_DIGEST_SCRIPT = """
import hashlib, json
from sequin_admin.sandbox.demo_data import generate
demo = generate()
text = json.dumps([demo.syncs, demo.consumers, demo.records], sort_keys=True)
print(hashlib.sha256(text.encode()).hexdigest())
"""


def _demo_digest(demo: demo_data.DemoData) -> str:
    text = json.dumps([demo.syncs, demo.consumers, demo.records], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _session(token: str = DEFAULT_TOKEN) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _retitle(url: str, upstream_id: str, title: str) -> requests.Response:
    with _session() as session:
        return session.post(
            url + "/v1/mutations/run",
            json={
                "kind": "update",
                "sync_id": SALESFORCE_SYNC_ID,
                "collection_id": "salesforce:contact",
                "records": [{"upstream_id": upstream_id, "data": {"Title": title}}],
            },
            timeout=TIMEOUT,
        )


# --- the demo data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> demo_data.DemoData:
    return demo_data.generate()


def test_the_demo_ids_are_fixed_uuids() -> None:
    assert SALESFORCE_SYNC_ID == "85decddb-902b-5e33-8f03-425e74848325"
    assert HUBSPOT_SYNC_ID == "f93dff32-62f4-5a90-a16d-24d9f5877650"
    assert STRIPE_SYNC_ID == "400a21ae-ad04-5fd9-a7e4-494ddcd9f2bc"
    assert len(CONSUMER_IDS) == len(set(CONSUMER_IDS)) == 3
    assert DEFAULT_TOKEN == "sandbox-token"


def test_two_seeds_give_identical_data_in_any_process(demo: demo_data.DemoData) -> None:
    assert demo_data.generate() == demo
    # Another interpreter with another string-hash seed stands in for "another machine".
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", _DIGEST_SCRIPT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == _demo_digest(demo)


def test_the_demo_holds_every_collection_at_its_size(demo: demo_data.DemoData) -> None:
    sizes = Counter(r["collection_id"] for r in demo.records)
    assert sizes == COLLECTION_SIZES
    assert sum(sizes.values()) >= 5000
    assert [r["updated_idx"] for r in demo.records] == list(range(1, len(demo.records) + 1))
    for collection_id in COLLECTION_SIZES:
        ids = [r["upstream_id"] for r in demo.records if r["collection_id"] == collection_id]
        assert len(ids) == len(set(ids)), collection_id
    assert len({r["id"] for r in demo.records}) == len(demo.records)


def test_demo_records_follow_their_collections_rules(demo: demo_data.DemoData) -> None:
    for record in demo.records:
        schema = SCHEMAS[record["collection_id"]]
        assert list(record["data"]) == [f.key for f in schema.fields]
        for key in schema.keys_where(required=True):
            assert record["data"][key], (record["upstream_id"], key)


def test_salesforce_ids_are_18_characters_with_a_valid_checksum(demo: demo_data.DemoData) -> None:
    for record in demo.records:
        if record["provider"] != "salesforce":
            continue
        upstream_id = record["upstream_id"]
        prefix = "003" if record["collection_id"] == "salesforce:contact" else "001"
        assert len(upstream_id) == 18
        assert upstream_id.startswith(prefix)
        assert salesforce_checksum(upstream_id[:15]) == upstream_id[15:]
        assert record["data"]["Id"] == upstream_id


def _kinds(value: Any) -> set[str]:
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer"}
    if isinstance(value, float):
        return {"number"}
    if isinstance(value, dict):
        return {"object"}.union(*(_kinds(v) for v in value.values()))
    if isinstance(value, list):
        return {"array"}.union(*(_kinds(v) for v in value))
    return {"long text"} if len(value) > 400 else {"string"}


def test_the_demo_data_mixes_every_json_type_and_long_text(demo: demo_data.DemoData) -> None:
    seen: dict[str, set[str]] = {}
    for record in demo.records:
        seen.setdefault(record["collection_id"], set()).update(_kinds(record["data"]))
    everything = {"null", "boolean", "integer", "number", "object", "array", "string"}
    assert everything | {"long text"} <= set().union(*seen.values())
    assert {"object", "null", "boolean", "long text"} <= seen["salesforce:contact"]
    assert {"array", "object", "integer", "boolean"} <= seen["stripe:customer"]
    assert {"integer", "number"} <= seen["hubspot:company"]


# --- persistence and reset --------------------------------------------------------------------


def test_writes_survive_a_restart_on_the_same_file(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.sqlite3")
    with SandboxServer(db_path=db) as first:
        record = first.store.any_record("salesforce:contact")
        assert _retitle(first.url, record["upstream_id"], "Persisted").status_code == 200
        total = first.store.count_records()
    with SandboxServer(db_path=db) as second:
        again = second.store.get_record(
            SALESFORCE_SYNC_ID, "salesforce:contact", record["upstream_id"]
        )
        assert again is not None
        assert again["data"]["Title"] == "Persisted"
        assert second.store.count_records() == total
        with _session() as session:
            listed = session.get(second.url + "/v1/syncs", timeout=TIMEOUT)
        assert listed.status_code == 200


def test_reset_restores_the_seeded_state_in_memory_and_on_disk(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    seeded = sandbox.store.digest()
    file_store = Store(str(tmp_path / "reset.sqlite3"))
    try:
        assert file_store.seed_if_empty() is True
        assert file_store.seed_if_empty() is False
        assert file_store.digest() == seeded
        for store in (sandbox.store, file_store):
            record = store.any_record("stripe:customer")
            store.write_as_upstream(STRIPE_SYNC_ID, "stripe:customer", record["upstream_id"], {})
            assert store.digest() != seeded
            store.reset()
            assert store.digest() == seeded
            assert store.count_records() == sum(COLLECTION_SIZES.values())
    finally:
        file_store.close()


def test_the_server_is_a_context_manager_with_a_real_port() -> None:
    server = SandboxServer(db_path=":memory:", port=0)
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        assert not server.url.endswith(":0")
        with _session() as session:
            assert session.get(server.url + "/v1/syncs", timeout=TIMEOUT).status_code == 200
        with _session("another-token") as session:
            assert session.get(server.url + "/v1/syncs", timeout=TIMEOUT).status_code == 401


# --- the command line -------------------------------------------------------------------------


def test_seed_fills_an_empty_db_once_and_reset_reseeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "seeded.sqlite3")
    assert main(["seed", "--db", db]) == 0
    assert "seeded; 6000 records" in capsys.readouterr().out
    store = Store(db)
    record = store.any_record("hubspot:company")
    upstream_id = record["upstream_id"]
    store.write_as_upstream(HUBSPOT_SYNC_ID, "hubspot:company", upstream_id, {"city": "Oz"})
    changed = store.digest()
    store.close()
    assert main(["seed", "--db", db]) == 0
    assert "already seeded" in capsys.readouterr().out
    assert main(["seed", "--db", db, "--reset"]) == 0
    assert "reseeded; 6000 records" in capsys.readouterr().out
    store = Store(db)
    assert store.digest() != changed
    assert store.get_record(HUBSPOT_SYNC_ID, "hubspot:company", record["upstream_id"]) == record
    store.close()


def test_serve_logs_requests_without_the_token_and_stops_on_sigterm(tmp_path: Path) -> None:
    secret = "s3cret-token-value"
    env = {**os.environ, "SANDBOX_TOKEN": secret, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sequin_admin.sandbox", "serve", "--port", "0",
         "--db", str(tmp_path / "served.sqlite3")],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = banner.split(" on ", 1)[1].split()[0]
        with _session(secret) as session:
            assert session.get(url + "/v1/syncs", timeout=TIMEOUT).status_code == 200
        with _session(DEFAULT_TOKEN) as session:
            assert session.get(url + "/v1/records?limit=1", timeout=TIMEOUT).status_code == 401
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "stopped" in out
    assert '"GET /v1/syncs HTTP/1.1"' not in err
    assert '"GET /v1/syncs" 200' in err
    assert '"GET /v1/records?limit=1" 401' in err
    assert secret not in err + out
    assert "Authorization" not in err


def test_a_sync_renamed_in_the_console_lists_under_its_new_name_until_reset(
    sandbox: SandboxServer,
) -> None:
    original = sandbox.store.get_sync(HUBSPOT_SYNC_ID)
    assert original is not None
    sandbox.store.rename_sync(HUBSPOT_SYNC_ID, "<b>Renamed</b>")
    answer = requests.get(
        f"{sandbox.url}/v1/syncs/{HUBSPOT_SYNC_ID}",
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        timeout=TIMEOUT,
    )
    assert answer.json()["name"] == "<b>Renamed</b>"
    with pytest.raises(KeyError):
        sandbox.store.rename_sync("no-such-sync", "x")
    sandbox.store.reset()
    assert sandbox.store.get_sync(HUBSPOT_SYNC_ID) == original
