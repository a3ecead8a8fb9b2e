// Package store is Glimpse's on-disk catalogue: image and text records and
// their embeddings, in one bbolt file.
//
// Records (ImageRecord, TextRecord) are global. Embeddings live in a
// Namespace per model (name, dimension, bundle hash recorded in the
// namespace's meta; a different model is refused with ErrModelMismatch, so
// vectors of two models are never mixed). Images with the same content
// hash share one embedding, keyed by a content id.
//
// Each namespace holds two HNSW graphs (package store/hnsw), one over image
// contents and one over texts. A graph is persisted in the same bbolt
// transaction as the batch that changed it: vectors in chunks of whole
// pages (little-endian float32), neighbour lists in chunks of 256 nodes,
// and the nodes a batch changed in older chunks in a log that later
// batches sweep back into the chunks (see collection). A batch is one
// transaction, so after a crash the reopened index holds exactly the
// committed batches, and opening never rebuilds the graph. CompactFile
// squeezes out the free pages a bulk build leaves behind.
//
// Layout (bucket / key -> value), schema 2:
//
//	meta / schema, next_image, next_text, next_content
//	images / id(be64) -> ImageRecord      paths / path -> id
//	contents / sha256 -> content id       texts / id(be64) -> TextRecord
//	ns / <name> / meta / model, dim, bundle
//	ns / <name> / img|txt / graph -> slots, entry, level, M, chunk sizes, write seq, sweep
//	                        vec / chunk(be32) -> chunk*dim float32
//	                        adj / chunk(be32) -> write seq, count, 256 hnsw node encodings
//	                        log / seq(be64) part(be32) -> (slot, hnsw node encoding)...
//
// Where the image vectors live is the DB's Backend (backend.go): by default
// the graphs above (embedded); with OpenBackend("weaviate://...") a Weaviate
// collection per namespace (package store/weaviate), the records, texts and
// text vectors staying in the file. Backend documents the consistency rule
// between the two (vectors written first, records committed after;
// Namespace.Reconcile removes what a failure left behind).
//
// A DB is safe for concurrent use: reads and searches run in parallel;
// writes are serialised.
package store
