"""Configuration from the environment: safe defaults, clear errors, nothing insecure off DEBUG."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from sequin_admin.env import env_bool, env_int, env_timeout

ROOT = Path(__file__).resolve().parents[1]
SETTING_NAMES = re.compile(r'(?:environ\.get|env_\w+)\(\s*"([A-Z_]+)"')


def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh process with exactly these Sequin/Django variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEQUIN_", "DJANGO_"))}
    script = (
        "import sequin_admin.settings as s; "
        "print(s.SEQUIN_SANDBOX_MODE, s.SESSION_COOKIE_SECURE, s.DEBUG, s.SEQUIN_TIMEOUT)"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_are_the_sandbox_for_local_use() -> None:
    result = settings_with()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False", "(5.0,", "40.0)"]


def test_a_real_sequin_needs_a_token() -> None:
    result = settings_with(SEQUIN_API_URL="https://api.sequin.io")
    assert result.returncode != 0
    assert "SEQUIN_API_TOKEN must be set" in result.stderr


def test_a_real_sequin_without_debug_needs_a_secret_key() -> None:
    result = settings_with(SEQUIN_API_URL="https://api.sequin.io", SEQUIN_API_TOKEN="t")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_real_deployment_gets_secure_cookies() -> None:
    result = settings_with(
        SEQUIN_API_URL="https://api.sequin.io",
        SEQUIN_API_TOKEN="t",
        DJANGO_SECRET_KEY="k",
        SEQUIN_TIMEOUT="3,20",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "False", "(3.0,", "20.0)"]


def test_env_parsers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_TIMEOUT", "40")
    assert env_timeout("X_TIMEOUT", (5.0, 30.0)) == (5.0, 40.0)
    monkeypatch.setenv("X_TIMEOUT", "2,9")
    assert env_timeout("X_TIMEOUT", (5.0, 30.0)) == (2.0, 9.0)
    monkeypatch.setenv("X_TIMEOUT", "soon")
    with pytest.raises(ImproperlyConfigured):
        env_timeout("X_TIMEOUT", (5.0, 30.0))
    monkeypatch.setenv("X_BOOL", "off")
    assert env_bool("X_BOOL", True) is False
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_INT", 100)


def test_the_readme_documents_every_variable_the_settings_read() -> None:
    names = set(SETTING_NAMES.findall((ROOT / "sequin_admin" / "settings.py").read_text()))
    readme = (ROOT / "README.md").read_text()
    assert {"SEQUIN_API_URL", "SEQUIN_API_TOKEN", "SEQUIN_TIMEOUT"} <= names
    names.add("DATABASE_URL")  # read by dj-database-url
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"README.md does not document {missing}"
    assert "make run" in readme and "make test" in readme
