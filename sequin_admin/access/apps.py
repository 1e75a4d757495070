from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "sequin_admin.access"
    label = "access"
    verbose_name = "Access: roles and grants"
