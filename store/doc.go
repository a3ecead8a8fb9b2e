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
// pages (little-endian float32), and one value per node (level and
// neighbour lists). A batch is one transaction, so after a crash the
// reopened index holds exactly the committed batches, and opening never
// rebuilds the graph.
//
// Layout (bucket / key -> value):
//
//	meta / schema, next_image, next_text, next_content
//	images / id(be64) -> ImageRecord      paths / path -> id
//	contents / sha256 -> content id       texts / id(be64) -> TextRecord
//	ns / <name> / meta / model, dim, bundle
//	ns / <name> / img|txt / graph -> slots, entry, level, M, chunk
//	                        vec / chunk(be32) -> chunk*dim float32
//	                        node / slot(be32) -> hnsw node encoding
//
// A DB is safe for concurrent use: reads and searches run in parallel;
// writes are serialised.
package store
