# PDI Catalog — the two commands of the README, and their parts.
#   make demo   set up, harvest the demo portals (local simulator) and serve http://127.0.0.1:8000
#   make test   set up and run the whole test suite (lint, types, tests)
#   make browser  install Debian's chromium and chromedriver for the web UI's browser tests (as root)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: setup demo test lint typecheck pytest browser clean

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

# tests/test_ui_browser.py drives Debian's chromium; without it those tests skip (and fail under CI)
browser:
	scripts/chromium >/dev/null
	scripts/chromium driver >/dev/null

clean:
	rm -rf $(VENV) build *.egg-info
