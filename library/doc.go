// Package library is a Glimpse data dir: the one place that knows its layout and its lock.
//
//	DIR/glimpse.db        the database (package store): records, embeddings, graphs
//	DIR/glimpse.db.lock   the lock every process takes before opening it
//	DIR/thumbs/ab/<sha256>.jpg   thumbnails, keyed by content
//	DIR/tokens/<model>/<id>.f16  the rerank's token cache, per namespace and bundle
//	DIR/copies/<model>/<id>.jpg  model-resolution copies of photos, per namespace and bundle
//	DIR/last-run.json     the summary of the latest indexing run
//
// [Open] opens a data dir for writing (the indexer, the server) or, with Options.ReadOnly, for
// reading beside other readers (searching from the command line). [ModelInfo] identifies a
// model bundle for the store's namespaces. A library is maintained in place: [Library.Remove]
// drops records with their thumbnails, [Compact] rewrites the database without its free
// pages, [Library.Backup] writes a consistent archive while it is in use, and [Restore] reads
// one back into a new dir.
//
// Package indexer writes photos into a library and package searcher reads from one; neither
// knows the file layout. Which dir to open (flags, GLIMPSE_DATA, DefaultDir) is the binaries'
// business: this package reads no environment.
package library
