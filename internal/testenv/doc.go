// Package testenv decides what a test does when a prerequisite outside the repository is missing
// (Chromium for the browser tests, a Linux /proc): alone, `go test` skips it and says why; under
// `make test`, which installs every prerequisite and sets GLIMPSE_REQUIRE_ALL=1, the same test
// fails, so a suite that should have run in full never passes with parts silently left out.
//
// Skips that are not about a missing prerequisite (-short, a child process of another test, a
// benchmark report that runs only with GLIMPSE_BENCH=1) call t.Skip as usual.
package testenv
