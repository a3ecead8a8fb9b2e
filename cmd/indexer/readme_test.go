package main

import (
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli/clitest"
)

// TestREADMEUsage: README.md lists every subcommand's usage line exactly as -h prints it.
func TestREADMEUsage(t *testing.T) {
	var usages []string
	for _, c := range program.Commands {
		usages = append(usages, c.Usage)
	}
	clitest.CheckREADME(t, "../../README.md", "indexer", usages...)
}
