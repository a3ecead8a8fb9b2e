// Package hub downloads model repositories from the Hugging Face hub, or from ModelScope, into a
// local folder: a Client lists a repository at a revision (files, sizes, digests, the commit the
// revision resolved to) and fetches the files it is asked for.
//
// A download is safe to interrupt and repeat. Each file streams to "<file>.incomplete" next to
// its place, which a later download resumes with an HTTP Range request; it is verified against
// the digest the hub publishes (the LFS sha256, the git blob id of a small file, ModelScope's
// sha256), synced, and only then renamed into place, so a file at its final path is always
// whole and verified. A file already in place with the right digest is not downloaded again.
// Before the first byte, the bytes still needed are checked against the destination's free space.
//
// Errors wrap the package's sentinels (ErrNotFound, ErrUnreachable, ErrTimeout, ErrChecksum,
// ErrNoSpace, ...) with what failed: the repository, the file, the URL that could not be
// reached. Transient failures (no connection, HTTP 429 and 5xx, a transfer cut short or stalled
// for Options.IdleTimeout) are retried with exponential backoff.
//
// The hubs' protocols are their client libraries' (huggingface_hub, modelscope); see
// huggingface.go and modelscope.go. Package hub/hubtest serves the same protocols from memory,
// with injected faults, for tests.
package hub
