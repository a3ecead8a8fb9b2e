// Package immich turns a CLIP model published as ONNX in immich's layout (the Hugging Face
// repositories immich-app/<model>: config.json, visual/model.onnx with its preprocess_cfg.json,
// textual/model.onnx with its tokenizer files) into a Glimpse bundle, in Go: the graphs are
// used as published, and the manifest maps their tensor names and fixed batch onto the bundle
// contract and describes the preprocessing and tokenization of open_clip, the package the
// models come from.
package immich
