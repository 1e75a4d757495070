"""`@role_required` on the real views: a clear 403, an alert for htmx, the mutation's scope."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from sequin_admin.access.models import Grant, Role
from sequin_admin.mutations.journal import Seen
from sequin_admin.mutations.models import Mutation, Source
from sequin_admin.mutations.run import mutation_run
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.server import SandboxServer
from sequin_admin.sequin import MutationRequest
from tests.helpers import CONTACTS, Indexed, open_record, replay_confirmed, send


def person(client: Client, name: str, role: Role | None, collection_pattern: str = "*") -> User:
    """Sign `client` in as a new user holding `role` on `collection_pattern` (nothing if None)."""
    found = User.objects.create_user(name)
    if role is not None:
        Grant.objects.create(user=found, role=role, collection_pattern=collection_pattern)
    client.force_login(found)
    return found


def record_url(record: IndexedRecord) -> str:
    return reverse("record_detail", args=[record.sync_id, record.collection_id, record.upstream_id])


def test_a_refused_page_is_a_clear_403(client: Client, indexed: Indexed) -> None:
    record = indexed(CONTACTS)
    person(client, "hubspot-only", Role.ADMIN, collection_pattern="hubspot:*")
    response = client.get(record_url(record))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You are not allowed to do this" in html
    assert f"the viewer role on the collection {CONTACTS}" in html
    assert record.data["Email"] not in html  # nothing of the record


def test_a_viewer_reads_the_record_but_its_form_post_is_refused_and_nothing_sent(
    client: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    editor = Client()
    person(editor, "editor", Role.EDITOR)
    form = open_record(editor, record).form_data({"Title": "Not by a viewer"})
    person(client, "viewer", Role.VIEWER)
    assert client.get(record_url(record)).status_code == 200
    response = client.post(
        record_url(record), form, headers={"HX-Request": "true", "HX-Target": "record-editor"}
    )
    # htmx swaps nothing on an error status: a 200 alert, into the alert region, not the form.
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#sequin-alerts"
    assert response["HX-Reswap"] == "innerHTML"
    html = response.content.decode()
    assert "the editor role" in html and "Nothing was changed" in html
    assert not Mutation.objects.exists()
    # The same post by the editor goes through.
    assert editor.post(record_url(record), form).status_code == 200
    assert Mutation.objects.get().username == "editor"


def two_record_update(first: IndexedRecord, second: IndexedRecord, user: User) -> Mutation:
    request = MutationRequest(
        kind="update",
        sync_id=first.sync_id,
        collection_id=first.collection_id,
        records=tuple(
            {"upstream_id": r.upstream_id, "data": {"Email": "not-an-email"}}
            for r in (first, second)
        ),
    )
    mutation, _ = mutation_run(
        request=request,
        user=user,
        source=Source.FORM,
        seen={r.upstream_id: Seen(data=r.data, updated_idx=r.updated_idx) for r in (first, second)},
    )
    return mutation


def test_replaying_a_many_record_change_needs_a_bulk_editor(
    client: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    first = indexed(CONTACTS)
    second = IndexedRecord.objects.filter(collection_id=CONTACTS).exclude(pk=first.pk).first()
    assert second is not None
    root = User.objects.create_superuser("root")
    many = two_record_update(first, second, root)
    person(client, "editor", Role.EDITOR)
    assert client.post(reverse("mutation_retry", args=[many.pk])).status_code == 403
    assert not Mutation.objects.filter(retry_of=many).exists()
    bulk = Client()
    person(bulk, "bulk", Role.BULK_EDITOR)
    assert replay_confirmed(bulk, reverse("mutation_retry", args=[many.pk])).status_code == 302
    assert Mutation.objects.filter(retry_of=many, username="bulk").exists()
    # One record by update: an editor may revert it.
    one = send(first, root, {"Title": "One record"})
    assert replay_confirmed(client, reverse("mutation_revert", args=[one.pk])).status_code == 302
    assert Mutation.objects.filter(revert_of=one, username="editor").exists()


@pytest.mark.parametrize("name", ["mutation_detail", "mutation_retry", "mutation_reconcile"])
def test_an_unknown_mutation_is_a_404(client: Client, name: str, db: None) -> None:
    person(client, "admin", Role.ADMIN)
    method = client.get if name == "mutation_detail" else client.post
    assert method(reverse(name, args=[999999])).status_code == 404


def test_a_viewer_of_another_collection_sees_no_attempt_here(
    client: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    mutation = send(indexed(CONTACTS), User.objects.create_superuser("root"), {"Title": "Hidden"})
    person(client, "accounts-only", Role.VIEWER, collection_pattern="salesforce:account")
    assert client.get(reverse("mutation_detail", args=[mutation.pk])).status_code == 403


def test_a_group_grant_opens_the_pages_to_its_members(
    client: Client, indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    support = Group.objects.create(name="support")
    Grant.objects.create(group=support, role=Role.EDITOR, collection_pattern=CONTACTS)
    member = person(client, "member", None)
    assert client.get(record_url(record)).status_code == 403
    member.groups.add(support)
    assert client.get(record_url(record)).status_code == 200
    assert 'id="read-only-notice"' not in client.get(record_url(record)).content.decode()
