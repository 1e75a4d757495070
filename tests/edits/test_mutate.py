"""`manage.py mutate`: JSON or CSV files, journaled and batched, and its exit status."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, Indexed


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def mutate(tmp_path: Path, kind: str, items: list, *extra: str) -> str:
    """`manage.py mutate KIND FILE.json` on the demo Salesforce contacts."""
    file = tmp_path / f"{kind}.json"
    file.write_text(json.dumps(items))
    return mutate_file(file, kind, *extra)


def acting(extra: tuple[str, ...]) -> tuple[str, ...]:
    """The command acts as the system unless a test names the user (tests/access checks the
    grants of `--user`)."""
    return extra if "--user" in extra else (*extra, "--as-system")


def mutate_file(file: Path, kind: str = "update", *extra: str) -> str:
    return run(
        "mutate",
        kind,
        str(file),
        "--sync",
        SALESFORCE_SYNC_ID,
        "--collection",
        CONTACTS,
        *acting(extra),
    )


def contacts(indexed: Indexed, count: int) -> list[IndexedRecord]:
    indexed(CONTACTS)
    rows = IndexedRecord.objects.filter(collection_id=CONTACTS, deleted=False)
    return list(rows.order_by("upstream_id")[:count])


def mutate_failing(file: Path, kind: str = "update", *extra: str) -> tuple[str, CommandError]:
    """Run a mutate that must fail: what it printed, and its error."""
    out = io.StringIO()
    args = ("mutate", kind, str(file), "--sync", SALESFORCE_SYNC_ID, "--collection", CONTACTS)
    with pytest.raises(CommandError) as raised:
        call_command(*args, *acting(extra), stdout=out)
    return out.getvalue(), raised.value


def write_csv(tmp_path: Path, text: str, name: str = "updates.csv") -> Path:
    file = tmp_path / name
    file.write_bytes(text.encode())
    return file


def test_mutate_update_is_journaled_with_the_indexed_before(
    indexed: Indexed, user: User, tmp_path: Path, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    items = [{"upstream_id": record.upstream_id, "data": {"Title": "CLI"}}]
    output = mutate(tmp_path, "update", items, "--user", "ada")
    mutation = Mutation.objects.get()
    assert f"#{mutation.pk} succeeded" in output
    assert (mutation.source, mutation.username) == (Source.COMMAND, "ada")
    change = mutation.records.get().changes.get()
    assert (change.before, change.sent, change.returned) == (record.data["Title"], "CLI", "CLI")


def test_mutate_create_and_delete(tmp_path: Path, sandbox: SandboxServer, db: None) -> None:
    mutate(tmp_path, "create", [{"data": {"LastName": "Atreides", "FirstName": "Paul"}}])
    created = Mutation.objects.get()
    upstream_id = created.records.get().upstream_id
    assert created.outcome == Outcome.SUCCEEDED and upstream_id
    mutate(tmp_path, "delete", [upstream_id])
    deleted = Mutation.objects.get(kind="delete")
    assert deleted.outcome == Outcome.SUCCEEDED
    assert sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, upstream_id)["deleted"]


def test_mutate_reports_a_failure_in_the_upstreams_words(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    file = write_csv(tmp_path, f"upstream_id,Email\n{record.upstream_id},x\n")
    output, error = mutate_failing(file)
    assert "Not every record was applied" in str(error) and error.returncode == 1
    mutation = Mutation.objects.get()
    assert mutation.outcome == Outcome.FAILED
    assert mutation.error_message and mutation.error_message in output
    assert "0 applied, 1 failed" in output


def test_csv_updates_are_sent_and_summarized(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer
) -> None:
    first, second = contacts(indexed, 2)
    file = write_csv(
        tmp_path,
        f"upstream_id;Title;Description\n{first.upstream_id};From CSV;\\N\n"
        f"{second.upstream_id};{second.data['Title']};\n",
    )
    output = mutate_file(file)
    assert "2 row(s): 1 to update, 1 already hold the values, 0 can't go" in output
    assert "Summary: 1 applied, 0 failed, 0 outcome unknown, 0 not sent." in output
    sent = Mutation.objects.get().request_body["records"]
    assert sent == [
        {"upstream_id": first.upstream_id, "data": {"Title": "From CSV", "Description": None}}
    ]
    assert (
        sandbox.store.get_record(SALESFORCE_SYNC_ID, CONTACTS, first.upstream_id)["data"]["Title"]
        == "From CSV"
    )


def test_rows_that_cannot_go_are_listed_and_the_exit_is_not_zero(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer
) -> None:
    (record,) = contacts(indexed, 1)
    file = write_csv(tmp_path, f"upstream_id,Title\n{record.upstream_id},Sent anyway\nnope,Lost\n")
    output, _ = mutate_failing(file)
    assert "row 3 (nope): no record nope in the index" in output
    assert "1 applied, 0 failed, 0 outcome unknown, 1 not sent" in output
    assert Mutation.objects.get().outcome == Outcome.SUCCEEDED


def test_csv_is_batched_into_one_group(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer, settings: LazySettings
) -> None:
    settings.SEQUIN_MAX_RECORDS_PER_MUTATION = 2
    rows = contacts(indexed, 5)
    file = write_csv(
        tmp_path, "upstream_id,Title\n" + "".join(f"{r.upstream_id},Batch\n" for r in rows)
    )
    mutate_file(file)
    attempts = list(Mutation.objects.order_by("id"))
    assert [len(m.request_body["records"]) for m in attempts] == [2, 2, 1]
    assert len({m.group_id for m in attempts}) == 1


def test_an_unknown_outcome_exits_not_zero(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer
) -> None:
    (record,) = contacts(indexed, 1)
    sandbox.faults.set(Fault(kind="timeout_504", apply=True))
    output, _ = mutate_failing(write_csv(tmp_path, f"upstream_id,Title\n{record.upstream_id},T\n"))
    assert "1 outcome unknown" in output


def test_format_follows_the_extension_unless_forced(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer
) -> None:
    (record,) = contacts(indexed, 1)
    as_text = write_csv(tmp_path, f"upstream_id,Title\n{record.upstream_id},Forced\n", "rows.txt")
    with pytest.raises(CommandError, match="not JSON"):
        mutate_file(as_text)
    assert "1 applied" in mutate_file(as_text, "update", "--format", "csv")
    as_csv = tmp_path / "rows.csv"
    as_csv.write_text(json.dumps([{"upstream_id": record.upstream_id, "data": {"Title": "J"}}]))
    assert "1 applied" in mutate_file(as_csv, "update", "--format", "json")


def test_an_unusable_csv_sends_nothing(
    indexed: Indexed, tmp_path: Path, sandbox: SandboxServer, settings: LazySettings
) -> None:
    (record,) = contacts(indexed, 1)
    with pytest.raises(CommandError, match="header"):
        mutate_file(write_csv(tmp_path, "Title\nx\n"))
    with pytest.raises(CommandError, match="updates only"):
        mutate_file(write_csv(tmp_path, "upstream_id,Title\nx,y\n"), "delete")
    settings.CSV_UPDATE_MAX_BYTES = 10
    with pytest.raises(CommandError, match="at most 10 bytes"):
        mutate_file(write_csv(tmp_path, f"upstream_id,Title\n{record.upstream_id},T\n"))
    assert not Mutation.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested 100000 levels deep"),
        ('[{"upstream_id": "x", "data": {"Amount": NaN}}]', "NaN is not a JSON value"),
    ],
)
def test_a_json_file_nested_too_deep_or_with_nan_is_refused_and_sends_nothing(
    tmp_path: Path, db: None, text: str, message: str
) -> None:
    file = tmp_path / "records.json"
    file.write_text(text)
    with pytest.raises(CommandError, match=f"RECORDS is not JSON: .*{message}"):
        mutate_file(file)
    assert not Mutation.objects.exists()
