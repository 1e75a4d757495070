"""Checks of the grants: who may see or do what on which sync and collection.

A person's grants (their own and their groups') are read once per request and kept on the
user object; the few of them are matched in Python for one page, and turned into one SQL
filter (`scope_q`) for lists such as the history, so no row is checked one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Group
from django.db.models import Q

from .models import Grant, Role, pattern_q

Person = AbstractBaseUser | AnonymousUser
_CACHE = "_access_grants"


class HasId(Protocol):
    @property
    def id(self) -> str: ...


S = TypeVar("S", bound=HasId)


def is_superuser(user: Person) -> bool:
    return bool(user.is_active and getattr(user, "is_superuser", False))


def grants_of(*, user: Person) -> list[Grant]:
    """The user's grants and their groups' grants (none for anonymous or inactive users); one
    query, then kept on the user object for the rest of the request."""
    if not (user.is_authenticated and user.is_active):
        return []
    cached: list[Grant] | None = getattr(user, _CACHE, None)
    if cached is None:
        cached = list(
            Grant.objects.filter(
                Q(user_id=user.pk) | Q(group__in=Group.objects.filter(user=user.pk).values("pk"))
            )
        )
        setattr(user, _CACHE, cached)
    return cached


def role_of(*, user: Person, sync_id: str, collection_id: str | None = None) -> Role | None:
    """The highest role the user holds on the collection (on some collection of the sync when
    no collection is named); None without any."""
    if is_superuser(user):
        return Role.ADMIN
    roles = [
        g.role
        for g in grants_of(user=user)
        if g.covers(sync_id=sync_id, collection_id=collection_id)
    ]
    return Role(max(roles)) if roles else None


def access_allows(
    *, user: Person, role: Role, sync_id: str, collection_id: str | None = None
) -> bool:
    held = role_of(user=user, sync_id=sync_id, collection_id=collection_id)
    return held is not None and held >= role


def syncs_visible(*, user: Person, syncs: Iterable[S]) -> list[S]:
    """The syncs on which the user holds a role (on some of their collections)."""
    return [s for s in syncs if access_allows(user=user, role=Role.VIEWER, sync_id=s.id)]


def collections_visible(*, user: Person, sync_id: str, collection_ids: Iterable[str]) -> list[str]:
    return [
        cid
        for cid in collection_ids
        if access_allows(user=user, role=Role.VIEWER, sync_id=sync_id, collection_id=cid)
    ]


def scope_q(
    *,
    user: Person,
    role: Role = Role.VIEWER,
    sync_field: str = "sync_id",
    collection_field: str = "collection_id",
) -> Q:
    """The rows (with sync and collection ids in those fields) the user holds `role` on, as
    one filter: an OR of one `=` or `LIKE 'prefix%'` pair per grant, however many rows match.
    Everything for a superuser; nothing without a grant."""
    if is_superuser(user):
        return Q()
    allowed: list[Q] = []
    for grant in grants_of(user=user):
        if grant.role >= role:
            reach = pattern_q(sync_field, grant.sync_pattern) & pattern_q(
                collection_field, grant.collection_pattern
            )
            if not reach:  # `*` on both: an empty Q would vanish from an OR, so say "all" now
                return Q()
            allowed.append(reach)
    if not allowed:
        return Q(pk__in=[])
    combined = allowed[0]
    for reach in allowed[1:]:
        combined |= reach
    return combined
