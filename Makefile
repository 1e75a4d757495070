# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8765
SANDBOX_DB ?= var/sandbox.sqlite3
export SANDBOX_PORT
# make serve: gunicorn's processes, threads per process, and seconds a request may take (more
# than Sequin's read timeout plus the bounded 429 retries).
WEB_CONCURRENCY ?= 2
GUNICORN_THREADS ?= 4
GUNICORN_TIMEOUT ?= 90

.PHONY: install run serve test lint bandit browser-deps bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

var:
	mkdir -p var

# make run: with the embedded sandbox, DEBUG and the demo account (in var/sandbox-admin.sqlite3);
# against a real Sequin (SEQUIN_API_URL set) never DEBUG, whose error pages list the environment,
# and DJANGO_SECRET_KEY is required. Either way it serves plain HTTP on this machine: no HTTPS
# redirect, no HTTPS-only cookies, no proxy in front.
ifeq ($(SEQUIN_API_URL),)
RUN_ENV := DJANGO_DEBUG=1
RUN_BESIDE := $(PY) -m sequin_admin.sandbox serve --host 127.0.0.1 --port $(SANDBOX_PORT) --db $(SANDBOX_DB) &
else
RUN_ENV := DJANGO_DEBUG=0 DJANGO_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 DJANGO_PROXY_COUNT=0
RUN_BESIDE :=
endif

# Bulk jobs whose worker died (e.g. the last `make run` was killed) are enqueued again before
# the worker starts (`resume_jobs`).
# The admin on http://$(HOST):$(PORT) with the task worker, and the embedded sandbox beside
# them unless SEQUIN_API_URL points at a real Sequin; Ctrl-C stops them all.
run: install var
ifeq ($(SEQUIN_API_URL),)
	$(PY) -m sequin_admin.sandbox seed --db $(SANDBOX_DB)
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py ensure_demo_user --url http://$(HOST):$(PORT)/
else
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	@echo "Sign in at http://$(HOST):$(PORT)/ as a user made with: $(PY) manage.py createsuperuser"
endif
	$(RUN_ENV) $(PY) manage.py resume_jobs
	@trap 'kill 0' EXIT INT TERM; \
	$(RUN_BESIDE) \
	$(RUN_ENV) $(PY) manage.py db_worker & \
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The admin as in production, against a real Sequin and DATABASE_URL: migrations, static files
# collected into DJANGO_STATIC_ROOT for whitenoise, then gunicorn and the task worker, stopped
# together. Behind a proxy that terminates TLS; see the README's "Deploying". No control socket
# (gunicornc): its default path is one per user, shared by every gunicorn on the machine.
serve: export DJANGO_STATIC_ROOT ?= var/static
serve: install var
	@test -n "$(SEQUIN_API_URL)" || { echo "make serve talks to a real Sequin: set SEQUIN_API_URL, SEQUIN_API_TOKEN and DJANGO_SECRET_KEY (make run serves the sandbox)." >&2; exit 1; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput
	$(PY) manage.py resume_jobs
	@trap 'kill 0' EXIT INT TERM; \
	$(PY) manage.py db_worker & \
	$(VENV)/bin/gunicorn sequin_admin.wsgi --bind $(HOST):$(PORT) --workers $(WEB_CONCURRENCY) \
	  --threads $(GUNICORN_THREADS) --timeout $(GUNICORN_TIMEOUT) --access-logfile - --no-control-socket

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

# Style, the layers (each app imports only those below it) and types.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy sequin_admin
	$(MAKE) --no-print-directory bandit

# Bandit (settings in pyproject.toml) can skip a test for some paths only for B101. Findings in
# files owned elsewhere are waived here, file by file, until the file justifies them inline
# (`# nosec BXXX # reason`) and leaves this list. The first pass scans everything else with
# every test; the second scans each listed file without the tests named:
#   sandbox/demo_data.py   B311 seeded random.Random makes the same demo data on every machine;
#                          B105 the sandbox's published token and "********" placeholders
#   sandbox/store.py       B608 table and column names are the module's constants, values bound
#   bench/record_pages.py  B311 seeded random.Random for reproducible benchmark rows
BANDIT_WAIVED := sequin_admin/sandbox/demo_data.py:B105,B311 \
	sequin_admin/sandbox/store.py:B608 \
	bench/record_pages.py:B311

bandit: install
	@excluded=; for waiver in $(BANDIT_WAIVED); do excluded="$$excluded,$${waiver%%:*}"; done; \
	set -x; $(VENV)/bin/bandit -q -c pyproject.toml -r sequin_admin bench -x "$${excluded#,}"
	@for waiver in $(BANDIT_WAIVED); do \
	  ( set -x; $(VENV)/bin/bandit -q -c pyproject.toml -s "$${waiver#*:}" "$${waiver%%:*}" ) || exit 1; \
	done

test: install browser-deps lint var
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

bench: install var
	$(PY) -m bench

clean:
	rm -rf $(VENV) var staticfiles
