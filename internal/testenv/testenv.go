package testenv

import (
	"fmt"
	"os"
	"testing"
)

// EnvRequireAll is the variable that turns Missing's skips into failures when it is "1".
// `make test` sets it.
const EnvRequireAll = "GLIMPSE_REQUIRE_ALL"

// Missing reports that a prerequisite of tb is missing, format and args saying which and how
// to get it: it skips tb with that reason, or fails it when GLIMPSE_REQUIRE_ALL=1. Either way
// tb stops (runtime.Goexit), so call it from the test's goroutine.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(EnvRequireAll) == "1" {
		tb.Fatalf("%s (%s=1: every prerequisite must be present)", msg, EnvRequireAll)
	}
	tb.Skip(msg)
}
