package main

import "github.com/glimpse-search/glimpse/lab/mixture"

// dataDim is the benchmark vectors' dimension (shared/ann/gen_data.py's recipe, drawn by
// package mixture: the same distribution, not the same numbers as numpy).
const dataDim = 256

func newMixture(seed uint64) *mixture.Mixture { return mixture.New(dataDim, seed) }
