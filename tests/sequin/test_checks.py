"""The system check on SEQUIN_API_URL, as `manage.py check` runs it."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.core.checks import run_checks


def sequin_warnings() -> list[str]:
    return [message.id for message in run_checks(tags=["sequin"]) if message.id]


@pytest.mark.parametrize(
    "url",
    [
        "https://api.sequin.io",
        "https://api.sequin.io/",
        "https://api.sequin.io/v1",
        "https://api.sequin.io/v1/",
    ],
)
def test_the_root_or_v1_passes(settings: LazySettings, url: str) -> None:
    settings.SEQUIN_API_URL = url
    assert sequin_warnings() == []


@pytest.mark.parametrize(
    "url", ["https://api.sequin.io/v1/syncs", "https://api.sequin.io/api", "http://proxy/sequin/"]
)
def test_any_other_path_is_warned_about(settings: LazySettings, url: str) -> None:
    settings.SEQUIN_API_URL = url
    assert sequin_warnings() == ["sequin.W001"]
    (warning,) = run_checks(tags=["sequin"])
    assert url in warning.msg and warning.hint
