// Package web is Glimpse's HTTP server: the REST API v1 under /api/v1 (JSON; errors as
// {"error":{"code","message"}}; described by the OpenAPI 3 document it serves at
// /api/v1/openapi.json), the browser interface (package web/ui) at /, and /healthz, /readyz
// and /metrics (Prometheus text).
//
// A [Server] owns an open data dir (a library.Library, whose database lock it holds) and a
// model. It answers searches through a searcher.Searcher and runs indexing jobs in the same
// process, one at a time, so `indexer add` hands its work to a running server (package
// web/client) instead of failing on the lock.
//
// Untrusted input first: images and thumbnails are looked up by id in the database, never by a
// path from a request, and answers do not show server paths (a hit's file and a text's source
// file by base name only); bodies and uploads are capped (413); every request has a deadline;
// search, search/image, score and explain are rate limited per client address and bounded in
// concurrency; writes (texts, index jobs, deletes) need an API key, kept as sha256 digests and
// compared in constant time; CORS is off unless origins are configured.
//
// The web framework (echo) stays inside this package: callers get an http.Handler.
package web
