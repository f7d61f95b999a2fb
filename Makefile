# Every target that needs Python installs the project into .venv first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test lint docker-test migrate i18n i18n-extract i18n-update i18n-compile bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/peerline run --console

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache

migrate: $(STAMP)
	$(BIN)/peerline migrate

# Extract every text id, bring the catalogs up to date, check them. Refuses to lose a text:
# see i18n/workflow.py. A new language: `$(BIN)/python -m i18n.workflow add xx`.
i18n: $(STAMP)
	$(BIN)/python -m i18n.workflow

i18n-extract i18n-update: i18n

i18n-compile: $(STAMP)
	$(BIN)/python -m i18n.workflow check

# The image and the compose layout on a real Docker engine (skipped, saying so, without one).
docker-test: $(STAMP)
	$(BIN)/python -m pytest -q -rs tests/test_docker.py

bench: $(STAMP)
	$(BIN)/python -m bench.outbox_throughput
	$(BIN)/python -m bench.screening_speed
	$(BIN)/python -m bench.screen_model
	$(BIN)/python -m bench.screen_independent
	$(BIN)/python -m bench.webhook_throughput
	$(BIN)/python -m bench.broadcast
	$(BIN)/python -m bench.webhook_compare
	$(BIN)/python -m bench.matching
	$(BIN)/python -m bench.memory

clean:
	rm -rf $(VENV) .pytest_cache peerline.db peerline.key
