package main

import "github.com/glimpse-search/glimpse/internal/cli"

func main() { cli.Main("models", Run) }
