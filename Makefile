# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: setup run test lint format test-fast clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when requirements.txt changed since the last install.
$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Idempotent set-up, starts nothing: venv, packages, migrations, default rules.
setup: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_rules

# The web server at http://$(HOST):$(PORT) with a Celery worker beside it, and a
# local redis-server when none answers at REDIS_URL. Ctrl-C stops them all.
run: setup
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The whole suite. Browser tests run when Debian's Chromium is installed
# (`apt-get install chromium`; .ci/run installs it).
test: $(STAMP) lint
	@if [ -x /usr/bin/chromium ]; then \
		DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest $(PYTEST_ARGS); \
	else \
		echo "make test: /usr/bin/chromium is missing, so the browser tests do not run (apt-get install chromium)."; \
		DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -m "not browser" $(PYTEST_ARGS); \
	fi

# The suite without browser and worker tests, for a quick loop.
test-fast: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -m "not browser and not worker" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
