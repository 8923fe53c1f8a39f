# Switchboard: `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
STAMP_CLI := $(VENV)/.installed-cli
PYTEST_ARGS ?=
RATE ?= 5/s
DURATION ?= 60s
NAME ?=
SPEED ?= 1
WORKERS ?= 1
STORE ?= both

.DEFAULT_GOAL := help
.PHONY: crash-test design blast-radius help install install-dev up mocks dashboard dataset simulate scenario test lint typecheck throughput bench-transport bench-lookup loadtest bench notebooks clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(STAMP_DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP_RUN) $@

# The project itself, editable, for its console script: .venv/bin/switchboard.
$(STAMP_CLI): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -qq --no-deps -e .
	@touch $@

install: $(STAMP_RUN) $(STAMP_CLI) ## Create .venv (if missing), install the runtime requirements and the switchboard command

install-dev: $(STAMP_DEV) $(STAMP_CLI) ## Install runtime + test requirements into .venv

UP_ARGS ?=
up: install ## Install if needed, then start the stack on 127.0.0.1 (mocks :8100, integration :8000 with WORKERS=N workers, dashboard :8501); Ctrl-C stops it
	@$(BIN)/switchboard up --workers $(WORKERS) $(UP_ARGS)

mocks: install ## Serve only the mock enterprise on 127.0.0.1:8100
	$(BIN)/switchboard mocks

dashboard: install ## Serve only the live dashboard on 127.0.0.1:8501 (reads :8000 and :8100)
	$(BIN)/switchboard dashboard

dataset: install ## Generate the shared dataset and print its contents and timing
	$(BIN)/switchboard dataset

simulate: install ## Scripted calls at the running stack: make simulate RATE=5/s DURATION=60s
	$(BIN)/switchboard simulate --rate $(RATE) --duration $(DURATION)

scenario: install ## Run a scenario on the running stack: make scenario NAME=healthy [SPEED=10]; no NAME lists them
	@if [ -z "$(NAME)" ]; then $(BIN)/switchboard scenario list; \
	else $(BIN)/switchboard scenario run $(NAME) --speed $(SPEED); fi

lint: install-dev ## Ruff (lint and format check), mypy (types) and import-linter (the architecture's rules)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install-dev ## Install what tests need, lint, then run the whole suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

throughput: install ## Measure the mocks' requests/s with no faults (one worker)
	$(BIN)/python -m loadtests.mock_throughput

bench-transport: install ## HTTP client ceiling: aiohttp vs httpx vs httpx-aiohttp (~20 s)
	$(BIN)/python -m loadtests.transport_ceiling

bench-lookup: install ## Caller lookup vs its critical path and a naive baseline (~50 s)
	$(BIN)/switchboard bench lookup

LOADTEST_ARGS ?= --shape steady --calls-per-hour 3600 --duration 60s --users 4
loadtest: install ## Locust call journeys headless, own stack, thresholds (LOADTEST_ARGS="--shape spike ...")
	$(BIN)/python -m loadtests.journeys --stack $(LOADTEST_ARGS)

BENCH_ARGS ?=
bench: install ## Whole calls up to 100/s for 1 and 2 workers on SQLite and 2 on PostgreSQL, an overload burst: one table, bench/results.json (~4 min)
	$(BIN)/switchboard bench $(BENCH_ARGS)

crash-test: install ## SIGKILL the service (WORKERS=2: its workers in turn) under load on STORE=sqlite|postgres|both; count lost/duplicated (~1 min)
	$(BIN)/python -m loadtests.crash --kills 4 --rate 20 --workers $(WORKERS) --store $(STORE)

design: install ## Design review of a flow from the system map: make design FLOW=booking
	$(BIN)/switchboard design $(or $(FLOW),caller_lookup)

blast-radius: install ## What breaks if a system is down: make blast-radius SYSTEM=crm
	$(BIN)/switchboard blast-radius $(or $(SYSTEM),crm)

notebooks: install-dev ## Run the training notebooks top to bottom (~1.5 min); executed copies in test-output/notebooks
	$(BIN)/python -m notebooks --out test-output/notebooks
	@if [ -x $(BIN)/jupyter-lab ]; then echo "Open them: $(BIN)/jupyter lab notebooks/"; \
	else echo "To open them: $(BIN)/python -m pip install jupyterlab && $(BIN)/jupyter lab notebooks/"; fi

clean: ## Remove the state folder and caches (keeps .venv)
	rm -rf .state .pytest_cache .mypy_cache .ruff_cache test-output
