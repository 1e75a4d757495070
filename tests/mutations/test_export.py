"""The history's exports: CSV cells that a spreadsheet would run as formulas stay text."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sequin_admin.mutations.journal import journal_start
from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.sequin import MutationRequest

FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1:A9)"]


def exported_csv(client: Client) -> list[dict[str, str]]:
    response = client.get("/mutations/export/?format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_text_cells_that_start_like_a_formula_are_kept_as_text(
    signed_in: Client, formula: str
) -> None:
    author = User.objects.create_user(formula)
    request = MutationRequest(
        kind="update",
        sync_id=formula,
        collection_id=formula,
        records=({"upstream_id": formula, "data": {formula: formula, "amount": -5}},),
    )
    m = journal_start(request=request, user=author, source=Source.FORM, seen={})
    Mutation.objects.filter(pk=m.pk).update(outcome=Outcome.FAILED, error_message=formula)

    rows = exported_csv(signed_in)

    by_field = {r["field"]: r for r in rows}
    row = by_field["'" + formula]
    for column in ("user", "sync_id", "collection_id", "upstream_id", "field", "error"):
        assert row[column] == "'" + formula, column
    # A value is JSON text: a string starts with a quote (no formula), a number stays a number.
    assert json.loads(row["sent"]) == formula
    assert by_field["amount"]["sent"] == "-5"
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values() if cell), (
        rows
    )


def test_csv_keeps_ordinary_text_as_it_is(signed_in: Client, user: User) -> None:
    request = MutationRequest(
        kind="update",
        sync_id="s1",
        collection_id="salesforce:contact",
        records=({"upstream_id": "003A", "data": {"Title": "a=b"}},),
    )
    m = journal_start(request=request, user=user, source=Source.FORM, seen={})
    Mutation.objects.filter(pk=m.pk).update(error_message="Invalid email")
    (row,) = exported_csv(signed_in)
    assert (row["user"], row["upstream_id"], row["field"], row["error"]) == (
        "ada",
        "003A",
        "Title",
        "Invalid email",
    )
    assert json.loads(row["sent"]) == "a=b"
