# Warm Transfer. `make run` starts the product; `make test` runs every test. Both install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := backend/.venv
BIN := $(CURDIR)/$(VENV)/bin
BACKEND_STAMP := $(VENV)/.installed-stamp
CONTRACT_STAMP := backend/tests/contract/node_modules/.installed-stamp

.PHONY: help install run serve migrate test lint typecheck backend-test contract-test openapi clean

help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(BACKEND_STAMP): backend/pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e 'backend[dev]'
	@touch $@

$(CONTRACT_STAMP): backend/tests/contract/package-lock.json
	npm ci --prefix backend/tests/contract --no-audit --no-fund --loglevel=error
	@touch $@

install: $(BACKEND_STAMP) ## Install the backend into backend/.venv

migrate: install ## Migrate the database (and seed the dev agents in development)
	cd backend && $(BIN)/warm-transfer migrate

run: migrate ## Install, migrate, seed and serve everything on one port
	@echo ""
	@echo "  Warm Transfer on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/docs)"
	@echo "  Dev logins: agent1 / agent1-dev-password, agent2 / agent2-dev-password"
	@echo ""
	cd backend && $(BIN)/warm-transfer serve --host $(HOST) --port $(PORT)

lint: install ## ruff (lint + format check)
	cd backend && $(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: install ## mypy --strict on the package
	cd backend && $(BIN)/mypy

backend-test: install $(CONTRACT_STAMP) ## Backend tests (pytest, with the Prism contract tests)
	cd backend && $(BIN)/pytest -q

test: lint typecheck backend-test ## Every check and test

openapi: install ## Write the OpenAPI description to backend/openapi.json
	cd backend && $(BIN)/python -c "import json; from warm_transfer.main import create_app; print(json.dumps(create_app().openapi(), indent=2))" > openapi.json

clean: ## Remove installed dependencies and local data
	rm -rf $(VENV) backend/data backend/tests/contract/node_modules
