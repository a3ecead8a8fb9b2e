// Package hnsw is an in-memory Hierarchical Navigable Small World graph
// (Malkov & Yashunin 2018) for maximum-inner-product search over
// L2-normalised float32 vectors.
//
// Vectors live in one flat []float32 (slot*dim), layer-0 neighbour lists in
// one flat []uint32 with 2M fixed slots per node, and upper layers in small
// per-node blocks of M slots. Neighbours are chosen with the paper's
// heuristic (Algorithm 4). Deletion is a tombstone plus neighbour repair: a
// deleted node is still traversed but never returned; Compact rebuilds the
// graph without tombstones. Optional int8 scalar quantisation (per-dimension
// min/max, one byte per dimension) makes traversal read a quarter of the
// bytes: the query is quantised once per search and distances are integer
// dot products computed four per 64-bit multiply (quantize.go); the final
// candidates are always re-scored with the float vectors.
//
// The graph is persisted by its owner (package store): Dirty lists the
// slots changed since the last call, MarshalNode / AppendNodes encode
// nodes (self-delimiting, so many fit in one value), and BeginLoad /
// LoadNode / EndLoad rebuild an index from those encodings without
// re-inserting anything; a slot loaded twice keeps its last encoding.
//
// An Index is safe for many concurrent searches and one writer: searches
// take a read lock, Add / Delete / Compact a write lock.
package hnsw
