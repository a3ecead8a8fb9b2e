# Glimpse. The two commands that matter on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
# The model tooling's Python: a virtual environment in ~/.cache/glimpse keyed by tools/requirements.txt,
# over Debian's python3-torch (scripts/setup-venv.sh; `make venv` builds it, once per machine).
PYTHON ?= $(shell scripts/setup-venv.sh --path)
# protobuf in Python, not over the C++ descriptor pool that Debian's libtorch fills with its own,
# older onnx.proto (which breaks `import onnx` 1.16 after `import torch`; export/__init__.py
# sets the same for exporters run by hand)
PYENV := PYTHONPATH=tools OMP_WAIT_POLICY=PASSIVE PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python
BIN := bin
DEMO_DIR ?= demo-data
DEMO_ADDR ?= 127.0.0.1:8080
BENCH_SERVER_DIR ?= build/bench-server

.PHONY: all setup venv build test setup-test test-summary test-go test-python demo model model-eval model-export clean \
	bench-encoder bench-ann bench-index bench-cold bench-query bench-server bench-server-attack parity parity-reduced bench-models mutants fuzz chaos

all: build

## setup: Debian build dependencies, ONNX Runtime 1.30.0 (libonnxruntime.so.1, kept in ~/.cache/glimpse and
## linked into the clone's .cache), and the model
## tooling's Python environment (idempotent)
setup: venv
	@./scripts/setup-deps.sh
	@./scripts/setup-ort.sh

## venv: the Python environment of tools/ (pinned in tools/requirements.txt; about a minute the first time)
venv:
	@./scripts/setup-venv.sh >/dev/null

## build: the product's binaries (indexer, searcher, server) and the lab's (scenes, annbench, modelbench,
## testsum) into bin/
build:
	$(GO) build -o $(BIN)/ ./cmd/... ./lab/cmd/...

## test: install what the tests need (setup-test, before setup: its npm fetches ONNX Runtime, its torch
## is under the venv), set up, and run every suite: Go, the Weaviate cluster, the Python model tooling and
## the exporters' parity with their upstream implementations at a reduced width (scripts/test.sh). It sets
## GLIMPSE_REQUIRE_ALL=1, so a test that would skip for a missing prerequisite (Chromium, Weaviate...)
## fails; a failing suite does not stop the others, and the run ends with one line per suite: passed,
## failed, skipped (each with its reason) and the benchmark reports left to `make bench-*`, kept in
## build/test-summary/ (`make test-summary` prints them again). The web interface's browser tests save
## their screenshots into build/artifacts/
test: setup-test setup
	@./scripts/test.sh

## setup-test: the Debian packages the tests need beyond the build's (torch and friends, OpenBLAS,
## chromium, npm; idempotent)
setup-test:
	@./scripts/setup-test-deps.sh

test-summary:
	@./scripts/test.sh --summary

## test-go: vet, then every Go test but the two of test-cluster; one line per package and the output of
## failing tests (lab/cmd/testsum), the summary in build/test-summary/go.txt
TEST_SUMMARY := build/test-summary
TESTSUM := build/testsum
test-go:
	$(GO) vet ./...
	@$(GO) build -o $(TESTSUM) ./lab/cmd/testsum
	@set -o pipefail; GLIMPSE_ARTIFACTS=$(CURDIR)/build/artifacts $(GO) test -json \
		-skip '^(TestCollectionOneNode|TestClusterFault)$$' ./... | $(TESTSUM) -suite go -o $(TEST_SUMMARY)/go.txt

test-python: venv
	$(PYENV) $(PYTHON) -m tests --summary $(TEST_SUMMARY)/python.txt

## demo: set up, build, generate a gallery of 2,000 scenes, index it (a rerun reuses both; an index made
## with another model bundle, such as an earlier default model, is made again), then
## serve it: the web interface and the API on http://$(DEMO_ADDR) until Ctrl-C
demo: setup build
	@if [ ! -f $(DEMO_DIR)/gallery/captions.json ]; then \
		$(BIN)/scenes generate --n 2000 --seed 7 --size 256 --out $(DEMO_DIR)/gallery; \
	else echo "demo: reusing $(DEMO_DIR)/gallery"; fi
	@if $(BIN)/indexer status --data $(DEMO_DIR)/data 2>/dev/null | grep -q "model mismatch"; then \
		echo "demo: $(DEMO_DIR)/data was indexed with another model bundle; indexing the gallery again"; \
		rm -rf $(DEMO_DIR)/data; fi
	$(BIN)/indexer add --data $(DEMO_DIR)/data $(DEMO_DIR)/gallery/images
	$(BIN)/indexer status --data $(DEMO_DIR)/data
	$(BIN)/server --data $(DEMO_DIR)/data --addr $(DEMO_ADDR)

## model: retrain the default model from scratch (six stages, fixed seeds), evaluate it and export the
## bundle into models/tiny-scenes. On this 2-core machine with OpenBLAS, idle: the training scenes 4 min,
## stage 1 39 min, stage 2 18 min, stage 3 15 min, stage 4 13.5 min (about 89 in all), then the evaluation.
## Stage 1 trains the vision tower alone on the per-patch colour/shape/size loss (--vision-steps), then
## everything jointly: ITC (NegCLIP negatives; a lone object's caption that names its region or background
## is true only of the images that match it, --lone-scope; groups of lone objects in each batch,
## --lone-groups), ITM on mined and explicit hard negatives, and the per-patch loss. Stage 2 does the same
## with a longer vision-only phase. Stage 3 adds the grounded word verifier to the ITM and trains it with
## the text encoder, the vision tower and the fusion frozen (--verify-steps, --verify-text); stage 4 adds
## ITC-only layers over both towers and trains them, the projections and the temperature alone on batches
## of 256 (--itc-steps). Stage 5 teaches search-box queries (vlm.train_queries): the text encoder, the fusion
## and the ITC heads train on queries drawn over the training scenes with their open-world truth (`scenes
## queries --edits`) beside the captions, the vision tower frozen (--query-steps); stage 6 continues with three
## hard images per query (--query-hard) and texts outside the scene language as negatives (--query-foreign). Stages 5 and 6 took 22 and 15 minutes on a 2-core AMD EPYC (AVX2).
TRAIN := $(PYENV) $(PYTHON) -m vlm.train_tiny --work build/tiny-scenes --conv-stem 32 --fusion-layers 4 \
	--null-token --itc-hard --kind-weights relation=4,swap_colour=4,swap_size=4,shape=2 --captions both --coord-pos
QUERIES := --batch 48 --twin-pairs 8 --lone-groups 4 --negatives 1 --query-negatives 3 --lr 2e-4
JOINT := --negatives 2 --twin-pairs 16 --lone-groups 4 --lone-scope --aux 1 --aux-shape 3 --lr 5e-4
model:
	$(TRAIN) $(JOINT) --out build/tiny-scenes/stage1.pt --vision-steps 400 --steps 1200 --warmup 100
	$(TRAIN) $(JOINT) --out build/tiny-scenes/stage2.pt --init build/tiny-scenes/stage1.pt --vision-steps 800 \
		--steps 300 --warmup 30
	$(TRAIN) --out build/tiny-scenes/stage3.pt --init build/tiny-scenes/stage2.pt --negatives 3 --twin-pairs 16 \
		--verify-steps 650 --verify-text 0.6 --lr 1e-3 --warmup 30 --calibrate-images 300
	$(TRAIN) --out build/tiny-scenes/stage4.pt --init build/tiny-scenes/stage3.pt --itc-steps 500 --batch 256 \
		--twin-pairs 48 --lone-groups 16 --negatives 2 --lr 1e-3 --warmup 50
	$(TRAIN) $(QUERIES) --out build/tiny-scenes/stage5.pt --init build/tiny-scenes/stage4.pt --query-steps 360 --warmup 20
	$(TRAIN) $(QUERIES) --out build/tiny-scenes/model.pt --init build/tiny-scenes/stage5.pt --query-steps 200 \
		--query-hard 3 --query-foreign 1 --warmup 10
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
	$(GO) run ./lab/cmd/annbench --n 100000 --queries 1000 --peers-python $(PYTHON) $(ARGS)

## bench-index: indexer throughput vs the encoder, 12 MP JPEG scaled decode, peak RSS (last line: one JSON object)
bench-index: setup
	@set -o pipefail; GLIMPSE_BENCH=1 $(GO) test -run '^TestBenchReport$$' -count=1 -v -timeout 30m ./indexer/ | grep -v -e '^=== RUN' -e '^--- ' -e '^PASS$$' -e '^ok '

## bench-cold: what the first query over a photo library costs: 300 photos of 12 MP made from generated scenes
## (JPEGs; every 10th a HEIC, the next a PNG) indexed with each token policy (eager, copies, and copies-full:
## copies past the token budget, every candidate recomputed from its copy; lazy), then 20 distinct text queries
## at K = 128 run first on a cache holding only what indexing stored, then again: p50 of both, indexing
## images/s, token cache and model-resolution copies per photo (last line: one JSON object; over 10 minutes on
## 2 cores). COLD_MODEL=DIR measures another bundle (e.g. build/models/blip-base, which make bench-models
## exports), COLD_K=16 and COLD_PHOTOS=100 shrink it, COLD_POLICIES=copies-full,eager picks policies.
bench-cold: setup
	@set -o pipefail; GLIMPSE_BENCH=1 $(if $(COLD_MODEL),GLIMPSE_BENCH_MODEL=$(abspath $(COLD_MODEL))) \
		$(if $(COLD_K),GLIMPSE_BENCH_K=$(COLD_K)) $(if $(COLD_PHOTOS),GLIMPSE_BENCH_PHOTOS=$(COLD_PHOTOS)) \
		$(if $(COLD_POLICIES),GLIMPSE_BENCH_POLICIES=$(COLD_POLICIES)) $(GO) test -run '^TestBenchCold$$' -count=1 -v -timeout 60m ./indexer/ | grep -v -e '^=== RUN' -e '^--- ' -e '^PASS$$' -e '^ok '

## bench-index-model: the throughput part of bench-index with another bundle, e.g.
## MODEL=build/models/clip-vit-b-32 (make bench-models exports it) SCENES=300
MODEL ?= build/models/clip-vit-b-32
SCENES ?= 300
bench-index-model: setup
	@set -o pipefail; GLIMPSE_BENCH=1 GLIMPSE_BENCH_MODEL=$(abspath $(MODEL)) GLIMPSE_BENCH_SCENES=$(SCENES) $(GO) test \
		-run '^TestBenchModelThroughput$$' -count=1 -v -timeout 60m ./indexer/ | grep -v -e '^=== RUN' -e '^--- ' -e '^PASS$$' -e '^ok '

## bench-query: query latency per stage on 100,000 indexed images (K = 16/64/128), rerank pairs/s,
## token cache vs recompute (last line: one JSON object)
bench-query: setup
	@set -o pipefail; GLIMPSE_BENCH=1 $(GO) test -run '^TestBenchReport$$' -count=1 -v -timeout 30m ./searcher/ | grep -v -e '^=== RUN' -e '^--- ' -e '^PASS$$' -e '^ok '

## parity: every exporter against the upstream implementation of its family at the published sizes:
## the upstream model class (ModelScope mPLUG, transformers BLIP/CLIP/SigLIP, open_clip's OpenAI loader)
## with seeded random weights saved in its hub's layout, exported, and the Go runtime compared with the
## upstream pipeline or forward on photos, an RGBA and an EXIF-rotated image and hard texts (tools/parity;
## long: about an hour on 2 cores; last line: one JSON object). parity-reduced: the same at reduced widths
## (run by `make test`). CASES=name,... runs some.
PARITY_ARGS = $(if $(CASES),--cases $(CASES))
parity: setup
	$(PYENV) $(PYTHON) -m parity --width real $(PARITY_ARGS) $(ARGS)
parity-reduced: setup
	$(PYENV) $(PYTHON) -m parity --width reduced --summary $(TEST_SUMMARY)/parity-reduced.txt $(PARITY_ARGS) $(ARGS)

## mutants: the suite must fail on each of a fixed list of deliberate bugs (lab/mutants/list.go: the HNSW
## search, tokenizers, preprocessing, the ITM softmax, golden checks, batches, change detection, API keys,
## thresholds, rank formulas), each applied alone to a scratch copy and its packages' tests run; fails when
## one survives (about 15 minutes on 2 cores; last line: one JSON object)
mutants: setup
	$(GO) run ./lab/mutants $(if $(ONLY),--only $(ONLY))

## chaos: 100 kill -9 trials of an indexer child process, spread over indexing, adding a new folder and
## compacting, then 20 of a server child while its index job commits batches; after each the library must
## open, pass bbolt's check and, rerun, hold every photo once with its embedding and a decodable thumbnail
## (`make test` runs 10 and 3; CHAOS_TRIALS=N; last line: the indexer trials' JSON object)
CHAOS_TRIALS ?= 100
chaos: setup
	@mkdir -p build
	@set -o pipefail; rc=0; GLIMPSE_CHAOS_TRIALS=$(CHAOS_TRIALS) GLIMPSE_CHAOS_REPORT=$(CURDIR)/build/chaos.json \
		$(GO) test -count=1 -timeout 60m -run '^TestChaos$$' -v ./indexer/ | grep -e '^--- ' -e 'trial' || rc=$$?; \
		GLIMPSE_CHAOS_TRIALS=$(CHAOS_TRIALS) $(GO) test -count=1 -timeout 30m -run '^TestServerJobChaos$$' -v ./cmd/server/ \
		| grep -e '^--- ' -e 'trial' || rc=$$?; \
		cat build/chaos.json; exit $$rc

## fuzz: every fuzz target (decoders, the JPEG scan counter, libjpeg-turbo, tokenizers, manifests, store
## records, request bodies, keys, parameters) for FUZZTIME each (default 10m; `make test` runs their seeds);
## new inputs stay in Go's fuzz cache, a failing one lands in the package's testdata/fuzz
FUZZTIME ?= 10m
fuzz: setup
	./scripts/fuzz.sh $(FUZZTIME)

## bench-models: real-size --random-init bundles of mPLUG-large, CLIP ViT-B/32 and ViT-L/14@336 and
## BLIP base (exported once into the git-ignored build/models, about 3 GB, then verified in Go),
## each also as its optimised float32 and int8 variants (export.precision: NAME-opt, NAME-int8),
## measured beside the default model: images/s, queries/s, ITM pairs/s, query latency at K = 16
## and 128, resident memory, bundle size (long: on 2 busy cores the exports took 25 minutes, once,
## and the measurements 40 for the float bundles alone; last line: one JSON object).
## BENCH_MODELS=blip-base measures fewer; VARIANTS="" leaves the variants out.
MODELS_DIR := build/models
REAL_MODELS := mplug-large clip-vit-b-32 clip-vit-l-14-336 blip-base
BENCH_MODELS ?= $(REAL_MODELS)
VARIANTS ?= opt int8
EXPORT := $(PYENV) $(PYTHON) -m
$(MODELS_DIR)/%-opt/model.json: $(MODELS_DIR)/%/model.json
	$(EXPORT) export.precision --bundle $(<D) --out $(@D) --precision fp32
$(MODELS_DIR)/%-int8/model.json: $(MODELS_DIR)/%/model.json
	$(EXPORT) export.precision --bundle $(<D) --out $(@D) --precision int8
$(MODELS_DIR)/mplug-large/model.json:
	$(EXPORT) export.mplug --random-init --arch large --out $(@D)
$(MODELS_DIR)/clip-vit-b-32/model.json:
	$(EXPORT) export.clip --random-init --arch ViT-B/32 --out $(@D)
$(MODELS_DIR)/clip-vit-l-14-336/model.json:
	$(EXPORT) export.clip --random-init --arch ViT-L/14@336 --out $(@D)
$(MODELS_DIR)/blip-base/model.json:
	$(EXPORT) export.blip --random-init --arch base --out $(@D)

BENCH_BUNDLES = $(foreach m,$(BENCH_MODELS),$(m) $(foreach v,$(VARIANTS),$(m)-$(v)))
bench-models: setup $(foreach m,$(BENCH_BUNDLES),$(MODELS_DIR)/$(m)/model.json)
	$(GO) build -o $(BIN)/ ./cmd/searcher ./lab/cmd/modelbench
	@for m in $(BENCH_BUNDLES); do \
		$(BIN)/searcher verify-model --json $(MODELS_DIR)/$$m > $(MODELS_DIR)/verify-$$m.json || exit 1; \
		$(PYTHON) -c 'import json,sys; r=json.load(open(sys.argv[1])); print("verify-model %s (%s): ok %s, min cosine %.7f, max embed abs %.2g, max itm logit abs %s, max p_match abs %s" % (r["model"], r["precision"], r["ok"], r["min_cosine"], r["max_embed_abs"], r["max_itm_logit_abs"], r["max_p_match_abs"]))' $(MODELS_DIR)/verify-$$m.json; \
	done
	$(BIN)/modelbench --out $(MODELS_DIR)/bench.json $(addprefix $(MODELS_DIR)/,$(BENCH_BUNDLES))

## bench-server: 1,000 text searches at concurrency 8 through the real HTTP server (loopback, rate
## limit off) on 10,000 indexed scenes, real text encoder and ITM rerank: throughput and p50/p99
## (last line: one JSON object). The gallery and index in build/bench-server are reused.
bench-server: setup build
	@if [ ! -f $(BENCH_SERVER_DIR)/gallery/captions.json ]; then \
		$(BIN)/scenes generate --n 10000 --seed 11 --size 128 --out $(BENCH_SERVER_DIR)/gallery; fi
	$(BIN)/indexer add --data $(BENCH_SERVER_DIR)/data $(BENCH_SERVER_DIR)/gallery/images
	$(BIN)/loadgen --data $(BENCH_SERVER_DIR)/data --n 1000 --concurrency 8 \
		--queries $(BENCH_SERVER_DIR)/gallery/captions.json $(ARGS)

## bench-server-attack: bench-server's load twice in one run, alone and beside two clients sending crafted
## uploads in a loop (JPEG scan bombs, 16-bit PNG bombs, a stalled upload): the well-behaved searches' p50/p99
## and errors, the bombs' answers and the peak RSS; last line: {"alone": {...}, "attacked": {...}, "p99_ratio"}
bench-server-attack: setup build
	@if [ ! -f $(BENCH_SERVER_DIR)/gallery/captions.json ]; then \
		$(BIN)/scenes generate --n 10000 --seed 11 --size 128 --out $(BENCH_SERVER_DIR)/gallery; fi
	$(BIN)/indexer add --data $(BENCH_SERVER_DIR)/data $(BENCH_SERVER_DIR)/gallery/images
	@set -o pipefail; mkdir -p build; \
	$(BIN)/loadgen --data $(BENCH_SERVER_DIR)/data --n 2000 --concurrency 8 \
		--queries $(BENCH_SERVER_DIR)/gallery/captions.json $(ARGS) | tee build/bench-server-alone.txt && \
	$(BIN)/loadgen --data $(BENCH_SERVER_DIR)/data --n 2000 --concurrency 8 --hostile 2 \
		--queries $(BENCH_SERVER_DIR)/gallery/captions.json $(ARGS) | tee build/bench-server-attacked.txt && \
	/usr/bin/python3 -c 'import json,sys; a,b=(json.loads(open(f).read().strip().splitlines()[-1]) for f in sys.argv[1:]); print(json.dumps({"alone": a, "attacked": b, "p99_ratio": round(b["p99_ms"]/a["p99_ms"], 2)}))' \
		build/bench-server-alone.txt build/bench-server-attacked.txt

## weaviate-server: Weaviate's server built from the Go module proxy into the per-user cache shared by
## every clone, ~/.cache/glimpse (once per machine: about 3 minutes on an idle machine, much longer on a
## busy one; outside go.mod)
GLIMPSE_CACHE_HOME ?= $(HOME)/.cache/glimpse
WEAVIATE_VERSION := v1.35.2
WEAVIATE_SERVER := $(GLIMPSE_CACHE_HOME)/weaviate-$(WEAVIATE_VERSION)/weaviate-server
.PHONY: weaviate-server test-cluster bench-cluster
weaviate-server: $(WEAVIATE_SERVER)
$(WEAVIATE_SERVER):
	GOBIN=$(@D) nice -n 19 $(GO) install github.com/weaviate/weaviate/cmd/weaviate-server@$(WEAVIATE_VERSION)

## test-cluster: the Weaviate backend against real servers: one node (every collection operation)
## and the 3-node fault test (20,000 generated images through `indexer add --store`, kill -9 of a
## node while searching, indexing with it down, restart and catch-up, recall against brute force
## and the embedded backend); `make test` runs it. CLUSTER_IMAGES=N indexes fewer.
## The generated scenes are kept in the per-user cache too (deterministic; reruns and other clones reuse them).
CLUSTER_IMAGES ?= 20000
test-cluster: setup weaviate-server
	@mkdir -p build
	@$(GO) build -o $(TESTSUM) ./lab/cmd/testsum
	set -o pipefail; GLIMPSE_WEAVIATE_SERVER=$(WEAVIATE_SERVER) GLIMPSE_CLUSTER_IMAGES=$(CLUSTER_IMAGES) \
		GLIMPSE_CLUSTER_SCENES=$(GLIMPSE_CACHE_HOME)/cluster-scenes-$(CLUSTER_IMAGES) \
		GLIMPSE_CLUSTER_REPORT=$(CURDIR)/build/cluster-report.json nice -n 19 \
		$(GO) test -json -count=1 -timeout 15m -run '^(TestCollectionOneNode|TestClusterFault)$$' ./store/weaviate/ ./cmd/indexer/ \
		| $(TESTSUM) -v -suite cluster -o $(TEST_SUMMARY)/cluster.txt

## bench-cluster: the vector backends on the ANN benchmark's 100k x 256 vectors, through the store as
## the indexer and searcher use it: embedded, one Weaviate node, a 3-node cluster (replicas 3,
## QUORUM): ingestion vectors/s, recall@10, QPS with 1 and 8 clients (last line: one JSON object)
bench-cluster: weaviate-server
	@mkdir -p build
	nice -n 19 $(GO) run ./lab/cmd/annbench backends --weaviate-server $(WEAVIATE_SERVER) $(ARGS)

clean:
	rm -rf $(BIN) build
