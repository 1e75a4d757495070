"""CSRF on every POST, htmx ones included: refused without the token, accepted with the
header every page gives htmx (`hx-headers` on <body>)."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sequin_admin.mutations.models import Mutation
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import Indexed, open_record, send

HTMX = {"HX-Request": "true"}


@pytest.fixture
def browser_client(user: User) -> Client:
    """A browser's client: the CSRF check is on, as it is for real requests."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def htmx_csrf_header(html: str) -> dict[str, str]:
    """The header htmx adds to every request of the page, as the page declares it."""
    match = re.search(r"<body hx-headers='([^']+)'", html)
    assert match, "the page gives htmx no headers"
    return json.loads(unescape(match.group(1)))


def test_every_post_without_the_token_is_refused_and_sends_nothing(
    browser_client: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="timeout_504", apply=False))
    unknown = send(record, user, {"Title": "Not again"})
    page = open_record(browser_client, record)
    posts = [
        (page.url, page.form_data({"Title": "Forged"})),
        (f"{page.url}preview/", page.form_data({"Title": "Forged"})),
        (f"/syncs/{record.sync_id}/{record.collection_id}/refresh/", {}),
        (f"/mutations/{unknown.pk}/reconcile/", {}),
        (f"/mutations/{unknown.pk}/retry/", {"action": "confirm", "token": "x"}),
        (f"/mutations/{unknown.pk}/revert/", {"action": "confirm", "token": "x"}),
        ("/accounts/password_change/", {"old_password": "x", "new_password1": "y"}),
        ("/accounts/logout/", {}),
    ]
    for url, data in posts:
        for headers in (HTMX, {}):
            response = browser_client.post(url, data, headers=headers)
            assert response.status_code == 403, (url, headers, response.status_code)
    assert Mutation.objects.count() == 1
    assert browser_client.get("/").status_code == 200  # still signed in: logout was refused


def test_an_htmx_post_with_the_pages_header_goes_through(
    browser_client: Client, indexed: Indexed
) -> None:
    record = indexed("salesforce:contact")
    page = open_record(browser_client, record)
    headers = {**HTMX, "HX-Target": "record-editor", **htmx_csrf_header(page.html)}
    assert set(headers) >= {"X-CSRFToken"}
    response = browser_client.post(
        page.url, page.form_data({"Title": "With the header"}), headers=headers
    )
    assert response.status_code == 200
    assert Mutation.objects.get().request_body["records"][0]["data"] == {"Title": "With the header"}
