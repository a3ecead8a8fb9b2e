package main

import (
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli/clitest"
)

// TestREADMEUsage: README.md lists every subcommand's usage line exactly as -h prints it.
func TestREADMEUsage(t *testing.T) { clitest.CheckProgramREADME(t, "../../README.md", program) }
