from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client

from sequin_admin.records.models import IndexedRecord
from sequin_admin.records.refresh import collection_refresh
from sequin_admin.sandbox.demo_data import (
    DEFAULT_TOKEN,
    HUBSPOT_SYNC_ID,
    SALESFORCE_SYNC_ID,
    STRIPE_SYNC_ID,
)
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import SequinClient


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
    sandbox_server.store.reset()
    yield sandbox_server
    sandbox_server.faults.clear()


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
def user(db: None) -> User:
    return User.objects.create_user("ada", password="pw-for-tests-only")


@pytest.fixture
def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def indexed(sandbox: SandboxServer, db: None) -> Callable[..., IndexedRecord]:
    """A record of `collection_id` from the admin's index, after listing the collection."""

    def pick(collection_id: str, **where: object) -> IndexedRecord:
        sync_id = SYNC_OF[collection_id.split(":")[0]]
        collection_refresh(sync_id=sync_id, collection_id=collection_id)
        rows = IndexedRecord.objects.filter(
            sync_id=sync_id, collection_id=collection_id, deleted=False, **where
        )
        return rows.order_by("upstream_id").first()  # type: ignore[return-value]

    return pick
