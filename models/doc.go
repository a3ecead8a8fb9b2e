// Package models embeds Glimpse's default model bundle, tiny-scenes, so that every binary runs
// from any directory without downloading anything.
//
// A bundle is a folder with a manifest (model.json), ONNX graphs, tokenizer files and golden
// outputs; docs/models.md is its contract. This package only carries the files: loading and
// validating a bundle is the job of package encoder.
package models
