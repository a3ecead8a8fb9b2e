package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// envChild marks the child process of TestMissing: it runs TestMissingChild alone.
const envChild = "GLIMPSE_TESTENV_CHILD"

// TestMissingChild is the child process of TestMissing; run alone it does nothing.
func TestMissingChild(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		return
	}
	Missing(t, "no %s found", "tool")
}

// TestMissing runs TestMissingChild in a child process with and without GLIMPSE_REQUIRE_ALL=1:
// it must skip with the reason, or fail with it.
func TestMissing(t *testing.T) {
	tests := []struct {
		name       string
		requireAll string
		wantErr    bool
		want       string
	}{
		{"skips alone", "", false, "--- SKIP: TestMissingChild"},
		{"skips unless 1", "0", false, "--- SKIP: TestMissingChild"},
		{"fails under make test", "1", true, "--- FAIL: TestMissingChild"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMissingChild$", "-test.v")
			cmd.Env = append(os.Environ(), envChild+"=1", EnvRequireAll+"="+tt.requireAll)
			out, err := cmd.CombinedOutput()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v; output:\n%s", err, tt.wantErr, out)
			}
			for _, w := range []string{tt.want, "no tool found"} {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
