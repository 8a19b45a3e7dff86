# Two commands do all the set-up: `make run` starts the whole stack, `make test` runs every test.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
UV_VERSION := 0.13.9
UV := python3 -m uv

.PHONY: install run test lint unit contracts clean bench bench-quick

install:  ## uv from PyPI, then every Python dependency from the lock file
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q "uv==$(UV_VERSION)"
	$(UV) sync --frozen --all-packages

run: install  ## Kafka, Postgres, migrations, the emulator and all five services; Ctrl-C stops all
	scripts/run.sh

test: install lint  ## unit, integration and end-to-end tests on the real broker, database and emulator
	$(UV) run pytest

unit: install
	$(UV) run pytest -m "not integration and not e2e"

contracts: install  ## event JSON Schemas + docs/asyncapi.json from common.events; refuses breaking changes
	$(UV) run python -m common.contracts

lint:
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

bench: install  ## the benchmark (about 8 minutes): bench/results/latest.md
	$(UV) run python -m bench

bench-quick: install  ## the benchmark in under 2 minutes, one run each
	$(UV) run python -m bench --quick

clean:  ## stop the local Kafka and Postgres and wipe all local data
	-scripts/kafka.sh stop
	-scripts/postgres.sh stop
	rm -rf .data
