"""Steps the tests share: send an edit through the journal, open a record page and post its
form as a browser would, drive the record page in a real browser."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import unescape
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from sequin_admin.access.models import Grant, Role
from sequin_admin.edits.forms import data_name
from sequin_admin.mutations.journal import Seen, journal_start
from sequin_admin.mutations.models import Mutation, Source
from sequin_admin.mutations.run import mutation_run
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import MutationRequest

Indexed = Callable[..., IndexedRecord]
CONTACTS = "salesforce:contact"
BROWSER_PASSWORD = "pw-for-browser-tests"


def journal_attempt(data: dict[str, Any], *, upstream_id: str, group_id: Any = None) -> Mutation:
    """An update of one record of `CONTACTS` journaled as a job's batch would be, not sent."""
    request = MutationRequest(
        kind="update",
        sync_id="s1",
        collection_id=CONTACTS,
        records=({"upstream_id": upstream_id, "data": data},),
    )
    return journal_start(request=request, user=None, source=Source.JOB, seen={}, group_id=group_id)


def send(record: IndexedRecord, user: User, data: dict, **extra: object) -> Mutation:
    request = MutationRequest(
        kind="update",
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        records=({"upstream_id": record.upstream_id, "data": data},),
        **extra,
    )
    mutation, is_new = mutation_run(
        request=request,
        user=user,
        source=Source.FORM,
        seen={record.upstream_id: Seen(data=record.data, updated_idx=record.updated_idx)},
    )
    assert is_new
    return mutation


# The record page through Django's test client


@dataclass
class OpenRecord:
    url: str
    html: str
    record: IndexedRecord

    @property
    def state(self) -> str:
        match = re.search(r'name="state" value="([^"]+)"', self.html)
        assert match, "the page has no signed form state"
        return unescape(match.group(1))

    def form_data(
        self, fields: Mapping[str, Any] | None = None, raw: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """What a browser posts: every input as rendered, with `fields` (by the record's keys)
        and `raw` (by input name) changed."""
        data: dict[str, Any] = {"state": self.state, "action": "send"}
        for key, value in self.record.data.items():
            name = data_name(key)
            if f'name="{name}"' in self.html:  # read-only fields have no input
                data[name] = as_posted(value)
        for key, value in (fields or {}).items():
            data[data_name(key)] = value
        data.update(raw or {})
        return data


def as_posted(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def open_record(client: Client, record: IndexedRecord) -> OpenRecord:
    url = reverse("record_detail", args=[record.sync_id, record.collection_id, record.upstream_id])
    response = client.get(url)
    assert response.status_code == 200
    record.refresh_from_db()
    return OpenRecord(url=url, html=response.content.decode(), record=record)


def confirmation_token(html: str) -> str:
    """The one-time token of a Retry or Revert confirmation on the page."""
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "the page offers no confirmation"
    return unescape(match.group(1))


def replay_confirmed(
    client: Client, url: str, choices: Mapping[str, str] | None = None
) -> HttpResponse:
    """Retry or Revert as a person does it: open the confirmation (after choosing per
    conflicting field, `choices`), then confirm it."""
    if choices is None:
        shown = client.get(url)
    else:
        shown = client.post(url, {"action": "resolve", **choices})
    assert shown.status_code == 200, shown.status_code
    token = confirmation_token(shown.content.decode())
    return client.post(url, {"action": "confirm", "token": token})


def post(client: Client, url: str, data: dict[str, Any], *, htmx: bool = True) -> str:
    headers = {"HX-Request": "true", "HX-Target": "record-editor"} if htmx else {}
    response = client.post(url, data, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# The record page in a real browser


def sign_in(page: Page, username: str = "ada", role: Role | None = Role.ADMIN) -> User:
    """Sign in as a new user holding `role` on every sync (no grant at all for None)."""
    user = User.objects.create_user(username, password=BROWSER_PASSWORD)
    if role is not None:
        Grant.objects.create(user=user, role=role)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    return user


def open_contact(page: Page, sandbox: SandboxServer) -> dict:
    contact = sandbox.store.any_record(CONTACTS)
    page.goto(f"/syncs/{SALESFORCE_SYNC_ID}/{CONTACTS}/{contact['upstream_id']}/")
    expect(page.get_by_role("heading", name=contact["upstream_id"])).to_be_visible()
    return contact


def field(page: Page, key: str) -> Locator:
    return page.get_by_label(key, exact=True)


def upstream(sandbox: SandboxServer, contact: dict) -> dict:
    return sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, contact["upstream_id"])["data"]


def plan_of(sql: str, params: object = ()) -> str:
    """The query's plan. On PostgreSQL sequential scans are priced out for the one EXPLAIN: on
    a test's few rows the planner rightly prefers them, and the question is whether an index
    can serve the query, as it must on a million rows."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " | ".join(str(row[-1]) for row in cursor.fetchall())
    # SET LOCAL holds only inside a transaction (a test of transaction=True has none).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
        return plan
