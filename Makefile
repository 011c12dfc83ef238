# Rollcall developer commands. `make run` serves the product; `make test` runs the whole suite.

PYTHON_VERSION := 3.13
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install run test test-scale lint messages browser-deps

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@PYTHON=$$(scripts/find-python $(PYTHON_VERSION)) || exit 1; \
	  if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then \
	    rm -rf $(VENV); "$$PYTHON" -m venv $(VENV); fi
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt -r requirements-dev.txt
	@touch $(STAMP)

messages: install
	@command -v msgfmt >/dev/null || scripts/install-system-packages gettext
	DEBUG=true $(PY) manage.py compilemessages --ignore=.venv -v 0

browser-deps:
	@scripts/install-system-packages --browser

run: install messages
	$(PY) scripts/run.py

test: install messages browser-deps
	$(VENV)/bin/pytest -m "not postgres"

test-scale: install messages browser-deps
	@scripts/check-scale-services
	DATABASE_URL=$${SCALE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rollcall} \
	  REDIS_URL=$${SCALE_REDIS_URL:-redis://127.0.0.1:6379/15} $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
