from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import LazySettings, settings
from django.contrib.auth.models import User
from django.test import Client

from sequin_admin import planner_statistics
from sequin_admin.access.models import Grant, Role
from sequin_admin.records.models import IndexedCollection, IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sandbox.demo_data import (
    DEFAULT_TOKEN,
    HUBSPOT_SYNC_ID,
    SALESFORCE_SYNC_ID,
    STRIPE_SYNC_ID,
)
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import SequinClient
from tests.sandbox.servers import fresh


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One real sandbox over HTTP on a free loopback port for the whole run."""
    server = SandboxServer(db_path=":memory:", token=DEFAULT_TOKEN, host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _admin_talks_to_sandbox(settings: LazySettings, sandbox_server: SandboxServer) -> None:
    settings.SEQUIN_API_URL = sandbox_server.url
    settings.SEQUIN_API_TOKEN = DEFAULT_TOKEN
    settings.SEQUIN_SANDBOX_MODE = True


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The sandbox in its freshly seeded state, with no faults switched on."""
    with fresh(sandbox_server):
        yield sandbox_server


@pytest.fixture
def client_for_sandbox(sandbox: SandboxServer) -> Iterator[SequinClient]:
    client = SequinClient(base_url=sandbox.url, token=DEFAULT_TOKEN, timeout=(2.0, 5.0))
    yield client
    client.close()


SYNC_OF = {
    "salesforce": SALESFORCE_SYNC_ID,
    "hubspot": HUBSPOT_SYNC_ID,
    "stripe": STRIPE_SYNC_ID,
}


@pytest.fixture
def planner_counts() -> Iterator[None]:
    """Rows other tests wrote in this process do not count towards this test's statistics
    checks (planner_statistics keeps a count per process), nor do this test's after it."""
    planner_statistics._written.clear()
    yield
    planner_statistics._written.clear()


@pytest.fixture
def user(db: None) -> User:
    """A user who may do everything on every sync (tests/access tests the narrower roles)."""
    ada = User.objects.create_user("ada", password="pw-for-tests-only")
    Grant.objects.create(user=ada, role=Role.ADMIN)
    return ada


@pytest.fixture
def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


# Each collection as a refresh of the freshly seeded sandbox leaves it: its rows and its state.
IndexSnapshot = tuple[list[dict[str, Any]], dict[str, Any]]
_index_snapshots: dict[tuple[str, str], IndexSnapshot] = {}


def _index_collection(sync_id: str, collection_id: str) -> None:
    """Index a collection of the seeded sandbox: through a real refresh the first time in a
    run, then from the rows that refresh wrote (the sandbox is reset to the same seed before
    every test, so the rows are the same; one INSERT instead of paging the API again)."""
    key = (settings.SEQUIN_API_URL, collection_id)  # each sandbox profile has its own cursors
    if key not in _index_snapshots:
        state = collection_refresh(sync_id=sync_id, collection_id=collection_id)
        rows = IndexedRecord.objects.filter(sync_id=sync_id, collection_id=collection_id)
        _index_snapshots[key] = (
            list(rows.values(*ROW_FIELDS)),
            {f: getattr(state, f) for f in STATE_FIELDS},
        )
        return
    rows, state = _index_snapshots[key]
    # Copies: a test may change a record's data in place.
    IndexedRecord.objects.bulk_create(IndexedRecord(**copy.deepcopy(row)) for row in rows)
    IndexedCollection.objects.create(**copy.deepcopy(state))


ROW_FIELDS = [
    f.name for f in IndexedRecord._meta.concrete_fields if f.name not in ("id", "indexed_at")
]
STATE_FIELDS = [f.name for f in IndexedCollection._meta.concrete_fields if f.name != "id"]


@pytest.fixture
def indexed(sandbox: SandboxServer, db: None) -> Callable[..., IndexedRecord]:
    """A record of `collection_id` from the admin's index, after listing the collection."""

    def pick(collection_id: str, **where: object) -> IndexedRecord:
        sync_id = SYNC_OF[collection_id.split(":")[0]]
        if not IndexedCollection.objects.filter(collection_id=collection_id).exists():
            _index_collection(sync_id, collection_id)
        rows = IndexedRecord.objects.filter(
            sync_id=sync_id, collection_id=collection_id, deleted=False, **where
        )
        found = rows.order_by("upstream_id").first()
        assert found is not None, f"no indexed {collection_id} record matches {where}"
        return found

    return pick
