from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sequin_admin.accounts.demo import DEMO_PASSWORD, DEMO_USERNAME


class Command(BaseCommand):
    help = (
        "Make sure the demo account exists (sandbox mode only, as a superuser, so it may do "
        "everything and manage grants) and print how to sign in."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/",
            help="where the admin is served, for the sign-in line (make run passes its own)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SEQUIN_SANDBOX_MODE:
            raise CommandError("The demo account exists only with the embedded sandbox.")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
        user.set_password(DEMO_PASSWORD)
        # A superuser: in the sandbox the demo may do everything, grants included.
        user.is_staff = True
        user.is_superuser = True
        user.save()
        state = "created" if created else "ready"
        self.stdout.write(
            f"Demo account {state}. Sign in at {options['url']} "
            f"as {DEMO_USERNAME} / {DEMO_PASSWORD}"
        )
