package main

import (
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli/clitest"
)

// TestREADMEUsage: README.md lists the server's usage line exactly as -h prints it.
func TestREADMEUsage(t *testing.T) {
	clitest.CheckREADME(t, "../../README.md", "server", usageServe)
}
