// Package client talks to a running Glimpse server over its REST API with plain net/http: it
// finds the server that owns a data dir through the data dir's server.json, hands it indexing
// jobs and follows their progress. It also defines the wire types those calls exchange
// ([IndexRequest], [Job], [Progress], [ErrorBody]), which the server (package web) encodes, so
// the two sides cannot drift apart.
//
// A server writes DATA/server.json ([ServerFile]: URL, pid, a random instance id) once it
// listens and removes it when it stops. A file left by a server that crashed is stale:
// [Discover] tells a live server from a stale file by the pid and by asking the server's
// /healthz for the same instance id.
//
// The package never imports the web framework, so the indexer binary stays free of it.
package client
