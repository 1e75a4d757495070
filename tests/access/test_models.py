"""Grant patterns: `*`, an exact id, a prefix ending in `*`; the same answer in Python and SQL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from sequin_admin.access.models import Grant, Role, pattern_matches, pattern_q, validate_pattern
from sequin_admin.mutations.models import Mutation

COLLECTIONS = [
    "salesforce:contact",
    "salesforce:account",
    "hubspot:contact",
    "stripe:customer",
    "salesforce",
    "salesforce_:x",
    "sales%force:x",
]


@pytest.mark.parametrize("pattern", ["*", "salesforce:contact", "salesforce:*", "sales*", "a"])
def test_valid_patterns(pattern: str) -> None:
    validate_pattern(pattern)


@pytest.mark.parametrize("pattern", ["", "*:contact", "sales*force", "**", " salesforce:*"])
def test_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationError):
        validate_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", set(COLLECTIONS)),
        ("salesforce:*", {"salesforce:contact", "salesforce:account"}),
        ("salesforce:contact", {"salesforce:contact"}),
        ("salesforce_*", {"salesforce_:x"}),  # `_` is no SQL wildcard here
        ("sales%*", {"sales%force:x"}),  # nor `%`
    ],
)
def test_a_pattern_matches_the_same_collections_in_python_and_in_sql(
    pattern: str, expected: set[str], db: None
) -> None:
    assert {c for c in COLLECTIONS if pattern_matches(pattern, c)} == expected
    Mutation.objects.bulk_create(
        Mutation(kind="update", sync_id="s", collection_id=c, request_body={}) for c in COLLECTIONS
    )
    in_sql = Mutation.objects.filter(pattern_q("collection_id", pattern))
    assert set(in_sql.values_list("collection_id", flat=True)) == expected


def test_roles_are_ordered() -> None:
    assert Role.VIEWER < Role.EDITOR < Role.BULK_EDITOR < Role.ADMIN


def test_a_grant_goes_to_a_user_or_a_group_not_both_nor_neither(db: None) -> None:
    ada = User.objects.create_user("ada")
    group = Group.objects.create(name="ops")
    with pytest.raises(ValidationError):
        Grant(role=Role.VIEWER).full_clean()
    with pytest.raises(ValidationError):
        Grant(role=Role.VIEWER, user=ada, group=group).full_clean()
    with pytest.raises(ValidationError):
        Grant(role=Role.VIEWER, user=ada, collection_pattern="*:contact").full_clean()
    Grant(role=Role.VIEWER, user=ada, collection_pattern="salesforce:*").full_clean()
    with pytest.raises(IntegrityError):
        Grant.objects.create(role=Role.VIEWER)  # the database refuses it too


def test_a_grant_says_whom_what_where(db: None) -> None:
    grant = Grant.objects.create(
        role=Role.EDITOR, group=Group.objects.create(name="ops"), collection_pattern="stripe:*"
    )
    assert str(grant) == "editor for group ops on * / stripe:*"
