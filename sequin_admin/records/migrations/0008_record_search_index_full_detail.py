"""SQLite's FTS5 table back to 0005's, with positions and FTS5's default automerge: 0007's
table (`detail=none`, automerge 8) was seen corrupt on SQLite 3.40.1, Python's own.

The test suite left it in a state that FTS5's integrity-check passed. Deleting six of its rows,
in order, through the delete trigger then gave "database disk image is malformed" (a copy of
the database, replayed outside the tests). A 'rebuild' or an 'optimize' before the same deletes
left it sound, and so did the same run of tests with FTS5's default automerge. Routine updates
delete FTS rows too, so a search or a write could have failed the same way.

Search asks for every trigram of a term (records/search.py), which a table with positions
answers as well. On PostgreSQL, and on a SQLite without the FTS table, nothing changes.
"""

from __future__ import annotations

import importlib

from django.db import migrations

detail_none = importlib.import_module(
    "sequin_admin.records.migrations.0007_record_search_index_detail_none"
)


class Migration(migrations.Migration):
    dependencies = [("records", "0007_record_search_index_detail_none")]

    operations = [migrations.RunPython(detail_none.with_full_detail, detail_none.without_detail)]
