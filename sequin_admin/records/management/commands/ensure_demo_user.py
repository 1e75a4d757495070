from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-sandbox"


class Command(BaseCommand):
    help = "Make sure the demo account exists (sandbox mode only) and print how to sign in."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SEQUIN_SANDBOX_MODE:
            raise CommandError("The demo account exists only with the embedded sandbox.")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
        user.set_password(DEMO_PASSWORD)
        user.is_staff = True
        user.save()
        state = "created" if created else "ready"
        self.stdout.write(
            f"Demo account {state}. Sign in at http://127.0.0.1:8000/ as "
            f"{DEMO_USERNAME} / {DEMO_PASSWORD}"
        )
