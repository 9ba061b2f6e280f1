# Two commands: `make run` serves the app, `make test` runs every test. Both set up .venv first.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3

.PHONY: run test bench bench-scale bench-precision eval index install browser screenshot clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch==2.13.0 (pinned in pyproject) resolves to the CPU build on this machine's disk
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Also exports the ONNX embedding model once (cached in ~/.cache/dossier; about 10 s the first time),
# so that no question waits for torch.
install: $(STAMP)
	$(BIN)/python -m app.embeddings

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

index: install
	$(BIN)/dossier ingest

run: install
	$(BIN)/dossier serve

# The evals run first so that pytest's summary is the last line CI reads. Thresholds apply to the
# test splits (test6: held out from the latest answerer change; test to test5: regression floors, read since);
# the dev split is reported, never gated.
test: install browser
	$(BIN)/dossier eval --dataset evals/dev.jsonl --thresholds none --no-baseline --out evals/runs/dev
	$(BIN)/dossier eval --dataset evals/test.jsonl --thresholds evals/thresholds.toml --out evals/runs/test
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test.jsonl \
		--thresholds evals/thresholds-corpus2.toml --out evals/runs/corpus2-test
	$(BIN)/dossier eval --dataset evals/test2.jsonl --thresholds evals/thresholds-test2.toml --no-baseline \
		--out evals/runs/test2
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test2.jsonl \
		--thresholds evals/thresholds-corpus2-test2.toml --no-baseline --out evals/runs/corpus2-test2
	$(BIN)/dossier eval --dataset evals/test3.jsonl --thresholds evals/thresholds-test3.toml --no-baseline \
		--out evals/runs/test3
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test3.jsonl \
		--thresholds evals/thresholds-corpus2-test3.toml --no-baseline --out evals/runs/corpus2-test3
	$(BIN)/dossier eval --dataset evals/test4.jsonl --thresholds evals/thresholds-test4.toml --no-baseline \
		--out evals/runs/test4
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test4.jsonl \
		--thresholds evals/thresholds-corpus2-test4.toml --no-baseline --out evals/runs/corpus2-test4
	$(BIN)/dossier eval --dataset evals/test5.jsonl --thresholds evals/thresholds-test5.toml --no-baseline \
		--out evals/runs/test5
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test5.jsonl \
		--thresholds evals/thresholds-corpus2-test5.toml --no-baseline --out evals/runs/corpus2-test5
	$(BIN)/dossier eval --dataset evals/test6.jsonl --thresholds evals/thresholds-test6.toml --no-baseline \
		--out evals/runs/test6
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test6.jsonl \
		--thresholds evals/thresholds-corpus2-test6.toml --no-baseline --out evals/runs/corpus2-test6
	$(BIN)/pytest

# Every split on both corpora, with both baselines; reports under evals/runs/.
eval: install
	$(BIN)/dossier eval --dataset evals/dev.jsonl --thresholds none --out evals/runs/dev
	$(BIN)/dossier eval --dataset evals/test.jsonl --out evals/runs/test
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-dev.jsonl --thresholds none \
		--out evals/runs/corpus2-dev
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test.jsonl \
		--thresholds evals/thresholds-corpus2.toml --out evals/runs/corpus2-test
	$(BIN)/dossier eval --dataset evals/test2.jsonl --thresholds evals/thresholds-test2.toml --out evals/runs/test2
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test2.jsonl \
		--thresholds evals/thresholds-corpus2-test2.toml --out evals/runs/corpus2-test2
	$(BIN)/dossier eval --dataset evals/test3.jsonl --thresholds evals/thresholds-test3.toml --out evals/runs/test3
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test3.jsonl \
		--thresholds evals/thresholds-corpus2-test3.toml --out evals/runs/corpus2-test3
	$(BIN)/dossier eval --dataset evals/test4.jsonl --thresholds evals/thresholds-test4.toml --out evals/runs/test4
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test4.jsonl \
		--thresholds evals/thresholds-corpus2-test4.toml --out evals/runs/corpus2-test4
	$(BIN)/dossier eval --dataset evals/test5.jsonl --thresholds evals/thresholds-test5.toml --out evals/runs/test5
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test5.jsonl \
		--thresholds evals/thresholds-corpus2-test5.toml --out evals/runs/corpus2-test5
	$(BIN)/dossier eval --dataset evals/test6.jsonl --thresholds evals/thresholds-test6.toml --out evals/runs/test6
	$(BIN)/dossier eval --corpus tests/fixtures/corpus2 --dataset evals/corpus2-test6.jsonl \
		--thresholds evals/thresholds-corpus2-test6.toml --out evals/runs/corpus2-test6

# Refresh the README pictures (desktop, phone, dark, Timeline) from the five-turn browser test, run
# alone so that its server holds only the corpus (the other browser tests upload documents).
screenshot: install browser
	$(BIN)/pytest -q tests/test_browser_conversation.py
	for name in desktop phone dark timeline; do cp build/readme-$$name.png docs/$$name.png; done

bench: install
	$(BIN)/python scripts/bench.py

# Answer quality of each embedding precision (fp32, int8 index with fp32 answers, int8) on every eval split.
bench-precision: install
	$(BIN)/python scripts/bench_precision.py

# 50,000 chunks of Debian's Python and PostgreSQL manuals; corpus and index are kept in build/scale/.
bench-scale: install
	@test -d /usr/share/doc/python3.11/html -a -d /usr/share/doc/postgresql-doc-15/html || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-doc postgresql-doc-15; }
	$(BIN)/python scripts/bench_scale.py

clean:
	rm -rf index/chroma.sqlite3 index/*-*-*-*-* evals/runs
