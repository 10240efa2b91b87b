# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: setup run test lint format test-fast clean brokers brokers-stop brokers-status

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
	@$(BIN)/python -m advisor.demos.drivers.live.brokers hint
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The whole suite. Browser tests run when Debian's Chromium is installed
# (`apt-get install chromium`; .ci/run installs it). Live tests run against the brokers of
# `make brokers` (started by the tests when down) where Java and Maven are installed.
test: $(STAMP) lint
	@markers=""; \
	if [ ! -x /usr/bin/chromium ]; then \
		echo "make test: /usr/bin/chromium is missing, so the browser tests do not run (apt-get install chromium)."; \
		markers="not browser"; \
	fi; \
	if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then \
		echo "make test: Java or Maven is missing, so the live broker tests do not run (apt-get install openjdk-17-jdk-headless maven)."; \
		markers="$${markers:+$$markers and }not live"; \
	fi; \
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest $${markers:+-m "$$markers"} $(PYTEST_ARGS)

# Local Kafka (3 KRaft nodes) and Artemis (3-node cluster + replicated pair) on loopback for
# the live demos, fetched through Maven into var/brokers. About 2.7 GiB of RAM while up (8 JVMs).
brokers: setup
	$(BIN)/python -m advisor.demos.drivers.live.brokers start
	$(BIN)/python manage.py register_local_brokers

brokers-stop: $(STAMP)
	$(BIN)/python -m advisor.demos.drivers.live.brokers stop

brokers-status: $(STAMP)
	$(BIN)/python -m advisor.demos.drivers.live.brokers status

# The suite without browser and worker tests, for a quick loop.
test-fast: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -m "not browser and not worker and not live" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
