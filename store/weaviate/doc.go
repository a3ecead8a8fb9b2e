// Package weaviate keeps image vectors in a Weaviate collection: Glimpse's
// stage-1 index on a distributed vector database, for libraries that
// outgrow one machine.
//
// A [Collection] is one Weaviate class holding one object per image: the
// image's vector (brought by Glimpse, no Weaviate vectorizer) and the two
// properties search filters need, the path (field-tokenised text, filtered
// by prefix) and the capture time (int, Unix microseconds, absent when
// unknown). Objects are keyed by a UUID derived from the image id
// ([UUID]), so every write is an idempotent upsert and a retried batch
// never duplicates anything.
//
// The records themselves (paths, hashes, sizes, EXIF) stay in Glimpse's
// bbolt file; package store decides what is written where and in which
// order. This package only talks to Weaviate: over gRPC for batches and
// searches, over REST for the schema, single objects and counts. Options.Hosts may
// list several nodes of a cluster; a request that cannot reach a node
// fails over to the next.
//
// A Collection is safe for concurrent use.
package weaviate
