"""Reading a CSV of updates and planning it against the record index (no Sequin involved)."""

from __future__ import annotations

import pytest
from django.conf import LazySettings

from sequin_admin.edits.csv_updates import (
    CsvPlan,
    CsvRefused,
    csv_plan,
    csv_read,
)
from sequin_admin.edits.forms import MAX_VALUE_CHARS
from sequin_admin.records.models import IndexedCollection, IndexedRecord

SYNC = "sync-1"
CONTACTS = "salesforce:contact"
KINDS = {
    "Id": "text",
    "FirstName": "text",
    "LastName": "text",
    "Title": "text",
    "Description": "longtext",
    "HasOptedOutOfEmail": "boolean",
    "MailingAddress": "json",
}


@pytest.fixture
def contacts(db: None) -> dict[str, IndexedRecord]:
    """Three indexed contacts (one deleted) and the collection's field kinds."""
    IndexedCollection.objects.create(sync_id=SYNC, collection_id=CONTACTS, field_kinds=KINDS)
    rows = {}
    for upstream_id, title, deleted in (
        ("c1", "CEO", False),
        ("c2", "CTO", False),
        ("c3", "", True),
    ):
        rows[upstream_id] = IndexedRecord.objects.create(
            sync_id=SYNC,
            collection_id=CONTACTS,
            upstream_id=upstream_id,
            deleted=deleted,
            data={
                "Id": upstream_id,
                "FirstName": "Ada",
                "LastName": "Lovelace",
                "Title": title,
                "Description": None,
                "HasOptedOutOfEmail": False,
            },
        )
    return rows


def plan(text: str | bytes) -> CsvPlan:
    raw = text.encode() if isinstance(text, str) else text
    return csv_plan(sync_id=SYNC, collection_id=CONTACTS, raw=raw)


def test_changes_show_from_and_to_and_held_values_are_counted(contacts: dict) -> None:
    result = plan("upstream_id,Title,FirstName\nc1,Chair,Ada\nc2,CTO,\n")
    assert [(u.upstream_id, u.row) for u in result.updates] == [("c1", 2)]
    change = result.updates[0].changes
    assert [(c.field, c.before, c.after) for c in change] == [("Title", "CEO", "Chair")]
    assert result.unchanged == 1
    assert result.records() == [{"upstream_id": "c1", "data": {"Title": "Chair"}}]
    assert result.fields_changed == {"Title": 1}


def test_empty_cells_leave_fields_and_the_marker_means_null(contacts: dict) -> None:
    result = plan("upstream_id,Title,FirstName\nc1,\\N,\nc2,NULL,\n")
    assert result.records() == [
        {"upstream_id": "c1", "data": {"Title": None}},
        # The word NULL is a value like any other; only \N means null.
        {"upstream_id": "c2", "data": {"Title": "NULL"}},
    ]


def test_rows_that_cannot_go_say_why(contacts: dict) -> None:
    result = plan(
        "upstream_id,Title,HasOptedOutOfEmail,Id,updated_idx,Nickname\n"
        "c1,,maybe,,,\n"  # wrong type for a boolean
        "c2,,,X2,,\n"  # a read-only field of Salesforce
        "zz,Chair,,,,\n"  # not in the index
        "c3,Chair,,,,\n"  # deleted
        "c1,,,,,\n"  # c1 a second time: both rows refused
        ",Chair,,,,\n"
        "c2,,,,7,\n"  # Sequin's envelope, not a field
        "c2,,,,,Ace\n"  # no such field in the collection
    )
    assert result.updates == ()
    reasons = {r.row: " ".join(r.reasons) for r in result.refused}
    assert "HasOptedOutOfEmail" in reasons[2] and "c1 is on 2 rows" in reasons[2]
    assert "Id is read-only" in reasons[3]
    assert "no record zz" in reasons[4]
    assert "c3 is deleted" in reasons[5]
    assert "c1 is on 2 rows" in reasons[6]
    assert "no upstream_id" in reasons[7]
    assert "updated_idx is part of Sequin's record" in reasons[8]
    assert "Nickname is not a field" in reasons[9]


def test_a_cell_longer_than_a_field_can_take_is_refused(contacts: dict) -> None:
    # Within the csv module's own cell limit, but longer than any field takes as JSON text.
    result = plan(f"upstream_id,Description\nc1,{'x' * MAX_VALUE_CHARS}\nc2,short\n")
    (refused,) = result.refused
    assert refused.row == 2
    assert refused.reasons == (
        f"Description: longer than {MAX_VALUE_CHARS:,} characters cannot be sent.",
    )
    assert result.records() == [{"upstream_id": "c2", "data": {"Description": "short"}}]
    # Past the csv module's limit the file is refused whole, with a message.
    with pytest.raises(CsvRefused, match="field larger than field limit"):
        plan(f"upstream_id,Description\nc1,{'x' * 200_000}\n")


def test_typed_cells(contacts: dict) -> None:
    result = plan(
        'upstream_id,HasOptedOutOfEmail,MailingAddress\nc1,TRUE,"{""city"": ""Paris""}"\n'
    )
    assert result.records()[0]["data"] == {
        "HasOptedOutOfEmail": True,
        "MailingAddress": {"city": "Paris"},
    }


def test_quoting_and_multi_line_cells(contacts: dict) -> None:
    result = plan('upstream_id,Title,Description\nc1,"Chair, Board","line one\nline ""two"""\n')
    assert result.records()[0]["data"] == {
        "Title": "Chair, Board",
        "Description": 'line one\nline "two"',
    }


def test_bom_semicolon_and_tab(contacts: dict) -> None:
    with_bom = b"\xef\xbb\xbfupstream_id;Title\r\nc1;Chair, Board\r\n"
    assert plan(with_bom).records() == [{"upstream_id": "c1", "data": {"Title": "Chair, Board"}}]
    assert plan(with_bom).delimiter == ";"
    tabbed = plan("upstream_id\tTitle\nc1\tChair; Board\n")
    assert tabbed.records() == [{"upstream_id": "c1", "data": {"Title": "Chair; Board"}}]


def test_other_encodings_are_refused_with_a_clear_message(contacts: dict) -> None:
    with pytest.raises(CsvRefused, match=r"not UTF-8 text.*CSV UTF-8"):
        plan("upstream_id,Title\nc1,Géant\n".encode("latin-1"))
    with pytest.raises(CsvRefused, match="UTF-16"):
        plan("upstream_id,Title\nc1,Chair\n".encode("utf-16"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("Title\nChair\n", "header: upstream_id"),
        ("upstream_id\nc1\n", "only upstream_id"),
        ("upstream_id,Title,Title\nc1,a,b\n", "Title more than once"),
        ("upstream_id,,Title\nc1,a,b\n", "Column 2"),
        ("upstream_id,Title\n", "no rows"),
        ('upstream_id,Title\nc1,"Chair\n', "not valid CSV"),
    ],
)
def test_unusable_files_are_refused(contacts: dict, text: str, message: str) -> None:
    with pytest.raises(CsvRefused, match=message):
        plan(text)


def test_size_and_row_limits(contacts: dict, settings: LazySettings) -> None:
    settings.CSV_UPDATE_MAX_ROWS = 2
    assert len(plan("upstream_id,Title\nc1,a\nc2,b\n").updates) == 2
    with pytest.raises(CsvRefused, match="more than 2 rows"):
        plan("upstream_id,Title\nc1,a\nc2,b\nc3,c\n")
    settings.CSV_UPDATE_MAX_BYTES = 30
    with pytest.raises(CsvRefused, match="at most 30 bytes"):
        plan("upstream_id,Title\nc1,a long enough title\n")


def test_blank_lines_are_skipped_and_rows_keep_their_file_numbers(contacts: dict) -> None:
    table = csv_read(raw=b"upstream_id,Title\n\nc1,a\n,\nc2,b\n")
    assert [number for number, _ in table.rows] == [3, 5]


def test_the_plan_survives_json(contacts: dict) -> None:
    result = plan("upstream_id,Title,HasOptedOutOfEmail\nc1,Chair,\nc2,,x\n")
    assert CsvPlan.from_json(result.to_json()) == result


def test_planning_reads_the_index_in_two_queries(
    contacts: dict, django_assert_num_queries: object
) -> None:
    rows = "".join(f"c{n},T{n}\n" for n in range(500))
    with django_assert_num_queries(2):  # type: ignore[operator]
        plan("upstream_id,Title\n" + rows)
