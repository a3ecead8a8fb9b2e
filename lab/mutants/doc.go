// Command mutants checks that the test suite can fail: it applies each deliberate bug of a fixed
// list (list.go) alone to a scratch copy of the working tree, runs the tests of the packages the
// bug lives in, and reports whether they caught it. `make mutants` runs it; it exits 1 when a bug
// survives (the tests passed with it), when a bug no longer applies (its code changed: the list
// must follow the code) or when a mutated tree does not compile (a bug must be a plausible one).
//
//	go run ./lab/mutants [--only NAME,...] [--list] [--timeout 10m]
//
// The scratch copy holds the files git tracks or would track (untracked, not ignored ones
// included) and a link to the repository's .cache, where `make setup` keeps ONNX Runtime. The
// last line printed is one JSON object: {"mutants": N, "killed": K, "survived": [...],
// "invalid": [...], "seconds": S}.
package main
