# cobranca: `make run` starts the demo on 127.0.0.1, `make test` runs the whole suite.
# Needs Python 3.11 (and apt, as root, for the browser tests' chromium); nothing else.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run demo setup messages test lint check clean

help:
	@echo "make run    - set up (venv, database, demo data, admin login) and start everything on 127.0.0.1"
	@echo "make test   - install test dependencies and run the whole suite (PYTEST_ARGS=... to pass options)"
	@echo "make setup  - everything 'run' does before starting the servers"
	@echo "make lint   - ruff, mypy and the import rules between apps and modules (lint-imports)"
	@echo "make check  - Django's checks, deployment checks under production settings, pending migrations"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "python venv is missing; on Debian: apt-get install python3-venv"; exit 1; }
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# Compiles the pt_BR catalogue when gettext's msgfmt is there; the compiled .mo is committed anyway.
messages: install
	@if command -v msgfmt >/dev/null 2>&1 && ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
	  $(PY) manage.py compilemessages --ignore '$(VENV)' --ignore 'var' -v 0; \
	fi

setup: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput -v 0
	@$(MAKE) --no-print-directory messages
	$(PY) manage.py load_demo
	$(PY) manage.py demo_reminders
	$(PY) bin/ensure_admin.py

run: setup
	$(PY) bin/dev.py

demo: run

# Browser tests drive Debian's chromium: installed here when missing and we are root with apt.
test: install
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
	      || echo "chromium could not be installed: browser tests will be skipped"; \
	  else echo "no /usr/bin/chromium (apt-get install chromium): browser tests will be skipped"; fi; \
	fi
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_ENV=production SECRET_KEY=check-only-dummy-secret-key-0123456789abcdefghijklmnopqrstuvwxyz \
	  FIELD_ENCRYPTION_KEY=check-only ALLOWED_HOSTS=example.com DATABASE_URL=postgres://check@db.example.com/x \
	  PUBLIC_BASE_URL=https://example.com CELERY_BROKER_URL=redis://redis.example.com:6379/0 \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var/broker var/cache staticfiles
