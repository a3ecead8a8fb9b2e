// Command server runs Glimpse's web server: the REST API v1 and the browser interface over one
// data dir (package web).
//
// Usage:
//
//	server [flags]
//
// `server -h` lists the flags (README.md shows the usage line, and a test keeps it equal).
//
// The server binds to loopback unless --addr says otherwise, holds the data dir's database
// (so `indexer add` hands it its jobs through the API, finding it by DATA/server.json, written
// once the server listens and removed when it stops), logs one structured line per request,
// and shuts down gracefully on SIGINT or SIGTERM: in-flight requests finish, index jobs commit
// the batch under way. Writes (texts, index jobs, deletes) need a key from --api-key-file (one
// key per line, sent as "Authorization: Bearer KEY"); with --read-key-file every read needs a key
// too. Requests that name another host than an IP address, localhost or an --allowed-host are
// refused (DNS rebinding). docs/operations.md says how to expose a server safely.
//
// lab/cmd/loadgen measures a server under load (`make bench-server`).
//
// Environment: GLIMPSE_DATA is the default data dir (else ./glimpse-data); GLIMPSE_ORT_LIB the
// ONNX Runtime library. Bad flags exit with status 2, other failures with status 1.
package main
