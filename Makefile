# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE ?= kg-store
export KG_STORE := $(STORE)

.PHONY: demo test install browser lint bench clean

$(BIN)/kg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(BIN)/kg

install: $(BIN)/kg

## demo: build the graph from seeds/, run three canned queries, write out/graph.html
demo: install
	$(BIN)/kg build seeds/
	$(BIN)/kg stats
	$(BIN)/kg query weapons-by-place
	$(BIN)/kg query claims-by-actor
	$(BIN)/kg query contradictions
	$(BIN)/kg viz -o out/graph.html
	@echo "open out/graph.html in a browser"

## browser: Debian's chromium for the browser tests (installed with apt when missing and root)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: browser tests will be skipped (install Debian's chromium)"; fi; \
	fi

test: install browser
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check kg tests

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(STORE) out .pytest_cache
