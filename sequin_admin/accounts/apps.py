from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sequin_admin.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
