"""The command-line entry points: mutate, reconcile, export and prune."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from sequin_admin.mutations.models import Mutation, Outcome, Reconciliation, Source
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import Indexed, send


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def mutate(tmp_path: Path, kind: str, items: list, *extra: str) -> str:
    """`manage.py mutate KIND FILE` on the demo Salesforce contacts."""
    file = tmp_path / f"{kind}.json"
    file.write_text(json.dumps(items))
    return run(
        "mutate",
        kind,
        str(file),
        "--sync",
        SALESFORCE_SYNC_ID,
        "--collection",
        "salesforce:contact",
        *extra,
    )


def test_mutate_update_is_journaled_with_the_indexed_before(
    indexed: Indexed, user: User, tmp_path: Path, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    items = [{"upstream_id": record.upstream_id, "data": {"Title": "CLI"}}]
    output = mutate(tmp_path, "update", items, "--user", "ada")
    mutation = Mutation.objects.get()
    assert f"#{mutation.pk} succeeded" in output
    assert (mutation.source, mutation.username) == (Source.COMMAND, "ada")
    change = mutation.records.get().changes.get()
    assert (change.before, change.sent, change.returned) == (record.data["Title"], "CLI", "CLI")


def test_mutate_create_and_delete(tmp_path: Path, sandbox: SandboxServer, db: None) -> None:
    mutate(
        tmp_path, "create", [{"data": {"LastName": "Atreides", "FirstName": "Paul"}}], "--as-system"
    )
    created = Mutation.objects.get()
    upstream_id = created.records.get().upstream_id
    assert created.outcome == Outcome.SUCCEEDED and upstream_id
    mutate(tmp_path, "delete", [upstream_id], "--as-system")
    deleted = Mutation.objects.get(kind="delete")
    assert deleted.outcome == Outcome.SUCCEEDED
    assert sandbox.store.get_record(SALESFORCE_SYNC_ID, "salesforce:contact", upstream_id)[
        "deleted"
    ]


def test_mutate_reports_a_failure(indexed: Indexed, tmp_path: Path, sandbox: SandboxServer) -> None:
    record = indexed("salesforce:contact")
    with pytest.raises(CommandError, match="Not every attempt was applied"):
        items = [{"upstream_id": record.upstream_id, "data": {"Email": "x"}}]
        mutate(tmp_path, "update", items, "--as-system")
    assert Mutation.objects.get().outcome == Outcome.FAILED


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
