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
FRONTEND_STAMP := frontend/node_modules/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
NPM_CI := npm ci --no-audit --no-fund --loglevel=error
# Debian's Chromium, driven by playwright-core (no browser download); installed when missing.
CHROMIUM ?= /usr/bin/chromium
# The backend suite runs a second time on PostgreSQL (created if missing; trust auth on loopback).
TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/warm_transfer_test

.PHONY: help install run migrate console dev test lint typecheck backend-test frontend-test \
	frontend-e2e api-types check-api-types bench clean

help: ## Show the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(BACKEND_STAMP): backend/pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e 'backend[dev]'
	@touch $@

$(CONTRACT_STAMP): backend/tests/contract/package-lock.json
	$(NPM_CI) --prefix backend/tests/contract
	@touch $@

$(FRONTEND_STAMP): frontend/package-lock.json
	$(NPM_CI) --prefix frontend
	@touch $@

$(BENCH_STAMP): bench/requirements.txt $(BACKEND_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

install: $(BACKEND_STAMP) $(FRONTEND_STAMP) ## Install the backend (backend/.venv) and the console

migrate: install ## Migrate the database (and seed the dev agents in development)
	cd backend && $(BIN)/warm-transfer migrate

console: $(FRONTEND_STAMP) ## Build the console into frontend/dist (served at / by the backend)
	npm run --prefix frontend build

run: migrate console ## Install, migrate, seed and serve API, docs and console on one port
	@echo ""
	@echo "  Warm Transfer on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/docs)"
	@echo "  Dev logins: agent1 / agent1-dev-password, agent2 / agent2-dev-password"
	@echo ""
	cd backend && $(BIN)/warm-transfer serve --host $(HOST) --port $(PORT)

dev: migrate ## Vite's dev server (http://127.0.0.1:5173, proxying to the backend) + the backend
	cd backend && $(BIN)/warm-transfer serve --host $(HOST) --port $(PORT) --reload & \
	  trap 'kill %1' EXIT; npm run --prefix frontend dev

lint: install ## ruff (lint + format check), eslint + prettier
	cd backend && $(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/ruff check bench && $(BIN)/ruff format --check bench
	npm run --prefix frontend lint

typecheck: install ## mypy --strict on the package, tsc --noEmit on the console
	cd backend && $(BIN)/mypy
	npm run --prefix frontend typecheck

backend-test: install $(CONTRACT_STAMP) ## Backend tests on SQLite (with the Prism contract tests), then on PostgreSQL
	cd backend && $(BIN)/pytest -q
	cd backend && TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q --ignore=tests/contract

frontend-test: install ## Console tests (Vitest), production build and its size budget
	npm run --prefix frontend test
	npm run --prefix frontend build
	npm run --prefix frontend bundle-size

frontend-e2e: install console ## End-to-end tests in Debian's Chromium against the real backend (simulated voice)
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	cd frontend && CHROMIUM_PATH=$(CHROMIUM) npm run e2e

api-types: install ## Regenerate backend/openapi.json and the console's API types from it
	cd backend && $(BIN)/python -m warm_transfer.openapi > openapi.json
	npm run --prefix frontend gen:api

check-api-types: api-types ## Fail when the committed API types are out of date
	git diff --exit-code -- backend/openapi.json frontend/src/types/api.gen.ts || \
	  (echo "API types are stale: run 'make api-types' and commit the result" >&2; exit 1)

test: lint typecheck check-api-types backend-test frontend-test frontend-e2e ## Every check and test

bench: $(BACKEND_STAMP) $(BENCH_STAMP) ## Load-test the webhooks on loopback against a Twilio double; prints a table (BENCH_ARGS=--quick)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean: ## Remove installed dependencies and local data
	rm -rf $(VENV) backend/data backend/tests/contract/node_modules frontend/node_modules frontend/dist
