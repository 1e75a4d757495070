# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8765
SANDBOX_DB ?= var/sandbox.sqlite3
export SANDBOX_PORT

.PHONY: install run test lint browser-deps bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

var:
	mkdir -p var

# The admin on http://$(HOST):$(PORT), with the embedded sandbox beside it unless
# SEQUIN_API_URL points at a real Sequin.
run: install var
	$(PY) manage.py migrate --noinput
ifeq ($(SEQUIN_API_URL),)
	$(PY) -m sequin_admin.sandbox seed --db $(SANDBOX_DB)
	$(PY) manage.py ensure_demo_user --url http://$(HOST):$(PORT)/
	@trap 'kill 0' EXIT INT TERM; \
	$(PY) -m sequin_admin.sandbox serve --host 127.0.0.1 --port $(SANDBOX_PORT) --db $(SANDBOX_DB) & \
	DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)
else
	DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)
endif

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: install browser-deps lint var
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

bench: install var
	$(PY) -m bench

clean:
	rm -rf $(VENV) var staticfiles
