# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE ?= kg-store
export KG_STORE := $(STORE)

.PHONY: demo test install browser virtuoso lint bench clean

$(BIN)/kg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(BIN)/kg

install: $(BIN)/kg

## demo: build the graph from seeds/, run three canned queries, write out/graph.html and out/map.html
demo: install
	$(BIN)/kg build seeds/
	$(BIN)/kg stats
	$(BIN)/kg query weapons-by-place
	$(BIN)/kg query claims-by-actor
	$(BIN)/kg query contradictions
	$(BIN)/kg viz -o out/graph.html
	$(BIN)/kg viz --map -o out/map.html
	@echo "open out/graph.html and out/map.html in a browser"

## browser: Debian's chromium for the browser tests (installed with apt when missing and root)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: browser tests will be skipped (install Debian's chromium)"; fi; \
	fi

## virtuoso: Debian's Virtuoso binaries for the remote-store tests (apt when missing and root). Only the
## -bin package: no system service to start on 8890/1111 and no debconf password prompt; the tests
## write their own virtuoso.ini with free ports.
virtuoso:
	@if ! command -v virtuoso-t >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      virtuoso-opensource-7-bin >/dev/null; \
	  else echo "virtuoso-t missing: the Virtuoso tests in tests/test_remote.py will be skipped (install Debian's virtuoso-opensource-7-bin)"; fi; \
	fi

test: install browser virtuoso
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check kg tests

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(STORE) out .pytest_cache
