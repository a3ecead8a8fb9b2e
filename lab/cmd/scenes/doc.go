// Command scenes generates deterministic compositional-scene datasets.
//
// Usage:
//
//	scenes generate --n N --seed S --out DIR [--size PX] [--format png|jpeg]
//	                [--twins] [--split NAME] [--negatives K] [--start I]
//	                [--captions short|full|both]
//
// It writes DIR/images/<filename> and a Karpathy-style DIR/captions.json
// (see package github.com/glimpse-search/glimpse/lab/scene). --captions
// picks how single-object scenes are captioned (scene.Style); the scenes and
// images are the same in every style. Bad flags exit with status 2, other
// failures with status 1.
package main
