// Command searcher runs Glimpse's models and answers queries from the command line.
//
// Usage:
//
//	searcher <command> [flags]
//
// `searcher help` lists the commands with their usage lines (README.md shows the same lines, and a
// test keeps them equal); `searcher <command> -h` lists a command's flags.
//
// verify-model checks that the Go runtime reproduces a bundle's golden outputs (DIR, or the
// embedded default model tiny-scenes) and exits with status 1 past the bundle's tolerance;
// --json prints the checks and the worst figure of each kind as one JSON object. A query on a
// model without an ITM head (CLIP) ranks by the embeddings and says so in a note.
// score prints the image-text match probabilities {"scores": [p_no_match, p_match]}.
//
// query, similar and caption search the index of a data dir (--data, default $GLIMPSE_DATA,
// else ./glimpse-data) built by `indexer add` with the same model (--model). query and caption
// take the top --k candidates by the embeddings (default 128) and rerank them with the model's
// image-text-matching head; results (images for query, texts for caption) whose match
// probability is below --min-score (default the bundle's match_threshold, 0.5) are dropped, so
// an empty answer with a reason is possible (no_confident_match in --json when candidates were
// reranked and none reached the threshold); --min-score 0 turns the threshold off.
// --limit and --offset page through the ranked list; --json prints the whole result with
// per-stage timings in milliseconds. similar ranks by the embeddings alone. explain writes a heat
// map of the ITM head's cross-attention over the image. eval indexes a Karpathy-format dataset
// into a temporary data dir and prints the Flickr30k recalls (TR@1/5/10, IR@1/5/10, r_mean) of
// the embeddings alone and with the rerank.
//
// Environment: GLIMPSE_ORT_LIB is the path of the ONNX Runtime library (libonnxruntime.so.1);
// by default the `make setup` cache is searched upward from the working and executable
// directories. GLIMPSE_DATA is the default data dir. GLIMPSE_STORE and GLIMPSE_STORE_KEY_FILE are
// the defaults of --store and --store-key-file: the vector backend a library was indexed into
// (embedded, or weaviate://HOST:PORT...; see cmd/indexer), for query, similar, caption and explain. Bad flags exit with status 2, other
// failures with status 1.
package main
