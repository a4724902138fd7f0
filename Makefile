# Every target bootstraps .venv on a fresh machine, so `make test` is the only command needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make demo` needs only the runtime dependencies (`pip install -e .`); tests,
# linters and the benchmark need the dev extras too. Installing the extras also satisfies the
# runtime stamp, so `make check test demo` (CI) installs once; a changed pyproject.toml
# re-runs whichever install a target needs.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo demo-stack test check bench fmt clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP) $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/eltflow --project-dir demo demo

# The same pipeline deployed from its own CloudFormation template (eltflow stack deploy), then run.
demo-stack: $(STAMP)
	$(BIN)/eltflow --project-dir demo-stack demo --from-template

# Coverage of src/eltflow is measured on every run and may not drop below COV_FLOOR: the
# whole suite measured 87.3% on a clean clone (2026-12-06, two xdist processes; subprocesses
# are not traced), less ~2 points of slack. (Until the test kit's package stopped importing
# half of eltflow when pytest loads its plugin, modules imported before coverage started went
# uncounted and the figure read 77-79%.) The check rounds the total to whole percent.
COV_FLOOR ?= 85
COV_ARGS ?= --cov --cov-report=term:skip-covered --cov-fail-under=$(COV_FLOOR)

# Two test processes (the CI machine has 2 cores and much of the suite waits on subprocesses,
# PostgreSQL and the browser); a file's tests stay on one process, since some share a module
# fixture. Every test makes its own temp folder and PostgreSQL database, so processes share
# nothing. `make test XDIST=` runs in one process.
XDIST ?= -n 2 --dist loadfile

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q $(XDIST) $(COV_ARGS) $(PYTEST_ARGS)

check: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m tests.purity src
	$(BIN)/python -m tests.state_sql src

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

fmt: $(DEV_STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) .eltflow .pytest_cache .mypy_cache .ruff_cache
