"""Deploying: Django's deployment checks, static files as served in production, the task
worker, and the Makefile's commands."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import LazySettings
from django.core.management import call_command
from django_tasks import TaskResultStatus, task

from tests.environment import PRODUCTION, ROOT, environ, manage

# Django's deployment checks


def test_the_deployment_checks_pass_with_only_the_documented_minimum() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_checks_fail_without_https() -> None:
    """The test above can fail: this is what it catches."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "DJANGO_SSL_REDIRECT": "0"},
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr


# Static files, collected and served as in production (gunicorn, whitenoise)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def collected(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A deployment's environment whose static files `collectstatic` has just collected."""
    env = {
        **PRODUCTION,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'admin.sqlite3'}",
    }
    result = manage("collectstatic", "--noinput", env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    yield env
    shutil.rmtree(tmp_path / "static", ignore_errors=True)


def test_collectstatic_hashes_and_compresses_for_whitenoise(collected: dict[str, str]) -> None:
    root = Path(collected["DJANGO_STATIC_ROOT"])
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    for name in ("css/app.css", "js/app.js", "bootstrap/css/bootstrap.min.css"):
        hashed = paths[name]
        assert hashed != name
        assert (root / hashed).is_file()
        assert (root / f"{hashed}.gz").is_file()


@pytest.fixture
def gunicorn(collected: dict[str, str]) -> Iterator[str]:
    """The admin under gunicorn, as `make serve` runs it; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "sequin_admin.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket"]
    server = subprocess.Popen(
        command,
        env=environ(**collected),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited: {server.communicate(timeout=10)[1]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not listen within 60 s")
                time.sleep(0.1)  # polling for the port, not waiting a fixed time
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_gunicorn_and_whitenoise_serve_the_admin_as_in_production(
    gunicorn: str, collected: dict[str, str]
) -> None:
    behind_the_proxy = {"X-Forwarded-Proto": "https"}
    page = requests.get(f"{gunicorn}/accounts/login/", headers=behind_the_proxy, timeout=30)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "demo-sandbox" not in page.text

    root = Path(collected["DJANGO_STATIC_ROOT"])
    hashed = json.loads((root / "staticfiles.json").read_text())["paths"]["css/app.css"]
    assert f'href="/static/{hashed}"' in page.text
    css = requests.get(
        f"{gunicorn}/static/{hashed}",
        headers={**behind_the_proxy, "Accept-Encoding": "gzip"},
        timeout=30,
    )
    assert css.status_code == 200
    assert css.headers["Content-Encoding"] == "gzip"
    assert "immutable" in css.headers["Cache-Control"]

    plain = requests.get(f"{gunicorn}/accounts/login/", allow_redirects=False, timeout=30)
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")


# Background tasks (django-tasks with its database backend)


@task()
def add(a: int, b: int) -> int:
    return a + b


@pytest.mark.django_db(transaction=True)
def test_a_task_is_stored_then_run_by_the_database_worker() -> None:
    result = add.enqueue(2, 3)
    assert result.status == TaskResultStatus.READY
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5


def test_the_task_backend_is_the_database(settings: LazySettings) -> None:
    assert settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert "django_tasks_db" in settings.INSTALLED_APPS


# The Makefile's commands (dry runs: what they would do)


def make_dry_run(target: str, **env: str) -> str:
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", target],
        env=environ(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_run_with_the_sandbox_runs_it_the_worker_and_debug() -> None:
    commands = make_dry_run("run", PORT="8123")
    assert "ensure_demo_user --url http://127.0.0.1:8123/" in commands
    assert "sequin_admin.sandbox serve" in commands
    assert "manage.py db_worker" in commands
    assert "DJANGO_DEBUG=1" in commands


def test_make_run_against_a_real_sequin_is_never_in_debug_mode() -> None:
    commands = make_dry_run("run", **PRODUCTION, DJANGO_DEBUG="1")
    assert "DJANGO_DEBUG=0" in commands
    assert "DJANGO_DEBUG=1" not in commands
    assert "ensure_demo_user" not in commands
    assert "sequin_admin.sandbox serve" not in commands
    assert "manage.py db_worker" in commands
    assert "runserver 127.0.0.1:8000" in commands


def test_make_serve_migrates_collects_and_runs_gunicorn_and_the_worker() -> None:
    commands = make_dry_run("serve", **PRODUCTION, WEB_CONCURRENCY="3")
    steps = [
        "manage.py migrate --noinput",
        "manage.py collectstatic --noinput",
        "manage.py db_worker",
        "gunicorn sequin_admin.wsgi",
    ]
    positions = [commands.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "--workers 3" in commands
    assert "--access-logfile -" in commands
    assert "--no-control-socket" in commands


@pytest.mark.parametrize("target", ["run", "serve"])
def test_make_run_and_serve_take_up_lost_jobs_before_the_worker_starts(target: str) -> None:
    commands = make_dry_run(target, **PRODUCTION)
    assert commands.index("manage.py resume_jobs") < commands.index("manage.py db_worker")
