"""Recovers a tiny-scenes training checkpoint from an exported bundle's ONNX graphs.

    PYTHONPATH=tools /usr/bin/python3 -m vlm.recover --bundle models/tiny-scenes --out build/tiny-scenes/stage4.pt

A bundle holds every weight the three graphs use, but under the exporter's names: a linear
layer's weight is a transposed MatMul initializer ("onnx::MatMul_812"). The names are fixed by
the export code, so exporting a model of the same configuration whose every parameter holds
distinct random values tells which initializer is which parameter (and whether it is
transposed); the bundle's initializers of those names are then the weights. What the graphs do
not use is not in a bundle: the training-only heads (the per-patch head, restored from its frozen
copy inside the verifier; the masked-word head, left out) and the ITC temperature (set to
--temperature). Re-exporting the recovered checkpoint gives byte-identical graphs (the check
runs unless --no-check), so a later stage can start from a shipped bundle exactly as it would
from the checkpoint it was exported from.
"""
import argparse
import os
import shutil
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .export_tiny import export_graphs
from .tiny_model import Config, TinyScenes
from .train_tiny import VOCAB
from .wordpiece import WordPiece

GRAPHS = ("vision", "text", "itm")


def export(model, cfg, out):
    """The three graphs of model into out, as export_tiny writes them."""
    export_graphs(model, cfg, WordPiece(VOCAB, cfg.max_len), out)


def initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def recover(bundle_dir, cfg, temperature=0.02):
    """The checkpoint ({"config", "rows", "state"}) whose export is the bundle's graphs."""
    shipped = {g: initializers(os.path.join(bundle_dir, f"{g}.onnx")) for g in GRAPHS}
    rows = torch.from_numpy(shipped["text"]["m.text.rows"].astype(np.int64))
    probe = TinyScenes(cfg, rows).eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in probe.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    params = {k: v.detach().numpy() for k, v in probe.named_parameters()}
    by_value = {}
    for k, v in params.items():
        by_value.setdefault(v.tobytes(), (k, False))
        if v.ndim == 2:
            by_value.setdefault(np.ascontiguousarray(v.T).tobytes(), (k, True))
    tmp = tempfile.mkdtemp()
    try:
        export(probe, cfg, tmp)
        state = {}
        for g in GRAPHS:
            for name, v in initializers(os.path.join(tmp, f"{g}.onnx")).items():
                hit = by_value.get(np.ascontiguousarray(v).tobytes())
                if hit is None:
                    continue  # a buffer (rows, patch centres) or a constant of the graph
                k, transposed = hit
                w = shipped[g][name]
                w = w.T if transposed else w
                if w.shape != params[k].shape:  # a [1, n] weight reads the same both ways
                    w = w.T
                state[k] = torch.from_numpy(np.ascontiguousarray(w))
    finally:
        shutil.rmtree(tmp)
    state["patch_head.weight"] = state["fusion.verifier.attr.weight"].clone()
    state["patch_head.bias"] = state["fusion.verifier.attr.bias"].clone()
    state["logit_scale"] = torch.tensor(float(np.log(1 / temperature)))
    missing = [k for k in params if k not in state and not k.startswith("mlm_head.")]
    if missing:
        raise ValueError(f"{bundle_dir}: no weights found for {missing}")
    model = TinyScenes(cfg, rows)
    model.load_state_dict(state, strict=False)
    return {"config": cfg.to_dict(), "rows": rows, "state": model.state_dict(),
            "args": {"recovered_from": bundle_dir}, "step": 0, "train_seconds": 0.0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="models/tiny-scenes")
    ap.add_argument("--out", required=True)
    ap.add_argument("--temperature", type=float, default=0.02, help="the ITC temperature (not in a bundle)")
    ap.add_argument("--no-check", action="store_true", help="skip the re-export check")
    args = ap.parse_args(argv)
    import json
    with open(os.path.join(args.bundle, "model.json")) as f:
        cfg = Config(**json.load(f)["training"]["config"])
    ck = recover(args.bundle, cfg, args.temperature)
    if not args.no_check:
        model = TinyScenes(cfg, ck["rows"])
        model.load_state_dict(ck["state"])
        tmp = tempfile.mkdtemp()
        try:
            export(model.eval(), cfg, tmp)
            for g in GRAPHS:
                with open(os.path.join(tmp, f"{g}.onnx"), "rb") as a, open(os.path.join(args.bundle, f"{g}.onnx"), "rb") as b:
                    if a.read() != b.read():
                        raise SystemExit(f"{args.bundle}: the recovered weights export another {g}.onnx")
        finally:
            shutil.rmtree(tmp)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(ck, args.out + ".tmp")
    os.replace(args.out + ".tmp", args.out)
    print(json.dumps({"out": args.out, "bundle": args.bundle, "checked": not args.no_check}))


if __name__ == "__main__":
    main()
