# Switchboard: `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install install-dev up mocks dataset test lint typecheck throughput bench-transport bench-lookup clean

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

install: $(STAMP_RUN) ## Create .venv (if missing) and install the runtime requirements

install-dev: $(STAMP_DEV) ## Install runtime + test requirements into .venv

up: install ## Install if needed, then start the stack on 127.0.0.1 (mocks :8100, integration :8000)
	$(BIN)/python -m app up

mocks: install ## Serve only the mock enterprise on 127.0.0.1:8100
	$(BIN)/python -m app mocks

dataset: install ## Generate the shared dataset and print its contents and timing
	$(BIN)/python -m app dataset

lint: install-dev ## Ruff (lint) and mypy (types)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install-dev ## Install what tests need, lint, then run the whole suite
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

throughput: install ## Measure the mocks' requests/s with no faults (one worker)
	$(BIN)/python -m loadtests.mock_throughput

bench-transport: install ## HTTP client ceiling: aiohttp vs httpx vs httpx-aiohttp (~20 s)
	$(BIN)/python -m loadtests.transport_ceiling

bench-lookup: install ## Caller lookup vs its critical path and a naive baseline (~50 s)
	$(BIN)/python -m app bench lookup

clean: ## Remove the state folder and caches (keeps .venv)
	rm -rf .state .pytest_cache .mypy_cache .ruff_cache test-output
