# thidua: two commands for a new user — `make run` (the whole platform, embedded) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench mutation tokens rebuild contracts portal-messages clean-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

## Start NATS (JetStream), the services, the level hosts and the demo city; Ctrl-C stops all.
run: $(STAMP)
	$(BIN)/python deploy/local/run.py

## The whole test suite (real nats-server, SQLite, PostgreSQL where reachable).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

## Benchmarks: run on purpose, print figures against baselines measured in the same run.
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.foundation

## Mutation testing of the domains, the event store and the authorisation rule ([tool.mutmut] in
## pyproject.toml); slow, so run on purpose. Survivors: `.venv/bin/mutmut results`, `mutmut show NAME`.
mutation: $(STAMP)
	rm -rf mutants
	THIDUA_LOCAL=true nice -n 19 $(BIN)/mutmut run --max-children 2 || true
	$(BIN)/mutmut export-cicd-stats && cat mutants/mutmut-cicd-stats.json

## Print bearer tokens for the demo users of the local run (while `make run` runs).
tokens: $(STAMP)
	$(BIN)/python -m demo.users

## Replay level read models from the stream on the running platform: make rebuild [SERVICE=…] [LEVEL=…]
rebuild: $(STAMP)
	SERVICE=$(SERVICE) LEVEL=$(LEVEL) $(BIN)/python deploy/local/rebuild.py

contracts: $(STAMP)
	$(BIN)/python -m tools.contracts export

## Re-extract the portal's messages and merge them into its catalogs (then translate the new Vietnamese ones).
portal-messages: $(STAMP)
	$(BIN)/pybabel extract -F services/portal/babel.cfg -k N_ -k tf --no-location --sort-output \
		--project thidua-portal --version 0.1 -o services/portal/locale/messages.pot services/portal
	$(BIN)/pybabel update -N -i services/portal/locale/messages.pot -d services/portal/locale

clean-data:
	rm -rf "$${THIDUA_DATA_DIR:-data}"
