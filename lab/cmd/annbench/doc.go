// Command annbench compares Glimpse's HNSW (store/hnsw persisted in
// store.DB) with hnswlib, faiss (HNSW), coder/hnsw v0.6.1 and brute force on
// a synthetic, embedding-like clustered dataset.
//
// Usage:
//
//	annbench [--n 100000] [--queries 1000] [--quick] [--million | --million-only]
//	         [--efs 10,20,40,80,160] [--peers-python /usr/bin/python3] [--no-peers]
//	         [--no-coder] [--seed S] [--repeat 3] [--dir DIR]
//
// The dataset follows shared/ann/gen_data.py (K=2000 clusters with
// lognormal weights, a shared 32-d low-rank subspace, per-cluster 24-d
// anisotropic bases, d=256, L2-normalised), generated in Go with a fixed
// seed; exact top-10 ground truth comes from a multi-threaded brute force.
// Searches are single-threaded, one query at a time; M=16,
// efConstruction=200. hnswlib and faiss run through peers.py (Debian
// python3-hnswlib, python3-faiss); without them they are reported as
// skipped. --quick uses 20,000 vectors; --million adds a 1M-vector run of
// ours only (f32 and int8 over one file), --million-only runs just that.
//
// Ours is built as the indexer builds: batches of 1000, one bbolt
// transaction each, then store.CompactFile once; build_s includes both.
// For each build it reports the file size before and after CompactFile,
// the ratio to the raw data (float32 vectors plus the encoded graph) and
// where the bytes go (store.Space). It prints a table, and as its last
// line one JSON object with every result and the machine's load average.
package main
