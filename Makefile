# Two commands: `make run` serves the app, `make test` runs every test. Both set up .venv first.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3

.PHONY: run test bench eval index install browser screenshot clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch==2.13.0 (pinned in pyproject) resolves to the CPU build on this machine's disk
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

index: install
	$(BIN)/dossier ingest

run: install
	$(BIN)/dossier serve

# The eval runs first so that pytest's summary is the last line CI reads.
test: install browser
	$(BIN)/dossier eval --out evals/runs/ci
	$(BIN)/pytest

eval: install
	$(BIN)/dossier eval

# Refresh the README picture from the browser test.
screenshot: install browser
	$(BIN)/pytest -q tests/test_browser.py
	cp build/screenshot.png docs/screenshot.png

bench: install
	$(BIN)/python scripts/bench.py

clean:
	rm -rf index/chroma.sqlite3 index/*-*-*-*-* evals/runs
