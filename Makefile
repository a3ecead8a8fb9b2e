# Glimpse. The two commands that matter on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
PYTHON ?= /usr/bin/python3
PYENV := PYTHONPATH=tools OMP_WAIT_POLICY=PASSIVE
BIN := bin
DEMO_DIR ?= demo-data

.PHONY: all setup build test test-go test-python demo model model-eval model-export clean \
	bench-encoder bench-ann bench-index bench-query

all: build

## setup: Debian build dependencies, then ONNX Runtime 1.30.0 (libonnxruntime.so.1) into .cache (idempotent)
setup:
	@./scripts/setup-deps.sh
	@./scripts/setup-ort.sh

## build: every binary into bin/
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## test: set up and run every test (Go, then the Python model tooling when torch is importable)
test: setup test-go test-python

test-go:
	$(GO) vet ./...
	$(GO) test ./...

test-python:
	@if $(PYTHON) -c 'import torch, onnx, PIL' 2>/dev/null; then \
		$(PYENV) $(PYTHON) -m unittest discover -s tools/tests -t tools -v; \
	else \
		echo "test-python: torch, onnx or PIL not importable by $(PYTHON); running the tokenizer tests only"; \
		$(PYENV) $(PYTHON) -m unittest tests.test_wordpiece -v; \
	fi

## demo: set up, build, generate a gallery of 2,000 scenes, index it (a rerun reuses both), then
## search it from the command line (the web UI comes with the server)
demo: setup build
	@if [ ! -f $(DEMO_DIR)/gallery/captions.json ]; then \
		$(BIN)/scenes generate --n 2000 --seed 7 --size 256 --out $(DEMO_DIR)/gallery; \
	else echo "demo: reusing $(DEMO_DIR)/gallery"; fi
	$(BIN)/indexer add --data $(DEMO_DIR)/data $(DEMO_DIR)/gallery/images
	$(BIN)/indexer status --data $(DEMO_DIR)/data
	$(BIN)/searcher query --data $(DEMO_DIR)/data --limit 5 "a small red circle to the left of a large blue square"

## model: retrain the default model from scratch (three stages, about 85 min on 2 cores with
## OpenBLAS), evaluate it and export the bundle into models/tiny-scenes
TRAIN := $(PYENV) $(PYTHON) -m vlm.train_tiny --work build/tiny-scenes
model:
	$(TRAIN) --out build/tiny-scenes/stage1.pt --steps 3600
	$(TRAIN) --out build/tiny-scenes/stage2.pt --init build/tiny-scenes/stage1.pt --fusion-layers 4 --null-token \
		--negatives 3 --lr 3e-4 --warmup 50 --steps 800 --stop-after 200
	$(TRAIN) --out build/tiny-scenes/model.pt --init build/tiny-scenes/stage2.pt --fusion-layers 4 --null-token --mlm \
		--negatives 3 --lr 3e-4 --warmup 30 --steps 600
	$(MAKE) model-eval model-export

model-eval:
	$(PYENV) $(PYTHON) -m vlm.eval_tiny --model build/tiny-scenes/model.pt --work build/tiny-scenes --json build/tiny-scenes/eval.json

model-export:
	$(PYENV) $(PYTHON) -m vlm.export_tiny --model build/tiny-scenes/model.pt --out models/tiny-scenes --eval-json build/tiny-scenes/eval.json

## bench-encoder: encoder throughput and preprocessing cost (last line: one JSON object)
bench-encoder: setup
	@set -o pipefail; GLIMPSE_BENCH=1 $(GO) test -run '^TestBenchReport$$' -count=1 -v ./encoder/ | grep -v -e '^=== RUN' -e '^--- ' -e '^PASS$$' -e '^ok '

## bench-ann: ANN benchmark, ours (f32, int8) vs hnswlib, FAISS, coder/hnsw and brute force on
## 100k x 256 clustered vectors (last line: one JSON object). ARGS=--quick: 20k vectors; ARGS=--million adds 1M.
bench-ann:
	@$(PYTHON) -c 'import hnswlib, faiss' 2>/dev/null || echo "bench-ann: apt-get install -y python3-hnswlib python3-faiss for the peers (otherwise skipped)"
	$(GO) run ./cmd/annbench --n 100000 --queries 1000 --peers-python $(PYTHON) $(ARGS)

## bench-index: indexer throughput vs the encoder, 12 MP JPEG scaled decode, peak RSS (last line: one JSON object)
bench-index: setup
	@set -o pipefail; GLIMPSE_BENCH=1 $(GO) test -run '^TestBenchReport$$' -count=1 -v -timeout 30m ./indexer/ | grep -v -e '^=== RUN' -e '^--- ' -e '^PASS$$' -e '^ok '

## bench-query: query latency per stage on 100,000 indexed images (K = 16/64/128), rerank pairs/s,
## token cache vs recompute (last line: one JSON object)
bench-query: setup
	@set -o pipefail; GLIMPSE_BENCH=1 $(GO) test -run '^TestBenchReport$$' -count=1 -v -timeout 30m ./searcher/ | grep -v -e '^=== RUN' -e '^--- ' -e '^PASS$$' -e '^ok '

clean:
	rm -rf $(BIN) build
