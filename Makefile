# The few verbs people type. README's two commands are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
INDEX ?= index
HOST ?= 127.0.0.1
PORT ?= 7860
export HF_HUB_OFFLINE := 1

.PHONY: setup install model index run test test-milvus lint eval bench bench-scale bench-quality browser llm clean

setup: install model index

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,bench,office,hwp]'
	touch $@

model: install
	$(RAG) models fetch

index: model
	$(RAG) index data/corpus --index-dir $(INDEX)

run: setup
	$(PY) app.py --index-dir $(INDEX) --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests, and a Korean font so screenshots are readable.
browser:
	@{ test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -qi nanum; } || { \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-nanum) \
	  || echo "could not install chromium; browser tests will be skipped"; }

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup browser lint
	$(PY) -m pytest -q
	$(RAG) eval --gold eval/gold.jsonl --index-dir $(INDEX) --thresholds eval/thresholds.json --json artifacts/eval.json
	RAG_EXTRACTIVE=units $(RAG) eval --gold eval/gold.jsonl --index-dir $(INDEX) --thresholds eval/thresholds-units.json --json artifacts/eval-units.json
	$(MAKE) test-milvus

# The whole suite again with the Milvus Lite backend (rag.milvus_store): docs/performance.md.
test-milvus: model
	$(PY) -m pip install -q -e '.[milvus]'
	RAG_INDEX_KIND=milvus $(PY) -m pytest -q

eval: setup
	mkdir -p artifacts
	$(RAG) eval --gold eval/gold.jsonl --index-dir $(INDEX) --json artifacts/eval.json

# Speed (bench.speed) and scale (bench.scale) figures: docs/performance.md, artifacts/.
bench: setup
	$(PY) -m pip install -q -e '.[fast]'
	$(PY) -m bench.speed
	$(PY) -m bench.scale

# Index types at 10k/100k/1M vectors (about 45 min; split with --sizes): docs/performance.md.
bench-scale: setup
	$(PY) -m bench.scale

bench-quality: setup
	$(PY) -m eval.benchmark

llm: install
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(PY) -m pip install -q -e '.[llm]'
	$(RAG) models fetch --llm

clean:
	rm -rf $(INDEX)/v-* $(INDEX)/CURRENT $(INDEX)/.tmp-* artifacts
