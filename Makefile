# PDI Catalog — the two commands of the README, and their parts.
#   make demo   set up, harvest the demo portals (local simulator) and serve http://127.0.0.1:8000
#   make test   set up and run the whole test suite (lint, types, tests)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: setup demo test lint typecheck pytest clean

$(BIN)/pdi: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(BIN)/pdi

setup: $(BIN)/pdi

# The tests also cross-check the ArcGIS Online harvester with the arcgis package (an optional
# extra, heavy: pandas, numpy, pyarrow, dask); `make demo` does not need it.
$(VENV)/.arcgis-extra: pyproject.toml $(BIN)/pdi
	$(BIN)/pip install --quiet -e '.[test,arcgis]'
	@touch $@

demo: setup
	$(BIN)/pdi up --demo --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup $(VENV)/.arcgis-extra
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf $(VENV) build *.egg-info
