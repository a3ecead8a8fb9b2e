// Package cli is the plumbing every Glimpse binary shares, written once: the process entry
// ([Main]: signals, the error line, exit status 2 for a [UsageError]), subcommand dispatch,
// flag sets that print their usage, the environment variables and their help lines, the data
// dir, the model flags and bundle opening, and the vector-store flags.
//
// It is the only package that reads the environment: the libraries beneath it take every
// setting as an argument.
package cli
