"""Configuration from the environment: safe defaults, clear errors, nothing insecure off DEBUG."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ImproperlyConfigured, ValidationError

from sequin_admin.env import env_bool, env_int, env_timeout, is_loopback_url
from tests.environment import PRODUCTION, ROOT, python, settings_values

SETTING_NAMES = re.compile(r'(?:environ\.get|env_\w+)\(\s*"([A-Z_]+)"')


def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh process with exactly these Sequin/Django variables."""
    script = (
        "import sequin_admin.settings as s; "
        "print(s.SEQUIN_SANDBOX_MODE, s.SESSION_COOKIE_SECURE, s.DEBUG, s.SEQUIN_TIMEOUT)"
    )
    return python("-c", script, env=env)


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


def test_the_readme_documents_the_make_variables() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("PORT", "HOST", "SANDBOX_PORT", "SANDBOX_TOKEN", "WEB_CONCURRENCY"):
        assert re.search(rf"(?<![A-Z_]){name}=", readme), name


# Configuration errors: nothing silently falls back to something unsafe.


def test_a_token_without_a_url_is_refused_not_sent_to_the_sandbox() -> None:
    result = settings_with(SEQUIN_API_TOKEN="real-token")
    assert result.returncode != 0
    assert "SEQUIN_API_TOKEN is set but SEQUIN_API_URL is not" in result.stderr
    assert "real-token" not in result.stderr


@pytest.mark.parametrize("url", ["http://sequin.internal:7376", "http://10.0.0.5"])
def test_plain_http_to_another_machine_needs_an_explicit_opt_in(url: str) -> None:
    env = {**PRODUCTION, "SEQUIN_API_URL": url}
    refused = settings_with(**env)
    assert refused.returncode != 0
    assert "SEQUIN_ALLOW_INSECURE_HTTP=1" in refused.stderr
    allowed = settings_values("SEQUIN_API_URL", **env, SEQUIN_ALLOW_INSECURE_HTTP="1")
    assert allowed["SEQUIN_API_URL"] == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:7376", "http://localhost:7376", "http://[::1]"])
def test_plain_http_to_this_machine_is_allowed(url: str) -> None:
    env = {**PRODUCTION, "SEQUIN_API_URL": url}
    assert settings_values("SEQUIN_API_URL", **env) == {"SEQUIN_API_URL": url}


@pytest.mark.parametrize("url", ["api.sequin.io", "ftp://api.sequin.io", "https://"])
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    result = settings_with(**{**PRODUCTION, "SEQUIN_API_URL": url})
    assert result.returncode != 0
    assert "SEQUIN_API_URL must be an http(s) URL" in result.stderr


def test_is_loopback_url() -> None:
    assert is_loopback_url("http://127.0.0.2:1/")
    assert is_loopback_url("http://app.localhost/")
    assert not is_loopback_url("http://127.0.0.1.example.com/")
    assert not is_loopback_url("http://192.168.1.1/")


def test_sandbox_token_is_the_token_the_admin_and_the_sandbox_cli_both_use() -> None:
    env = {"SANDBOX_TOKEN": "my-sandbox-token"}
    assert settings_values("SEQUIN_API_TOKEN", **env) == {"SEQUIN_API_TOKEN": "my-sandbox-token"}
    cli = python(
        "-c",
        "from sequin_admin.sandbox.__main__ import _parser; "
        "print(_parser().parse_args(['serve']).token)",
        env=env,
    )
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == "my-sandbox-token"
    # Off the sandbox it means nothing: the admin sends SEQUIN_API_TOKEN.
    real = settings_values("SEQUIN_API_TOKEN", **PRODUCTION, **env)
    assert real == {"SEQUIN_API_TOKEN": PRODUCTION["SEQUIN_API_TOKEN"]}


def test_a_real_sequin_needs_a_secret_key_even_with_debug() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = settings_with(**env, DJANGO_DEBUG="1")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


# Deployment: HTTPS, cookies and sessions.

_DEPLOYMENT_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_AGE",
    "SESSION_SAVE_EVERY_REQUEST",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE",
)


def test_a_deployment_is_https_only_with_idle_sessions() -> None:
    assert settings_values(*_DEPLOYMENT_SETTINGS, **PRODUCTION) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_AGE": 8 * 3600,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
    }


def test_deployment_settings_follow_their_variables() -> None:
    values = settings_values(
        *_DEPLOYMENT_SETTINGS,
        **PRODUCTION,
        DJANGO_SSL_REDIRECT="0",
        DJANGO_HSTS_SECONDS="3600",
        DJANGO_PROXY_COUNT="0",
        DJANGO_SESSION_IDLE_SECONDS="900",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SESSION_COOKIE_AGE"] == 900
    assert values["SESSION_COOKIE_SECURE"] is True


def test_the_local_sandbox_is_served_over_plain_http() -> None:
    values = settings_values(*_DEPLOYMENT_SETTINGS)
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SESSION_COOKIE_SECURE"] is False


def test_input_limits_and_sign_in_throttling_follow_their_variables() -> None:
    names = (
        "DATA_UPLOAD_MAX_MEMORY_SIZE",
        "DATA_UPLOAD_MAX_NUMBER_FIELDS",
        "DATA_UPLOAD_MAX_NUMBER_FILES",
        "FILE_UPLOAD_MAX_MEMORY_SIZE",
        "AXES_FAILURE_LIMIT",
        "AXES_COOLOFF_TIME",
    )
    assert settings_values(*names) == {
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 2 * 1024 * 1024,
        "DATA_UPLOAD_MAX_NUMBER_FIELDS": 2000,
        "DATA_UPLOAD_MAX_NUMBER_FILES": 10,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": 2 * 1024 * 1024,
        "AXES_FAILURE_LIMIT": 5,
        "AXES_COOLOFF_TIME": "0:15:00",
    }
    env = {
        "DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE": "1000",
        "DJANGO_DATA_UPLOAD_MAX_NUMBER_FIELDS": "50",
        "DJANGO_DATA_UPLOAD_MAX_NUMBER_FILES": "1",
        "DJANGO_FILE_UPLOAD_MAX_MEMORY_SIZE": "2000",
        "AXES_FAILURE_LIMIT": "3",
        "AXES_COOLOFF_MINUTES": "0",
    }
    assert list(settings_values(*names, **env).values()) == [1000, 50, 1, 2000, 3, None]


def test_static_root_is_taken_from_the_project_when_relative() -> None:
    values = settings_values("STATIC_ROOT", "STORAGES", DJANGO_STATIC_ROOT="var/static")
    assert values["STATIC_ROOT"] == str(ROOT / "var" / "static")
    storages = values["STORAGES"]
    assert storages["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


# Accounts.


def test_passwords_need_twelve_characters_and_all_four_validators() -> None:
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    for weak in ("short-pw-11", "password1234", "123456789012"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("plenty-long-and-odd")
