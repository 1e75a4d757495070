"""The command-line entry points of the journal: reconcile, export and prune."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from sequin_admin.mutations.models import Mutation, Reconciliation
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import Indexed, send


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_reconcile_command_marks_unknown_attempts(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    landed = send(record, user, {"Title": "Landed"})
    sandbox.faults.set(Fault(kind="timeout_504", apply=False))
    lost = send(record, user, {"Phone": "+1 555 0142"})
    output = run("reconcile_mutations", "--as-system")
    assert "2 attempt(s) reconciled" in output
    landed.refresh_from_db()
    lost.refresh_from_db()
    assert landed.reconciliation == Reconciliation.APPLIED
    assert lost.reconciliation == Reconciliation.NOT_APPLIED
    assert "Phone differ" in lost.reconciliation_note


def test_refresh_reconciles_unknown_attempts_of_that_collection(
    indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    from sequin_admin.records.refresh import collection_refresh

    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="drop", apply=True))
    unknown = send(record, user, {"Title": "Dropped but applied"})
    collection_refresh(sync_id=record.sync_id, collection_id=record.collection_id)
    unknown.refresh_from_db()
    assert unknown.reconciliation == Reconciliation.APPLIED


def test_export_command_csv_and_json(indexed: Indexed, user: User) -> None:
    record = indexed("salesforce:contact")
    send(record, user, {"Title": "Exported by CLI"})
    send(record, user, {"Email": "broken"})
    rows = list(
        csv.DictReader(io.StringIO(run("export_mutations", "--as-system", "--outcome", "failed")))
    )
    assert [r["field"] for r in rows] == ["Email"]
    entries = json.loads(run("export_mutations", "--as-system", "--format", "json", "--by", "ada"))
    assert len(entries) == 2


def test_prune_keeps_what_is_inside_retention(user: User, settings: object) -> None:
    from tests.mutations.test_views import journal

    old, new = journal(2)
    Mutation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    settings.MUTATION_RETENTION_DAYS = 30
    assert "would delete 1" in run("prune_mutations", "--dry-run")
    assert Mutation.objects.count() == 2
    assert "deleted 1" in run("prune_mutations")
    assert list(Mutation.objects.values_list("pk", flat=True)) == [new.pk]


def test_prune_refuses_when_retention_is_off(settings: object, db: None) -> None:
    settings.MUTATION_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="Retention is off"):
        run("prune_mutations")
