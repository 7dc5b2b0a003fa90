# The two commands: `make run` (set up and run on embedded defaults) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: run test lint fmt typecheck imports bench clean install dev env-example

$(BIN)/python:
	@py=$$(scripts/find-python) && echo "using $$py" && $$py -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PIP) -e ".[dev]"
	@touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

run: install
	$(BIN)/whatsapp-ai migrate
	$(BIN)/whatsapp-ai seed
	$(BIN)/whatsapp-ai run

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

fmt: dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: dev
	$(BIN)/mypy

imports: dev
	$(BIN)/lint-imports

test: lint typecheck imports
	$(BIN)/pytest

bench: dev
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/reply_time.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/console_live.py
	$(BIN)/python bench/transcription.py

env-example: install
	$(BIN)/python -c "from whatsapp_ai.core.config import env_example; open('.env.example', 'w').write(env_example())"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
