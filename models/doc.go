// Package models embeds Glimpse's default model bundle, tiny-scenes, so that every binary runs
// from any directory without downloading anything; keeps the store of installed models
// ([Store]: one bundle folder per name, installed by an atomic rename); and holds the
// catalogue of the published checkpoints `models pull` turns into bundles ([Catalog]).
//
// A bundle is a folder with a manifest (model.json), ONNX graphs, tokenizer files and golden
// outputs; docs/models.md is its contract. Loading and validating a bundle's graphs is the job
// of package encoder.
package models
