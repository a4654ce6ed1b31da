# omnicity: `make run` (the platform on the embedded local runtime) and `make test` (lint + all tests) do all
# set-up themselves on a fresh machine: a .venv with the pinned dependencies, the SAM CLI in its own .venv-sam and
# checkov in its own .venv-checkov (each pins boto3 and friends differently), and the Node tools of package.json
# (Redocly CLI, the OpenAPI linter) in node_modules/ from package-lock.json (node 20.19+ or 22.12+ and npm on PATH).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
# offline: no download of external checks or guidelines, no version check, no platform key
CHECKOV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --skip-download
NODE_TOOLS := node_modules
# offline: no usage data (redocly.yaml says so too), no check for a newer version
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(NODE_TOOLS)/.bin/redocly
REGION ?= eu-west-1
export PYTHONPATH := layers/core:.
export SAM_CLI_TELEMETRY := 0

.DEFAULT_GOAL := help
.PHONY: help install pdf-tools run demo-data test lint typecheck checkov unit integration e2e openapi bench build deploy clean

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

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# exactly package-lock.json's versions, into ./node_modules (npm ci starts from an empty folder), nothing global
$(NODE_TOOLS)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# poppler-utils (pdftotext, pdffonts): the tests read the issued documents as a third party would. Installed with
# apt-get where this can be done (root on Debian or Ubuntu, as in CI); elsewhere the tests that need them are skipped,
# saying why.
pdf-tools:
	@command -v pdftotext >/dev/null && command -v pdffonts >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	  else echo "note: pdftotext/pdffonts not found (poppler-utils): the tests that need them will be skipped"; fi; }

INSTALLED := $(BIN)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed $(NODE_TOOLS)/.installed
install: $(INSTALLED) pdf-tools ## create .venv, .venv-sam, .venv-checkov and node_modules (and poppler-utils if root)

run: $(BIN)/.installed ## serve the platform on http://127.0.0.1:3000 (embedded runtime: moto, no Docker)
	$(BIN)/python -m infra.local

demo-data: $(BIN)/.installed ## a year of figures (150,000 products in 2025) into the running `make run` (ARGS=--help)
	$(BIN)/python -m infra.demo_data $(ARGS)

lint: install ## ruff, mypy, sam validate --lint, checkov, the state machine check, the OpenAPI drift check and linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(SAM) validate --lint --region $(REGION) --template template.yaml
	$(MAKE) --no-print-directory checkov
	$(BIN)/python -m infra.checks.statemachines template.yaml
	$(BIN)/python -m infra.openapi --check
	$(REDOCLY) lint openapi.json

typecheck: $(BIN)/.installed
	$(BIN)/mypy layers/core/omnicity infra tests bench
	@# every function's module is called app: check them one at a time
	@for handler in functions/*/app.py; do $(BIN)/mypy --no-error-summary $$handler || exit 1; done

checkov: $(CHECKOV_VENV)/.installed ## checkov on template.yaml (skips carry their reason in the resource's Metadata)
	$(CHECKOV) --file template.yaml --framework cloudformation --quiet --compact

test: lint ## lint, then every test (unit, integration, end to end)
	$(BIN)/python -m pytest

unit: $(BIN)/.installed ## unit tests only
	$(BIN)/python -m pytest tests/unit

# The benchmarks' own packages (reportlab, WeasyPrint: the document benchmark's comparison), added to .venv under the
# same constraints. Not part of `make test`: figures come from one run on a quiet machine, never from a test.
$(BIN)/.bench-installed: $(BIN)/.installed requirements-bench.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt -c constraints.txt
	touch $@

bench: $(BIN)/.bench-installed ## measure cold starts, documents, throughput, cost, scale -> bench/RESULTS.md (ARGS=--quick)
	$(BIN)/python -m bench $(ARGS)

openapi: $(BIN)/.installed ## regenerate the committed openapi.json from the API's routes and models
	$(BIN)/python -m infra.openapi

build: $(SAM_VENV)/.installed ## sam build (needs python3.12 on PATH, or add --use-container with Docker)
	$(SAM) build

deploy: build ## sam deploy to the dev stack (use `make deploy ENV=prod` for prod)
	$(SAM) deploy --config-env $(or $(ENV),dev)

clean: ## remove virtualenvs, node_modules and build output
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(NODE_TOOLS) .aws-sam .mypy_cache .ruff_cache .hypothesis
