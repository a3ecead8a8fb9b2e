"""Model bundles: the manifest, file hashes and golden outputs shared by every exporter.

The contract is written down in docs/models.md. An exporter builds three graphs (vision, text,
itm; itm is optional for dual encoders such as CLIP), copies the tokenizer files, writes
golden.json from the same PyTorch modules, then calls `finish` to hash every file into model.json.
"""
import hashlib
import json
import os

import numpy as np
import torch

SCHEMA_VERSION = 1
# verify-model's tolerance, written into every bundle: the Go runtime's defaults (encoder/manifest.go), a
# small multiple of what the exports measure (pixels 5e-7 from the goldens' rounding, JPEGs included since
# both sides decode with libjpeg-turbo; embeddings 1 - 1e-11; ITM logits 1e-5; p_match 1e-6)
DEFAULT_TOLERANCE = {"pixel_abs": 1e-4, "pixel_abs_jpeg": 1e-3, "embed_cosine": 0.9999, "itm_logit_abs": 1e-3,
                     "p_match_abs": 1e-4}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_graph(module, args, path, input_names, output_names, dynamic_axes, opset=14):
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))


def rounded(x, nd=6):
    return [round(float(v), nd) for v in np.asarray(x).reshape(-1)]


def pixel_golden(pix):
    """Statistics and a slice of one preprocessed image [3,S,S]."""
    pix = np.asarray(pix)
    s = pix.shape[-1]
    return {"shape": list(pix.shape), "mean": round(float(pix.mean()), 6), "std": round(float(pix.std()), 6),
            "min": round(float(pix.min()), 6), "max": round(float(pix.max()), 6),
            "slice": {"channel": 0, "row": s // 2, "values": rounded(pix[0, s // 2])},
            "channel_means": rounded(pix.reshape(3, -1).mean(1))}


def finish(out_dir, manifest):
    """Writes model.json with the sha256 of every other file in the bundle."""
    files = {}
    for root, _, names in os.walk(out_dir):
        for n in sorted(names):
            rel = os.path.relpath(os.path.join(root, n), out_dir)
            if rel != "model.json":
                files[rel] = sha256(os.path.join(root, n))
    manifest = dict(manifest, schema_version=SCHEMA_VERSION, files=dict(sorted(files.items())))
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return manifest
