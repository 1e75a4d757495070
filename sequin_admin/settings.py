"""Settings, all from the environment; see the README's configuration table."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from sequin_admin.env import (
    env_bool,
    env_int,
    env_list,
    env_path,
    env_timeout,
    env_url,
    is_loopback_url,
)
from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN as SANDBOX_DEFAULT_TOKEN

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# Sequin. Without SEQUIN_API_URL the admin talks to the embedded sandbox (`make run`).
SANDBOX_PORT = env_int("SANDBOX_PORT", 8765)
_sequin_url = env_url("SEQUIN_API_URL")
_sequin_token = os.environ.get("SEQUIN_API_TOKEN", "")
SEQUIN_SANDBOX_MODE = _sequin_url is None
if _sequin_url is None:
    if _sequin_token:
        # Sandbox mode would send the real token over plain HTTP to whatever listens locally.
        raise ImproperlyConfigured(
            "SEQUIN_API_TOKEN is set but SEQUIN_API_URL is not: set SEQUIN_API_URL to your "
            "Sequin (e.g. https://api.sequin.io), or unset SEQUIN_API_TOKEN to use the embedded "
            "sandbox (SANDBOX_TOKEN sets the token it accepts)."
        )
    SEQUIN_API_URL = f"http://127.0.0.1:{SANDBOX_PORT}"
    # The token the sandbox accepts; `python -m sequin_admin.sandbox serve` reads it too.
    SEQUIN_API_TOKEN = os.environ.get("SANDBOX_TOKEN") or SANDBOX_DEFAULT_TOKEN
else:
    if not _sequin_token:
        raise ImproperlyConfigured("SEQUIN_API_URL is set, so SEQUIN_API_TOKEN must be set too.")
    if _sequin_url.lower().startswith("http:") and not (
        is_loopback_url(_sequin_url) or env_bool("SEQUIN_ALLOW_INSECURE_HTTP", False)
    ):
        raise ImproperlyConfigured(
            f"SEQUIN_API_URL is plain http to another machine ({_sequin_url}): the API token "
            "would cross the network unencrypted. Use https, or set SEQUIN_ALLOW_INSECURE_HTTP=1 "
            "if the network between them is trusted."
        )
    SEQUIN_API_URL = _sequin_url
    SEQUIN_API_TOKEN = _sequin_token
SEQUIN_TIMEOUT = env_timeout("SEQUIN_TIMEOUT", (5.0, 40.0))
SEQUIN_MAX_RECORDS_PER_MUTATION = env_int("SEQUIN_MAX_RECORDS_PER_MUTATION", 100)
# A pending attempt older than this lost its process mid-call: its outcome reads as unknown.
SEQUIN_PENDING_UNKNOWN_AFTER = env_int("SEQUIN_PENDING_UNKNOWN_AFTER", 300, minimum=0)
# Record titles per collection, tried before the built-in rules (records/titles.py), e.g.
# {"salesforce:contact": "{FirstName} {LastName}", "stripe:customer": ["{name}", "{email}"]}.
SEQUIN_ADMIN_TITLES: dict[str, str | list[str]] = {}
# Bulk jobs (sequin_admin/edits/jobs.py): batches a job sends at once; how often its worker
# says it is alive; and after how long without that a job counts as lost and may be taken up
# again (more than a batch's read timeout, so a slow answer is not mistaken for a dead worker).
JOB_CONCURRENCY = env_int("JOB_CONCURRENCY", 4)
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 5)
JOB_STALE_AFTER = env_int("JOB_STALE_AFTER", 60)
# How long the journal is kept (`manage.py prune_mutations`); 0 keeps it forever.
MUTATION_RETENTION_DAYS = env_int("MUTATION_RETENTION_DAYS", 0, minimum=0)

# Django
DEBUG = env_bool("DJANGO_DEBUG", False)
# Published, so only for the sandbox: with it anyone could forge a session cookie.
_DEV_SECRET = "insecure-local-only-key-for-the-sandbox"  # nosec B105 # refused off the sandbox
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _DEV_SECRET
if SECRET_KEY == _DEV_SECRET and not SEQUIN_SANDBOX_MODE:
    raise ImproperlyConfigured(
        "Set DJANGO_SECRET_KEY when talking to a real Sequin (even with DJANGO_DEBUG): "
        "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
# Off DEBUG and off the local sandbox the admin is deployed: served over HTTPS, usually behind
# a reverse proxy that terminates TLS. Each setting below that follows from it can be changed.
_DEPLOYED = not (DEBUG or SEQUIN_SANDBOX_MODE)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "template_partials",
    "bootstrap",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "sequin_admin.accounts",
    "sequin_admin.sequin.apps.SequinConfig",
    "sequin_admin.access",
    "sequin_admin.records",
    "sequin_admin.mutations",
    "sequin_admin.edits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sequin_admin.timezones.PersonTimezoneMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sequin_admin.urls"
WSGI_APPLICATION = "sequin_admin.wsgi.application"

_TEMPLATE_LOADERS: list[object] = [
    "django.template.loaders.filesystem.Loader",
    "django.template.loaders.app_directories.Loader",
]
if not DEBUG:
    _TEMPLATE_LOADERS = [("django.template.loaders.cached.Loader", _TEMPLATE_LOADERS)]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            # Partials wrap the usual loaders; cached only off DEBUG, so edits show at once.
            "loaders": [("template_partials.loader.Loader", _TEMPLATE_LOADERS)],
            # {% partialdef %} everywhere without {% load partials %}, as in Django 6.
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "sequin_admin.context_processors.sequin",
            ],
        },
    },
]

# The sandbox's admin keeps its own file: its demo account (published password) must never be
# in the database the admin uses against a real Sequin (see sequin_admin/accounts/checks.py).
_SQLITE_FILE = VAR_DIR / ("sandbox-admin.sqlite3" if SEQUIN_SANDBOX_MODE else "db.sqlite3")
DATABASES = {
    "default": dj_database_url.config(default=f"sqlite:///{_SQLITE_FILE}", conn_max_age=60)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets pages read while a mutation is journaled; IMMEDIATE takes the write lock at
    # BEGIN, so concurrent requests wait their turn instead of failing with "locked".
    # Its writers within one process queue on a lock, not in SQLite's sleeping busy handler
    # (sequin_admin/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "sequin_admin.sqlite"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out sign-in before any password is checked; authenticates nobody.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# A deployment collects static files (`collectstatic`, `make serve`) into DJANGO_STATIC_ROOT;
# whitenoise serves them with hashed names and compressed copies. Without it (`make run`)
# whitenoise serves them from the apps' and project's folders.
STATIC_ROOT = env_path("DJANGO_STATIC_ROOT", BASE_DIR)
WHITENOISE_USE_FINDERS = STATIC_ROOT is None
if STATIC_ROOT is not None:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# A strict policy: no inline script or style anywhere, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# HTTPS, when deployed. DJANGO_SSL_REDIRECT=0 only if the proxy redirects to HTTPS itself.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", _DEPLOYED)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600 if _DEPLOYED else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Asking browsers to preload HSTS is for the owner of the whole domain to decide, and the
    # preload list takes only registrable domains, not the admin's host name.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# How many reverse proxies stand in front of the admin. With one or more, the scheme comes
# from X-Forwarded-Proto and a sign-in's address from X-Forwarded-For (the entry the outermost
# of them appended); with 0 both come from the connection.
PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 1 if _DEPLOYED else 0, minimum=0)
if PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Cookies: HTTPS-only when deployed, never readable by scripts (pages carry the CSRF token
# in hx-headers, nothing reads the cookie).
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", _DEPLOYED)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# A session ends after this long without a request (each request pushes the end back), and
# when the browser closes.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_SECONDS", 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Failed sign-ins (django-axes). Counted per account and per address, separately: a lock per
# (account, address) pair would let many addresses guess one account's password, and one
# address guess a few passwords of every account. The price, that someone can lock a known
# account for the cool-off, is bounded by it; `manage.py axes_reset_username NAME` lifts it.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
_axes_cooloff_minutes = env_int("AXES_COOLOFF_MINUTES", 15, minimum=0)
# 0: locked until an administrator lifts the lock (`manage.py axes_reset_username`).
AXES_COOLOFF_TIME = timedelta(minutes=_axes_cooloff_minutes) if _axes_cooloff_minutes else None
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "sequin_admin.accounts.signin.client_address"

# What one request may carry; more is refused with the 400 page (templates/400.html).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
# A record's edit form posts one field per record field; Salesforce objects can have hundreds.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DJANGO_DATA_UPLOAD_MAX_NUMBER_FIELDS", 2000)
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DJANGO_DATA_UPLOAD_MAX_NUMBER_FILES", 10)
# Uploads bigger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_FILE_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)

# CSV updates (the upload page and `manage.py mutate update FILE.csv`): the largest file and
# the most data rows one CSV may carry; more is refused with a message, before any parsing.
CSV_UPDATE_MAX_BYTES = env_int("CSV_UPDATE_MAX_BYTES", 5 * 1024 * 1024)
CSV_UPDATE_MAX_ROWS = env_int("CSV_UPDATE_MAX_ROWS", 10_000)

# Background work (django-tasks): tasks are rows in the admin's database; `manage.py
# db_worker` runs them, on any number of machines.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # urllib3 at DEBUG prints request lines; it never prints headers, but keep it quiet.
    "loggers": {"urllib3": {"level": "WARNING"}},
}
