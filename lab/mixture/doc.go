// Package mixture draws synthetic, embedding-like unit vectors: the recipe of the ANN benchmark
// (shared/ann/gen_data.py: 2,000 clusters of varying size and spread around a shared low-rank
// subspace). Real image and text embeddings are clustered like this; vectors drawn uniformly on
// the sphere are not, and they are the worst case of a graph index (every point about as far as
// every other), so the benchmarks that need vectors at a scale the encoders cannot fill in time
// (lab/cmd/annbench, the searcher's query benchmark) draw them from here.
package mixture
