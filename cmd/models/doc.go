// Command models installs and manages the model bundles Glimpse's binaries run.
//
// Usage:
//
//	models <command> [flags]
//
// list shows the embedded default (tiny-scenes), the installed models and the catalogue's
// (models/catalog.json) with family, precision, whether an ITM head reranks, size, licence and
// source. pull NAME downloads a catalogue model's checkpoint from its hub (Hugging Face or
// ModelScope; a mirror with --endpoint, $HF_ENDPOINT or $MODELSCOPE_ENDPOINT), resuming a
// transfer cut short and checking every file against the sha256 the hub publishes, after a
// check of the free disk space; exports it with the family's exporter in the tooling's Python
// environment (`make venv`), which proves the export against the upstream package; checks it
// with the Go runtime (as `searcher verify-model`); and installs it in the store ($GLIMPSE_MODELS,
// else glimpse/models in the user's cache folder) by an atomic rename: a pull that fails
// installs nothing. Then every binary takes --model NAME. verify NAME runs verify-model on an
// installed model; rm NAME removes one.
package main
