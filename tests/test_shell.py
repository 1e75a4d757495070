"""The shell of the UI: sign-in everywhere, the home page, and Sequin failing politely."""

from __future__ import annotations

import re
import socket

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from sequin_admin.access.models import Grant, Role
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/", "/syncs/x/", "/syncs/x/salesforce:contact/", "/syncs/x/c/u/", "/mutations/1/"],
)
def test_every_page_needs_sign_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_open_and_signing_in_shows_the_syncs(
    client: Client, sandbox: SandboxServer
) -> None:
    ada = User.objects.create_user("ada", password="pw-for-tests-only")
    Grant.objects.create(user=ada, role=Role.VIEWER)
    assert client.get(reverse("login")).status_code == 200
    response = client.post(
        reverse("login"), {"username": "ada", "password": "pw-for-tests-only"}, follow=True
    )
    assert response.status_code == 200
    assert b"salesforce:contact" in response.content


def test_home_lists_syncs_with_provider_status_and_collections(
    signed_in: Client, sandbox: SandboxServer
) -> None:
    response = signed_in.get("/")
    html = response.content.decode()
    for provider in ("salesforce", "hubspot", "stripe"):
        assert provider in html
    assert "active" in html
    assert "stripe:customer" in html
    assert "hubspot:contact" in html


def test_unreachable_sequin_shows_a_message_not_an_error_page(
    signed_in: Client, settings: object
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SEQUIN_API_URL = f"http://127.0.0.1:{port}"
    settings.SEQUIN_TIMEOUT = (0.5, 0.5)
    response = signed_in.get("/")
    assert response.status_code == 502
    assert b"Sequin could not be reached" in response.content


def test_refused_token_shows_a_message(signed_in: Client, settings: object) -> None:
    settings.SEQUIN_API_TOKEN = "wrong-token"
    response = signed_in.get("/")
    assert response.status_code == 502
    assert b"Sequin refused the token" in response.content
    assert b"wrong-token" not in response.content


def test_garbage_from_sequin_shows_a_message(signed_in: Client, sandbox: SandboxServer) -> None:
    sandbox.faults.set(Fault(kind="garbage", count=1, match="/v1/syncs"))
    response = signed_in.get("/")
    assert response.status_code == 502
    assert b"Sequin answered with something unexpected" in response.content


def assert_no_inline_script_or_style(html: str) -> None:
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"<[^>]*\son[a-z]+=", html), "inline event handler found"
    for chunk in html.split("<script")[1:]:
        assert "src=" in chunk.split(">", 1)[0], "inline <script> found"


def test_every_kind_of_page_fits_a_strict_csp(signed_in: Client, sandbox: SandboxServer) -> None:
    from sequin_admin.mutations.models import Mutation
    from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
    from tests.helpers import open_record

    collection = f"/syncs/{SALESFORCE_SYNC_ID}/salesforce:contact/"
    pages = ["/", f"/syncs/{SALESFORCE_SYNC_ID}/", collection, "/mutations/"]
    signed_in.get(collection)
    contact = sandbox.store.any_record("salesforce:contact")
    record = IndexedRecord.objects.get(upstream_id=contact["upstream_id"])
    page = open_record(signed_in, record)
    signed_in.post(page.url, page.form_data({"Title": "CSP"}))
    pages += [page.url, f"/mutations/{Mutation.objects.get().pk}/"]
    for path in pages:
        response = signed_in.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
        assert "'unsafe-inline'" not in policy
        assert_no_inline_script_or_style(response.content.decode())


def test_the_token_never_reaches_a_page(signed_in: Client, sandbox: SandboxServer) -> None:
    from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN

    assert DEFAULT_TOKEN.encode() not in signed_in.get("/").content


def test_the_token_never_reaches_a_log_or_the_history(
    signed_in: Client, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from sequin_admin.mutations.models import Mutation
    from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN, SALESFORCE_SYNC_ID
    from tests.helpers import open_record

    caplog.set_level(logging.DEBUG)
    signed_in.get(f"/syncs/{SALESFORCE_SYNC_ID}/salesforce:contact/")
    contact = sandbox.store.any_record("salesforce:contact")
    from sequin_admin.records.index import index_get

    record = index_get(
        sync_id=SALESFORCE_SYNC_ID,
        collection_id="salesforce:contact",
        upstream_id=contact["upstream_id"],
    )
    assert record is not None
    for n, fault in enumerate(
        (None, Fault(kind="garbage"), Fault(kind="rate_limit_429", retry_after=60))
    ):
        page = open_record(signed_in, record)  # a fresh form: each post is a new attempt
        if fault:
            sandbox.faults.set(fault)
        signed_in.post(page.url, page.form_data({"Title": f"Logged {n}"}))
    export = b"".join(signed_in.get("/mutations/export/?format=json").streaming_content)
    assert Mutation.objects.count() == 3
    assert caplog.records, "nothing was logged, so this test proves nothing"
    assert DEFAULT_TOKEN not in caplog.text
    assert DEFAULT_TOKEN.encode() not in export
