package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRunDispatch(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		wantUsage bool
		wantOut   string
	}{
		{"no command", nil, true, ""},
		{"unknown command", []string{"index"}, true, ""},
		{"help", []string{"help"}, false, "verify-model"},
		{"--help lists score", []string{"--help"}, false, "score --image FILE"},
		{"help names the env var", []string{"-h"}, false, envORTLib},
		{"bad flag", []string{"score", "--nope"}, true, ""},
		{"verify-model too many args", []string{"verify-model", "a", "b"}, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), tc.args, &out, &errOut)
			var ue *UsageError
			if got := errors.As(err, &ue); got != tc.wantUsage {
				t.Fatalf("Run(%q) = %v; usage error %v, want %v", tc.args, err, got, tc.wantUsage)
			}
			if !tc.wantUsage && err != nil {
				t.Fatalf("Run(%q) = %v", tc.args, err)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q does not contain %q", out.String(), tc.wantOut)
			}
		})
	}
}
