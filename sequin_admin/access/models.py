"""Roles and the grants that give them to a user or a group on a scope of syncs and collections."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

ANY = "*"


class Role(models.IntegerChoices):
    """Ordered: each role may do everything the roles below it may, so `>=` compares them."""

    VIEWER = 10, "viewer"
    EDITOR = 20, "editor"
    BULK_EDITOR = 30, "bulk editor"
    ADMIN = 40, "admin"


def validate_pattern(pattern: str) -> None:
    """`*`, an exact id, or a prefix ending in `*` (`salesforce:*`).

    Only a trailing wildcard: then a pattern is one `=` or one `LIKE 'prefix%'` in SQL, so the
    history can be filtered by the person's grants in the database.
    """
    if not pattern:
        raise ValidationError("A pattern is `*`, an exact id, or a prefix ending in `*`.")
    if ANY in pattern[:-1]:
        raise ValidationError(
            f"{pattern!r}: `*` may only end a pattern (`salesforce:*`) or be the whole of it."
        )
    if pattern != pattern.strip():
        raise ValidationError(f"{pattern!r}: no spaces around a pattern.")


def pattern_matches(pattern: str, value: str) -> bool:
    if pattern.endswith(ANY):
        return value.startswith(pattern[:-1])
    return value == pattern


def pattern_q(field: str, pattern: str) -> Q:
    """The pattern as a filter on `field`: the same test as `pattern_matches`, in SQL."""
    if pattern == ANY:
        return Q()
    if pattern.endswith(ANY):
        return Q(**{f"{field}__startswith": pattern[:-1]})
    return Q(**{field: pattern})


class Grant(models.Model):
    """A role for one user or one group on the collections both patterns match."""

    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.VIEWER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access_grants",
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="access_grants"
    )
    sync_pattern = models.CharField(
        max_length=100,
        default=ANY,
        validators=[validate_pattern],
        help_text="`*`, a sync id, or a prefix ending in `*`.",
    )
    collection_pattern = models.CharField(
        max_length=200,
        default=ANY,
        validators=[validate_pattern],
        help_text="`*`, a collection id such as `salesforce:contact`, or a prefix such as "
        "`salesforce:*`.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sync_pattern", "collection_pattern", "-role"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="grant_to_a_user_or_a_group",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_role_display()} for {self.holder} on "
            f"{self.sync_pattern} / {self.collection_pattern}"
        )

    @property
    def holder(self) -> str:
        if self.user_id is not None:
            return f"user {self.user}"
        return f"group {self.group}"

    def clean(self) -> None:
        if (self.user_id is None) == (self.group_id is None):
            raise ValidationError("Give the role to a user or to a group (one of them).")

    def covers(self, *, sync_id: str, collection_id: str | None) -> bool:
        """Whether the grant reaches the sync, and the collection when one is named."""
        return pattern_matches(self.sync_pattern, sync_id) and (
            collection_id is None or pattern_matches(self.collection_pattern, collection_id)
        )
