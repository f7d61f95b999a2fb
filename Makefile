# Every target that needs Python installs the project into .venv first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test lint migrate i18n i18n-extract i18n-update i18n-compile bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/pybabel compile --domain messages --directory i18n --statistics >/dev/null 2>&1 || true
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/peerline run --console

test: $(STAMP)
	$(BIN)/pybabel compile --domain messages --directory i18n >/dev/null
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache

migrate: $(STAMP)
	$(BIN)/peerline migrate

i18n: i18n-extract i18n-update i18n-compile

i18n-extract: $(STAMP)
	$(BIN)/pybabel extract --mapping babel.cfg -k reply -k Button -k OutboundMessage -k N_ --output-file i18n/messages.pot --project peerline --no-location --sort-output .

i18n-update: $(STAMP)
	$(BIN)/pybabel update --domain messages --input-file i18n/messages.pot --output-dir i18n --no-fuzzy-matching --ignore-obsolete

i18n-compile: $(STAMP)
	$(BIN)/pybabel compile --domain messages --directory i18n --statistics

bench: $(STAMP)
	$(BIN)/python -m bench.outbox_throughput
	$(BIN)/python -m bench.screening_speed
	$(BIN)/python -m bench.webhook_throughput
	$(BIN)/python -m bench.broadcast

clean:
	rm -rf $(VENV) .pytest_cache peerline.db peerline.key
