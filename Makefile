# newsqa: `make demo` serves the demo corpus, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= data/demo
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: this machine's CPU wheel; an unpinned torch pulls a CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,scale]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/newsqa serve --demo --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check qa index api eval tests
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: $(STAMP)
	bash scripts/install-browser.sh
	bash scripts/install-postgres.sh
	$(MAKE) lint
	NEWSQA_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/newsqa eval --dataset ../shared/data/realtimeqa-2022 --out runs/realtimeqa-2022

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
