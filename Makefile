# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pywb (a test dependency: the tests replay WARCs and recover pages from it) pins redis==2.10.6,
# which the distributed crawl's scrapy-redis cannot run on: pywb gets a venv of its own.
PYWB_VENV := .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed
# ReplayWeb.page's static files (ui.js, sw.js) from the npm registry, for the test that replays
# an exported WACZ in it (tests/test_wacz_replayweb.py); never copied into the repository.
REPLAYWEB := .replayweb
REPLAYWEB_VERSION := 2.5.3
REPLAYWEB_STAMP := $(REPLAYWEB)/.installed-$(REPLAYWEB_VERSION)

.PHONY: install demo test test-full lint typecheck pytest bench clean

install: $(STAMP) $(PYWB_STAMP) $(REPLAYWEB_STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The readers (warcio, py-wacz) decode br with brotlipy, whose `brotli` package would
	# shadow the module Scrapy decodes br responses with: give it a directory of its own,
	# which tests/readers.py puts first on their path.
	rm -rf $(VENV)/readers
	$(BIN)/python -m pip install --quiet --no-deps --target $(VENV)/readers 'brotlipy>=0.7'
	touch $(STAMP)

# pywb and what it needs only (its brotlipy included: nothing of Scrapy's lives here).
$(PYWB_STAMP): Makefile
	test -x $(PYWB_VENV)/bin/python || $(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYWB_VENV)/bin/python -m pip install --quiet 'pywb>=2.8'
	touch $(PYWB_STAMP)

# npm checks the package against the registry's integrity hash. Without npm the ReplayWeb.page
# test is skipped (and fails where MORGUE_TEST_REQUIRE_BROWSER is set: .ci/run installs npm).
$(REPLAYWEB_STAMP): Makefile
	@if command -v npm >/dev/null 2>&1; then \
		rm -rf $(REPLAYWEB) && mkdir -p $(REPLAYWEB) && \
		npm pack --silent --pack-destination $(REPLAYWEB) replaywebpage@$(REPLAYWEB_VERSION) && \
		tar -xzf $(REPLAYWEB)/replaywebpage-$(REPLAYWEB_VERSION).tgz -C $(REPLAYWEB) \
			--strip-components=1 package/ui.js package/sw.js package/LICENSE && \
		rm $(REPLAYWEB)/replaywebpage-$(REPLAYWEB_VERSION).tgz && touch $@; \
	else \
		echo "npm not found: ReplayWeb.page is not installed (its test will be skipped)"; \
	fi

demo: install
	$(BIN)/morgue demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Two test processes per core: most tests wait on crawls in child processes; work stealing keeps
# a long test from holding up a batch. The tests start morgue hundreds of times: its modules are
# compiled once here, which matters where PYTHONDONTWRITEBYTECODE is set.
pytest: install
	$(BIN)/python -m compileall -q archive crawler pipelines tests >/dev/null
	$(BIN)/pytest -n 4 --dist worksteal

test: lint typecheck pytest

# The same, with the corpus sweeps over every page instead of every third (tests/tier.py).
test-full: lint typecheck
	$(BIN)/python -m compileall -q archive crawler pipelines tests >/dev/null
	MORGUE_TEST_FULL=1 $(BIN)/pytest -n 4 --dist worksteal

clean:
	rm -rf $(VENV) $(PYWB_VENV) $(REPLAYWEB) morgue-data .mypy_cache .pytest_cache .ruff_cache
