"""Running the settings, `manage.py` and servers in fresh processes with a chosen environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.management.utils import get_random_secret_key

ROOT = Path(__file__).resolve().parents[1]
# What the admin reads; the rest of the environment (PATH, HOME...) is passed through.
_OURS = ("SEQUIN_", "DJANGO_", "AXES_", "SANDBOX_", "DATABASE_URL")

# A real deployment's minimum, as the README's "Deploying" section lists it.
PRODUCTION = {
    "DJANGO_SECRET_KEY": get_random_secret_key(),
    "DJANGO_ALLOWED_HOSTS": "admin.example.com",
    "SEQUIN_API_URL": "https://api.sequin.io",
    "SEQUIN_API_TOKEN": "a-real-token",
}


def environ(**env: str) -> dict[str, str]:
    """This process's environment without any of the admin's variables, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    return {**clean, "DJANGO_SETTINGS_MODULE": "sequin_admin.settings", **env}


def python(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=environ(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def manage(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return python("manage.py", *args, env=env, timeout=timeout)


def settings_values(*names: str, **env: str) -> dict[str, object]:
    """The named settings, as the settings module computes them from exactly `env`."""
    script = (
        "import json, sequin_admin.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = python("-c", script, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])
