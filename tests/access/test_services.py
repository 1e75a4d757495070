"""Who holds which role where: own grants, groups' grants, superusers, and the SQL filter."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sequin_admin.access.models import Grant, Role
from sequin_admin.access.services import (
    access_allows,
    collections_visible,
    grants_of,
    role_of,
    scope_q,
    syncs_visible,
)
from sequin_admin.mutations.models import Mutation

SF = "sync-salesforce"
HS = "sync-hubspot"


@pytest.fixture
def ada(db: None) -> User:
    return User.objects.create_user("ada")


def fresh(user: User) -> User:
    """The user as the next request loads it (grants are kept on the object per request)."""
    return User.objects.get(pk=user.pk)


def test_no_grant_no_role(ada: User) -> None:
    assert role_of(user=ada, sync_id=SF, collection_id="salesforce:contact") is None
    assert not access_allows(user=ada, role=Role.VIEWER, sync_id=SF)


def test_an_exact_grant_reaches_only_its_collection(ada: User) -> None:
    Grant.objects.create(
        user=ada, role=Role.EDITOR, sync_pattern=SF, collection_pattern="salesforce:contact"
    )
    assert role_of(user=ada, sync_id=SF, collection_id="salesforce:contact") == Role.EDITOR
    assert role_of(user=ada, sync_id=SF, collection_id="salesforce:account") is None
    assert role_of(user=ada, sync_id=HS, collection_id="salesforce:contact") is None
    # On the sync as a whole: the role held on some collection of it.
    assert role_of(user=ada, sync_id=SF) == Role.EDITOR


def test_a_prefix_grant_reaches_every_collection_it_starts(ada: User) -> None:
    Grant.objects.create(user=ada, role=Role.VIEWER, collection_pattern="salesforce:*")
    ids = ["salesforce:contact", "salesforce:account", "hubspot:contact"]
    assert collections_visible(user=ada, sync_id=SF, collection_ids=ids) == ids[:2]


def test_each_role_includes_those_below_and_the_highest_grant_wins(ada: User) -> None:
    Grant.objects.create(user=ada, role=Role.VIEWER)
    Grant.objects.create(user=ada, role=Role.BULK_EDITOR, collection_pattern="stripe:*")
    assert role_of(user=ada, sync_id=SF, collection_id="stripe:customer") == Role.BULK_EDITOR
    for role in (Role.VIEWER, Role.EDITOR, Role.BULK_EDITOR):
        assert access_allows(user=ada, role=role, sync_id=SF, collection_id="stripe:customer")
    assert not access_allows(user=ada, role=Role.ADMIN, sync_id=SF, collection_id="stripe:customer")
    assert not access_allows(
        user=ada, role=Role.EDITOR, sync_id=SF, collection_id="hubspot:contact"
    )


def test_a_group_grant_reaches_its_members_only(ada: User) -> None:
    ops = Group.objects.create(name="ops")
    Grant.objects.create(group=ops, role=Role.EDITOR, sync_pattern=HS)
    bob = User.objects.create_user("bob")
    ada.groups.add(ops)
    assert role_of(user=fresh(ada), sync_id=HS, collection_id="hubspot:contact") == Role.EDITOR
    assert role_of(user=bob, sync_id=HS, collection_id="hubspot:contact") is None
    ada.groups.remove(ops)
    assert role_of(user=fresh(ada), sync_id=HS, collection_id="hubspot:contact") is None


def test_a_superuser_may_do_everything_without_a_grant(db: None) -> None:
    root = User.objects.create_superuser("root")
    assert role_of(user=root, sync_id=SF, collection_id="anything") == Role.ADMIN
    assert not scope_q(user=root, role=Role.ADMIN)  # no condition: every row


def test_inactive_and_anonymous_people_hold_nothing(ada: User) -> None:
    Grant.objects.create(user=ada, role=Role.ADMIN)
    ada.is_active = False
    ada.save()
    assert role_of(user=fresh(ada), sync_id=SF, collection_id="x") is None
    assert role_of(user=AnonymousUser(), sync_id=SF, collection_id="x") is None
    root = User.objects.create_superuser("root", is_active=False)
    assert role_of(user=root, sync_id=SF, collection_id="x") is None


def test_the_grants_are_read_once_per_user_object(ada: User) -> None:
    ops = Group.objects.create(name="ops")
    ada.groups.add(ops)
    Grant.objects.create(user=ada, role=Role.VIEWER, sync_pattern=SF)
    Grant.objects.create(group=ops, role=Role.EDITOR, sync_pattern=HS)
    with CaptureQueriesContext(connection) as queries:
        assert len(grants_of(user=ada)) == 2
        for sync_id in (SF, HS, "other"):
            role_of(user=ada, sync_id=sync_id, collection_id="c")
    assert len(queries) == 1


class _Sync:
    def __init__(self, sync_id: str) -> None:
        self.id = sync_id


def test_the_sync_list_keeps_the_syncs_with_a_grant(ada: User) -> None:
    Grant.objects.create(user=ada, role=Role.VIEWER, sync_pattern=HS)
    syncs = [_Sync(SF), _Sync(HS)]
    assert [s.id for s in syncs_visible(user=ada, syncs=syncs)] == [HS]


def test_the_scope_filter_is_the_grants_in_sql(ada: User) -> None:
    Grant.objects.create(user=ada, role=Role.VIEWER, sync_pattern=SF, collection_pattern="sf:*")
    Grant.objects.create(user=ada, role=Role.EDITOR, sync_pattern=HS, collection_pattern="hs:a")
    rows = [(SF, "sf:a"), (SF, "hs:a"), (HS, "hs:a"), (HS, "hs:b"), ("other", "sf:a")]
    Mutation.objects.bulk_create(
        Mutation(kind="update", sync_id=s, collection_id=c, request_body={}) for s, c in rows
    )

    def seen(role: Role) -> set[tuple[str, str]]:
        visible = Mutation.objects.filter(scope_q(user=ada, role=role))
        return set(visible.values_list("sync_id", "collection_id"))

    assert seen(Role.VIEWER) == {(SF, "sf:a"), (HS, "hs:a")}
    assert seen(Role.EDITOR) == {(HS, "hs:a")}
    assert seen(Role.BULK_EDITOR) == set()
    nobody = User.objects.create_user("nobody")
    assert not Mutation.objects.filter(scope_q(user=nobody)).exists()
    Grant.objects.create(user=nobody, role=Role.VIEWER)  # `*` / `*`: everything
    assert Mutation.objects.filter(scope_q(user=fresh(nobody))).count() == len(rows)
