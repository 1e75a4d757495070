"""How long the journal is kept (`manage.py prune_mutations`)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import Mutation


def mutations_prune(*, older_than_days: int, dry_run: bool = False) -> int:
    """Delete attempts older than the cut-off (their records and fields follow)."""
    old = Mutation.objects.filter(created_at__lt=timezone.now() - timedelta(days=older_than_days))
    if dry_run:
        return old.count()
    _, per_model = old.delete()
    return per_model.get(Mutation._meta.label, 0)
