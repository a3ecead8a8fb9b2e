package main

import (
	"testing"

	"github.com/glimpse-search/glimpse/internal/cli/clitest"
)

// TestREADMEUsage: the README's usage lines of models are the binary's.
func TestREADMEUsage(t *testing.T) { clitest.CheckProgramREADME(t, "../../README.md", program) }
