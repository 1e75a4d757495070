from __future__ import annotations

import pytest

from sequin_admin.spreadsheet import spreadsheet_cell


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_text_a_spreadsheet_would_run_is_kept_as_text(text: str) -> None:
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Ada", "", "a=b", 3, -2.5, None, True])
def test_other_values_pass_unchanged(value: object) -> None:
    assert spreadsheet_cell(value) == value
