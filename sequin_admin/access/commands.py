"""Whom a management command acts as: `--user USERNAME` (that user's grants are checked and the
journal records them) or an explicit `--as-system` (no grant check; the journal records no user,
shown as "system"). One of the two is required, so a command never acts for nobody in
particular by accident."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management.base import CommandError, CommandParser

from .models import Role
from .services import access_allows


def add_acting_user_arguments(parser: CommandParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--user",
        dest="username",
        metavar="USERNAME",
        help="act as this user: their grants are checked, and the history names them",
    )
    who.add_argument(
        "--as-system",
        action="store_true",
        help="act without a user and without a grant check (for scheduled jobs run by whoever "
        "may run manage.py); the history shows 'system'",
    )


def acting_user(options: dict[str, Any]) -> AbstractBaseUser | None:
    """The user named by `--user`, or None for `--as-system`."""
    username = options.get("username")
    if not username:
        return None
    user = get_user_model()._default_manager.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active user {username!r}.")
    return user


def command_requires(
    user: AbstractBaseUser | None, role: Role, *, sync_id: str, collection_id: str | None = None
) -> None:
    """Stop the command unless the acting user holds `role` there (the system always may)."""
    if user is None or access_allows(
        user=user, role=role, sync_id=sync_id, collection_id=collection_id
    ):
        return
    where = f"{sync_id} {collection_id}" if collection_id else sync_id
    raise CommandError(
        f"{user.get_username()} does not hold the {role.label} role on {where}; "
        "an administrator grants roles in the Django admin site."
    )
