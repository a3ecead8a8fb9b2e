// Command testsum reads the output of `go test -json` on stdin and turns it into what a person
// wants from a long run: one line per package as it finishes (ok or FAIL, with its counts), the
// full output of every failing test and of every package that fails to build, and at the end a
// summary of the suite: passed, failed and skipped counts, each skipped test with its reason, and
// the benchmark reports that were not run.
//
//	go test -json ./... | testsum -suite go -o build/test-summary/go.txt
//
// The summary's first line is the suite's one-line result; the lines below it, indented, list
// what failed and what was skipped. A skip whose reason names GLIMPSE_BENCH is a benchmark report
// (`make bench-*` runs it), not a skipped test, and is counted apart. A test counts as failed when
// it failed itself, not only through a failed subtest; a package that fails outside any test (a
// build error, TestMain, a crash) is listed too. testsum exits 1 when anything failed or no test
// result came in, so `set -o pipefail` is not needed to fail the build, though it is still wise.
//
// With -v it writes every line of the tests' output as it comes, like `go test -v`, and still
// ends with the summary. Lines on stdin that are not JSON events are copied through.
package main
