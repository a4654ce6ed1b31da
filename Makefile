# omnicity: `make run` (the platform on the embedded local runtime) and `make test` (lint + all tests) do all
# set-up themselves on a fresh machine: a .venv with the pinned dependencies, and the SAM CLI in its own .venv-sam.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
REGION ?= eu-west-1
export PYTHONPATH := layers/core:.
export SAM_CLI_TELEMETRY := 0

.DEFAULT_GOAL := help
.PHONY: help install run demo-data test lint typecheck unit integration e2e openapi build deploy clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt layers/core/requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $@

install: $(BIN)/.installed $(SAM_VENV)/.installed ## create .venv and .venv-sam with the pinned dependencies

run: $(BIN)/.installed ## serve the platform on http://127.0.0.1:3000 (embedded runtime: moto, no Docker)
	$(BIN)/python -m infra.local

demo-data: $(BIN)/.installed ## a year of figures (150,000 products in 2025) into the running `make run` (ARGS=--help)
	$(BIN)/python -m infra.demo_data $(ARGS)

lint: install ## ruff, mypy, sam validate --lint, the state machine check, the OpenAPI drift check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(SAM) validate --lint --region $(REGION) --template template.yaml
	$(BIN)/python -m infra.checks.statemachines template.yaml
	$(BIN)/python -m infra.openapi --check

typecheck: $(BIN)/.installed
	$(BIN)/mypy layers/core/omnicity infra tests
	@# every function's module is called app: check them one at a time
	@for handler in functions/*/app.py; do $(BIN)/mypy --no-error-summary $$handler || exit 1; done

test: lint ## lint, then every test (unit, integration, end to end)
	$(BIN)/python -m pytest

unit: $(BIN)/.installed ## unit tests only
	$(BIN)/python -m pytest tests/unit

openapi: $(BIN)/.installed ## regenerate the committed openapi.json from the API's routes and models
	$(BIN)/python -m infra.openapi

build: $(SAM_VENV)/.installed ## sam build (needs python3.12 on PATH, or add --use-container with Docker)
	$(SAM) build

deploy: build ## sam deploy to the dev stack (use `make deploy ENV=prod` for prod)
	$(SAM) deploy --config-env $(or $(ENV),dev)

clean: ## remove virtualenvs and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .mypy_cache .ruff_cache
