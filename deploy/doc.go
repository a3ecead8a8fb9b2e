// Package deploy checks Glimpse's container files at the repository root: the Dockerfile (a
// cgo build stage and a slim non-root runtime stage with ONNX Runtime), docker-compose.yml (the
// server, its data volume, the read-only photos mount and the gpu profile) and .dockerignore.
//
// It has no code of its own: its tests parse the files (no Docker engine is needed) and check
// their structure against what the server and the indexer need, so that a change to the
// binaries' flags or to the files breaks `go test` rather than a deployment.
package deploy
