"""Cells of exported CSV files, safe to open in a spreadsheet."""

from __future__ import annotations

from typing import Any

# A text cell starting with one of these is read as a formula by Excel, LibreOffice and
# Google Sheets (OWASP "CSV injection"): `=HYPERLINK(...)` in an upstream value or a username
# would run when a person opens the export.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """The value as a CSV cell: text that a spreadsheet would run as a formula gets a leading
    apostrophe, which spreadsheets show as text; numbers and everything else pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
