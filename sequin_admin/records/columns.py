"""Which columns the collection page shows: the address's `col`, else the person's last pick,
else the telling ones."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from .fields import telling_columns
from .models import ColumnChoice


def columns_chosen(
    *,
    user: AbstractBaseUser | AnonymousUser,
    sync_id: str,
    collection_id: str,
    asked: Sequence[str],
    known: Sequence[str],
) -> list[str]:
    """The columns to show. Columns `asked` for (those the collection has) are remembered for
    the person; with none asked, the remembered ones (still in the collection) are shown."""
    asked_known = [c for c in asked if c in known]
    if user.is_authenticated:
        choice = ColumnChoice.objects.filter(
            user_id=user.pk, sync_id=sync_id, collection_id=collection_id
        ).first()
        if asked_known and (choice is None or choice.columns != asked_known):
            # A live search sends the same columns again: written only when they change.
            ColumnChoice.objects.update_or_create(
                user_id=user.pk,
                sync_id=sync_id,
                collection_id=collection_id,
                defaults={"columns": asked_known},
            )
        elif not asked_known and choice is not None:
            remembered = [c for c in choice.columns if c in known]
            if remembered:
                return remembered
    return asked_known or telling_columns(known, collection_id=collection_id)
