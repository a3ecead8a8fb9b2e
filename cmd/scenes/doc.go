// Command scenes generates deterministic compositional-scene datasets.
//
// Usage:
//
//	scenes generate --n N --seed S --out DIR [--size PX] [--format png|jpeg]
//	                [--twins] [--split NAME] [--negatives K] [--start I]
//
// It writes DIR/images/<filename> and a Karpathy-style DIR/captions.json
// (see package github.com/glimpse-search/glimpse/tools/scene). Bad flags
// exit with status 2, other failures with status 1.
package main
