# spreadwire — one command to set up and run each job. The first run creates .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test check fmt bench clean help

help:
	@echo "make demo   set up and run a short demo of the node (about 20 s)"
	@echo "make test   set up and run the test suite"
	@echo "make check  ruff, ruff format --check, mypy --strict, import-linter"
	@echo "make bench  run every benchmark and print its figures"
	@echo "make fmt    format the code"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setup.py compiles the modules in its COMPILED list with mypyc: a change to one of them
# rebuilds its extension (the installed .so would otherwise shadow the edited source).
COMPILED := $(shell sed -n 's/^    "\(src\/[^"]*\.py\)",$$/\1/p' setup.py)

$(STAMP): pyproject.toml setup.py $(COMPILED) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev,bench]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/spreadwire demo --seconds 20 --pairs 3 --seed 7

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples setup.py
	$(BIN)/ruff format --check src tests benchmarks examples setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples setup.py
	$(BIN)/ruff check --fix src tests benchmarks examples setup.py

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
	find src -name '*.so' -delete
