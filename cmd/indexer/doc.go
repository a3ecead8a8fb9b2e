// Command indexer adds photo libraries and text corpora to a Glimpse data dir.
//
// Usage:
//
//	indexer <command> [flags]
//
// `indexer help` lists the commands with their usage lines (README.md shows the same lines, and a
// test keeps them equal); `indexer <command> -h` lists a command's flags.
//
// add walks the folders (hidden and system folders skipped, symlink loops followed once),
// recognises images by content, and indexes them: unchanged files are skipped, so rerunning
// after an interruption (Ctrl-C stops after the current batch; even kill -9 is safe) finishes
// the job. Bad files are skipped or failed with a reason, counted in the summary and written to
// --report as JSON lines {"path","status","reason"}. A progress bar is drawn on a terminal;
// otherwise progress is logged every few seconds.
//
// When a server (cmd/server) owns the data dir, add finds it through DATA/server.json and hands
// it the job through its API (POST /api/v1/index) instead of opening the database, whose lock the
// server holds; it follows the job with the same progress and summary, and Ctrl-C cancels it.
// That needs a key of the server's --api-key-file: --api-key-file FILE (its first line) or
// $GLIMPSE_API_KEY. A server.json left behind by a server that is gone is ignored. With a server,
// --report lists the skipped and failed files.
//
// --store URL (default $GLIMPSE_STORE) says where the image vectors live: embedded (the default:
// HNSW graphs inside DATA/glimpse.db) or a Weaviate cluster, weaviate://HOST:PORT[,HOST:PORT...]
// [?grpc=HOST:PORT,...&replicas=N&shards=N&consistency=ONE|QUORUM|ALL] (see store.BackendConfig),
// with its API key in --store-key-file FILE (default $GLIMPSE_STORE_KEY_FILE). The records stay
// in DATA either way, and a library stays with the backend it was first indexed with; remove,
// status and add-texts take the same flags. Before indexing, add reconciles the backend with the
// records (orphan vectors deleted; records whose vector the backend lost dropped, so this run or
// the next re-embeds them). A backend that cannot be reached fails the command with its address.
//
// A bulk add's batches leave the database file several times its data (free pages, part-filled
// pages, a preallocated tail). When add wrote to a database it owns (not one handed to a
// server), it then compacts the file if it is over 1.3x its data (library.Compact: a copy
// fsynced and renamed over the file, so a crash leaves one whole file or the other) and prints
// the sizes. compact does the same on demand, whatever the ratio. status shows the file's size
// and its ratio to the vectors and graphs it holds.
//
// add stores each new image's ITM tokens, which the vision encoder computes beside its
// embedding, in the data dir's token cache (--tokens eager, the default when an image's tokens
// take at most 64 KiB, as the default model's 16.6 KiB do), so that the first query reranking
// it reads them instead of decoding the original again. --tokens copies (the default for larger
// tokens, such as a ViT-L's 0.9 MB) stores them while the cache has room (--cache-mb) and writes
// a model-resolution copy of each image, the model's input as a JPEG of a few dozen KiB, from
// which a query computes the tokens it does not find without decoding the original; --tokens
// lazy leaves everything to the query. A rerun fills
// the tokens or copies that are missing. A job handed to a running server takes the default.
// status counts the cached tokens and the copies.
//
// add-texts stores a corpus of texts (one per line, or JSON lines {"id","text"}) with their
// embeddings, the texts that image->text search ranks.
//
// Environment: GLIMPSE_DATA is the default data dir (else ./glimpse-data); GLIMPSE_ORT_LIB is
// the path of the ONNX Runtime library (default: the `make setup` cache). Bad flags exit with
// status 2, other failures with status 1.
package main
