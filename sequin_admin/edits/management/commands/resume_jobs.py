from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sequin_admin.edits.jobs import jobs_resume_stale


class Command(BaseCommand):
    help = (
        "Enqueue again every bulk job whose worker stopped beating for JOB_STALE_AFTER "
        "seconds (killed, or its machine gone). Run before `manage.py db_worker` starts; "
        "safe to run any time, on any machine."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = jobs_resume_stale()
        self.stdout.write(f"{len(resumed)} job(s) enqueued again.")
