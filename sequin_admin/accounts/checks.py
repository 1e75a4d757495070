"""System checks: the published demo account must not open the admin on a real Sequin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError

from .demo import DEMO_PASSWORD, DEMO_USERNAME, demo_account_signs_in


@register(Tags.security, Tags.database)
def demo_account_outside_the_sandbox(
    app_configs: Sequence[AppConfig] | None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """Run by `migrate` (so by `make run` and `make serve`) and `check --database default`.

    A database check: it reads the users, so only the commands that name databases run it,
    never at import time.
    """
    if settings.SEQUIN_SANDBOX_MODE or not databases:
        return []
    errors: list[CheckMessage] = []
    for alias in databases:
        try:
            found = demo_account_signs_in(using=alias)
        except DatabaseError:
            continue  # no auth tables yet (before the first migrate): nobody can sign in
        if found:
            errors.append(
                Error(
                    f"The database {alias!r} holds the sandbox's demo account "
                    f"({DEMO_USERNAME} / {DEMO_PASSWORD}), whose password is published, and "
                    "the admin talks to a real Sequin (SEQUIN_API_URL is set): anyone could "
                    "sign in and change real records.",
                    hint=(
                        f"Give it a new password (`manage.py changepassword {DEMO_USERNAME}`) "
                        'or delete it (`manage.py shell -c "from django.contrib.auth.models '
                        f"import User; User.objects.filter(username='{DEMO_USERNAME}').delete()\"`"
                        "), then start again."
                    ),
                    id="accounts.E001",
                )
            )
    return errors
