# Glimpse. The two commands that matter on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
PYTHON ?= /usr/bin/python3
PYENV := PYTHONPATH=tools OMP_WAIT_POLICY=PASSIVE
BIN := bin
DEMO_DIR ?= demo-data

.PHONY: all setup build test test-go test-python demo model model-eval model-export clean

all: build

## setup: fetch ONNX Runtime 1.30.0 (libonnxruntime.so.1) into .cache (idempotent)
setup:
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

## demo: set up, build, generate a gallery of 2,000 scenes (later issues index and serve it)
demo: setup build
	@if [ ! -f $(DEMO_DIR)/gallery/captions.json ]; then \
		$(BIN)/scenes generate --n 2000 --seed 7 --size 256 --out $(DEMO_DIR)/gallery; \
	else echo "demo: reusing $(DEMO_DIR)/gallery"; fi
	@echo "demo: gallery of $$(ls $(DEMO_DIR)/gallery/images | wc -l) scenes in $(DEMO_DIR)/gallery;" \
		"default model: models/tiny-scenes ($$(du -sh models/tiny-scenes | cut -f1))"

## model: retrain the default model from scratch, evaluate it and export the bundle (about 60 min, 2 cores)
model:
	$(PYENV) $(PYTHON) -m vlm.train_tiny --work build/tiny-scenes --out build/tiny-scenes/model.pt
	$(MAKE) model-eval model-export

model-eval:
	$(PYENV) $(PYTHON) -m vlm.eval_tiny --model build/tiny-scenes/model.pt --work build/tiny-scenes --json build/tiny-scenes/eval.json

model-export:
	$(PYENV) $(PYTHON) -m vlm.export_tiny --model build/tiny-scenes/model.pt --out models/tiny-scenes --eval-json build/tiny-scenes/eval.json

clean:
	rm -rf $(BIN) build
