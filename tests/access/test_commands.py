"""Management commands act as `--user` (whose grants are checked) or an explicit `--as-system`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from sequin_admin.access.models import Grant, Role
from sequin_admin.mutations.models import Mutation, Outcome, Reconciliation, Source
from sequin_admin.records.models import IndexedCollection
from sequin_admin.sandbox.demo_data import HUBSPOT_SYNC_ID, SALESFORCE_SYNC_ID, STRIPE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, Indexed, send


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def holder(name: str, role: Role, collection_pattern: str = "*") -> User:
    person = User.objects.create_user(name)
    Grant.objects.create(user=person, role=role, collection_pattern=collection_pattern)
    return person


def mutate(tmp_path: Path, items: list, *who: str) -> str:
    file = tmp_path / "records.json"
    file.write_text(json.dumps(items))
    return run(
        "mutate", "update", str(file), "--sync", SALESFORCE_SYNC_ID, "--collection", CONTACTS, *who
    )


@pytest.mark.parametrize(
    "command",
    [
        ["mutate", "update", "-", "--sync", "s", "--collection", "c"],
        ["refresh_records"],
        ["reconcile_mutations"],
        ["export_mutations"],
    ],
)
def test_a_command_that_reads_or_writes_records_says_for_whom(command: list[str], db: None) -> None:
    with pytest.raises(CommandError, match="one of the arguments --user --as-system is required"):
        run(*command)
    with pytest.raises(CommandError, match="No active user 'ghost'"):
        run(*command, "--user", "ghost")


def test_mutate_needs_a_bulk_editor_and_journals_the_user(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    items = [{"upstream_id": record.upstream_id, "data": {"Title": "From the shell"}}]
    holder("ed", Role.EDITOR)
    with pytest.raises(CommandError, match="ed does not hold the bulk editor role"):
        mutate(tmp_path, items, "--user", "ed")
    holder("elsewhere", Role.ADMIN, collection_pattern="hubspot:*")
    with pytest.raises(CommandError, match="does not hold the bulk editor role"):
        mutate(tmp_path, items, "--user", "elsewhere")
    assert not Mutation.objects.exists()
    holder("bulk", Role.BULK_EDITOR, collection_pattern="salesforce:*")
    mutate(tmp_path, items, "--user", "bulk")
    mutation = Mutation.objects.get()
    assert (mutation.username, mutation.source, mutation.outcome) == (
        "bulk",
        Source.COMMAND,
        Outcome.SUCCEEDED,
    )


def test_mutate_as_the_system_journals_no_user(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    mutate(
        tmp_path, [{"upstream_id": record.upstream_id, "data": {"Title": "Cron"}}], "--as-system"
    )
    mutation = Mutation.objects.get()
    assert (mutation.user, mutation.user_display) == (None, "system")


def test_refresh_records_refreshes_only_what_the_user_may_see(
    sandbox: SandboxServer, db: None
) -> None:
    holder("stripe-viewer", Role.VIEWER, collection_pattern="stripe:*")
    output = run("refresh_records", "--user", "stripe-viewer")
    assert "stripe:" in output and "salesforce:" not in output and "hubspot:" not in output
    assert set(IndexedCollection.objects.values_list("sync_id", flat=True)) == {STRIPE_SYNC_ID}
    with pytest.raises(CommandError, match="stripe-viewer may see no collection here"):
        run("refresh_records", "--user", "stripe-viewer", "--sync", HUBSPOT_SYNC_ID)
    with pytest.raises(CommandError, match="stripe-viewer may see no collection here"):
        run("refresh_records", "--user", "stripe-viewer", "--collection", CONTACTS)
    User.objects.create_user("nobody")
    with pytest.raises(CommandError, match="nobody does not hold the viewer role"):
        run("refresh_records", "--user", "nobody", "--sync", HUBSPOT_SYNC_ID)
    assert not IndexedCollection.objects.filter(sync_id=HUBSPOT_SYNC_ID).exists()


def test_reconcile_mutations_settles_only_what_the_user_may_edit(
    indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    root = User.objects.create_superuser("root")
    mutation = send(record, root, {"Title": "Unknown outcome"})
    Mutation.objects.filter(pk=mutation.pk).update(outcome=Outcome.UNKNOWN)
    holder("viewer", Role.VIEWER)
    assert "0 attempt(s) reconciled" in run("reconcile_mutations", "--user", "viewer")
    holder("hubspot-editor", Role.EDITOR, collection_pattern="hubspot:*")
    assert "0 attempt(s) reconciled" in run("reconcile_mutations", "--user", "hubspot-editor")
    mutation.refresh_from_db()
    assert mutation.reconciliation == Reconciliation.NONE
    holder("editor", Role.EDITOR, collection_pattern="salesforce:*")
    assert "1 attempt(s) reconciled" in run("reconcile_mutations", "--user", "editor")
    mutation.refresh_from_db()
    assert mutation.reconciliation == Reconciliation.APPLIED
    assert mutation.reconciled_at is not None and mutation.reconciled_at <= timezone.now()


def test_export_mutations_holds_only_what_the_user_may_see(
    indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    root = User.objects.create_superuser("root")
    send(record, root, {"Title": "Exported"})
    holder("hubspot-viewer", Role.VIEWER, collection_pattern="hubspot:*")
    holder("viewer", Role.VIEWER, collection_pattern="salesforce:*")

    def exported(*who: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(run("export_mutations", *who))))

    assert exported("--user", "hubspot-viewer") == []
    assert [row["user"] for row in exported("--user", "viewer")] == ["root"]
    assert [row["user"] for row in exported("--as-system", "--by", "root")] == ["root"]
    assert exported("--as-system", "--by", "nobody") == []
