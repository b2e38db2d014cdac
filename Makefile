# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# pywb (a test dependency) pulls in brotlipy, whose `brotli` package shadows the brotli
	# module Scrapy decodes br responses with: remove it, as a user's install never has it.
	$(BIN)/python -m pip uninstall --quiet --yes brotlipy
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps 'brotli>=1.1'
	# The readers (warcio, pywb, py-wacz) decode br with brotlipy: give it a directory of its
	# own, which tests/readers.py puts first on their path.
	rm -rf $(VENV)/readers
	$(BIN)/python -m pip install --quiet --no-deps --target $(VENV)/readers 'brotlipy>=0.7'
	touch $(STAMP)

demo: install
	$(BIN)/morgue demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Two test processes per core: most tests wait on crawls in child processes.
pytest: install
	$(BIN)/pytest -n 4

test: lint typecheck pytest

clean:
	rm -rf $(VENV) morgue-data .mypy_cache .pytest_cache .ruff_cache
