"""Grants managed in Django's admin site: validated, searchable, and every change logged."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import User
from django.test import Client

from sequin_admin.access.models import Grant, Role

ADD = "/django-admin/access/grant/add/"


@pytest.fixture
def root_client(client: Client, db: None) -> Client:
    client.force_login(User.objects.create_superuser("root"))
    return client


def grant_form(holder: User, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "role": Role.EDITOR.value,
        "user": holder.pk,
        "group": "",
        "sync_pattern": "*",
        "collection_pattern": "salesforce:*",
    }
    return {**form, **changes}


def test_adding_changing_and_deleting_a_grant_is_logged(root_client: Client) -> None:
    ada = User.objects.create_user("ada")
    response = root_client.post(ADD, grant_form(ada))
    assert response.status_code == 302, response.content.decode()
    grant = Grant.objects.get()
    assert (grant.user, grant.role, grant.collection_pattern) == (ada, Role.EDITOR, "salesforce:*")

    change = f"/django-admin/access/grant/{grant.pk}/change/"
    root_client.post(change, grant_form(ada, role=Role.BULK_EDITOR.value))
    root_client.post(f"/django-admin/access/grant/{grant.pk}/delete/", {"post": "yes"})
    assert not Grant.objects.exists()

    entries = LogEntry.objects.filter(object_id=str(grant.pk)).order_by("id")
    assert [e.action_flag for e in entries] == [ADDITION, CHANGE, DELETION]
    assert {e.user.username for e in entries} == {"root"}
    assert "Role" in entries[1].get_change_message()


def test_the_admin_site_refuses_a_bad_pattern_and_a_grant_to_nobody(root_client: Client) -> None:
    ada = User.objects.create_user("ada")
    html = root_client.post(ADD, grant_form(ada, collection_pattern="*:contact")).content.decode()
    assert "may only end a pattern" in html
    html = root_client.post(ADD, grant_form(ada, user="")).content.decode()
    assert "Give the role to a user or to a group" in html
    assert not Grant.objects.exists()
    assert not LogEntry.objects.exists()


def test_the_grant_list_filters_and_searches(root_client: Client) -> None:
    ada = User.objects.create_user("ada")
    bob = User.objects.create_user("bob")
    for_ada = Grant.objects.create(user=ada, role=Role.VIEWER, sync_pattern="sync-ada")
    for_bob = Grant.objects.create(user=bob, role=Role.ADMIN, sync_pattern="sync-bob")
    html = root_client.get("/django-admin/access/grant/", {"q": "ada"}).content.decode()
    assert str(for_ada) in html and str(for_bob) not in html
    html = root_client.get(
        "/django-admin/access/grant/", {"role__exact": Role.ADMIN.value}
    ).content.decode()
    assert str(for_bob) in html and str(for_ada) not in html


def test_only_staff_reach_the_grants(client: Client, db: None) -> None:
    ada = User.objects.create_user("ada")
    Grant.objects.create(user=ada, role=Role.ADMIN)  # the admin role is not Django staff
    client.force_login(ada)
    response = client.get("/django-admin/access/grant/")
    assert response.status_code == 302
    assert response["Location"].startswith("/django-admin/login/")
