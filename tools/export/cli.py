"""The command line every exporter shares: checkpoint or --random-init, key check, bundle, checks.

A family module provides:
- PRESETS (named configs, with DEFAULT_ARCH), FAMILY, UPSTREAM (its tools/upstream family);
- read_source(path) -> source.Source: the checkpoint file or model folder read as the upstream loader
  reads it (key prefixes stripped, configuration files parsed);
- infer_config(src, args): the architecture from the folder's configuration and the tensor shapes
  (src is None for --random-init: args only);
- ignore(cfg): the documented groups of checkpoint keys the graphs do not use;
- prepare(state_dict, cfg): optional key renames before the strict load;
- build(cfg), spec(model, cfg, name, sections, src) and probe(model, cfg, spec, tokenizer, image, texts).
The last line printed is one JSON object summarising the export.

`--verify-upstream` loads the same checkpoint with the upstream package (tools/upstream) and
compares its outputs with the exported modules' on the bundle's golden inputs before the bundle
is written: pixels, token ids, embeddings, ITM logits and match probabilities. A failure leaves
no bundle and exits 1 with the comparison.
"""
import argparse
import dataclasses
import json
import os
import re
import shutil
import sys
import time

import numpy as np
import torch

from vlm import bundle

from . import keys, layers, precision, writer


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def parser(fam, doc):
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="the upstream checkpoint file, or the model folder as its hub publishes it")
    src.add_argument("--random-init", action="store_true",
                     help="build the architecture named by --arch with random weights (seeded)")
    ap.add_argument("--arch", default=fam.DEFAULT_ARCH, choices=sorted(fam.PRESETS),
                    help=f"architecture for --random-init (default {fam.DEFAULT_ARCH}); a checkpoint's is read from "
                         "its configuration and tensor shapes")
    ap.add_argument("--out", required=True, help="bundle folder (replaced once the export has succeeded)")
    ap.add_argument("--name", help="bundle name (default: family and architecture, '-random' for --random-init)")
    ap.add_argument("--seed", type=int, default=1234, help="seed of --random-init (default 1234)")
    ap.add_argument("--tokenizer-file", help="the tokenizer file to ship (default: the model folder's, else the "
                                             "family's copy in encoder/tokenizer/testdata)")
    ap.add_argument("--max-length", type=int, help="text length with special tokens (default: the family's)")
    ap.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                    help="also leave out checkpoint keys matching REGEX (reported as their own group)")
    ap.add_argument("--verify-upstream", action="store_true",
                    help="before writing, compare the export with the upstream package's own outputs on the golden "
                         "inputs (needs the upstream package; see tools/requirements.txt)")
    ap.add_argument("--precision", choices=("fp32", "int8"), default="fp32",
                    help="int8: quantise the weight matrix products after the float32 export (export.precision; the "
                         "goldens stay the float32 reference)")
    ap.add_argument("--optimise", action="store_true",
                    help="pass the graphs through ONNX Runtime's transformer optimiser (implied by --precision int8)")
    ap.add_argument("--probe-image", help="after export, print the PyTorch outputs for this image and --probe-text")
    ap.add_argument("--probe-text", nargs="+", default=[], help="texts for --probe-image")
    return ap


def arch_name(fam, cfg):
    """The preset whose config equals cfg, else 'custom'."""
    for name, preset in fam.PRESETS.items():
        if dataclasses.asdict(preset) == dataclasses.asdict(cfg):
            return name
    return "custom"


def main(fam, argv, name_prefix, doc):
    args = parser(fam, doc).parse_args(argv)
    t0 = time.time()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    torch.manual_seed(args.seed)
    src = None
    if args.random_init:
        if args.verify_upstream:
            raise SystemExit("--verify-upstream needs --checkpoint")
        cfg = dataclasses.replace(fam.PRESETS[args.arch])
        if args.max_length:
            if not hasattr(cfg, "max_length"):
                raise SystemExit(f"--max-length: {fam.FAMILY}'s text length is fixed by its position table")
            cfg = dataclasses.replace(cfg, max_length=args.max_length)
        model = layers.random_init(fam.build(cfg), args.seed)
        arch = args.arch
        source = {"random_init": {"seed": args.seed, "arch": arch,
                                  "note": "random weights: checks the runtime and measures cost, retrieves nothing"}}
    else:
        log(f"reading {args.checkpoint}")
        src = fam.read_source(args.checkpoint)
        cfg = fam.infer_config(src, args)
        sd = src.state_dict
        if hasattr(fam, "prepare"):
            sd = fam.prepare(sd, cfg)
        model = fam.build(cfg)
        report = keys.load_checked(model, sd, fam.ignore(cfg), args.ignore)
        src.state_dict = sd = None
        log("keys: " + json.dumps(report))
        arch = arch_name(fam, cfg)
        source = {"checkpoint": os.path.basename(src.weights), "sha256": bundle.sha256(src.weights),
                  "layout": fam.layout(src), "keys": report}
    model.eval()
    name = args.name or f"{name_prefix}-{slug(arch)}" + ("-random" if args.random_init else "")
    command = "PYTHONPATH=tools python -m " + fam.__name__ + " " + " ".join(sys.argv[1:] if argv is None else argv)
    spec = fam.spec(model, cfg, name, {"source": source, "export": {"command": command}}, src)
    check = None
    if args.verify_upstream:
        check = UpstreamCheck(fam, args.checkpoint, spec, log)
    tok_file = args.tokenizer_file or (fam.tokenizer_file(src) if src is not None else None)
    manifest = writer.write(spec, args.out, tok_file, log=log, check=check)
    summary = {"bundle": args.out, "name": name, "family": fam.FAMILY, "arch": arch,
               "parameters": manifest.get("parameters"),
               "bytes": sum(os.path.getsize(os.path.join(args.out, f)) for f in manifest["files"]),
               "seconds": round(time.time() - t0, 1)}
    if "keys" in source:
        summary["keys"] = {k: source["keys"][k] for k in ("checkpoint_keys", "loaded", "ignored")}
        summary["layout"] = source["layout"]
    if check is not None:
        summary["upstream"] = check.result
    if args.probe_image:
        tok_name = next(iter(manifest["text"]["files"].values()))
        tok, _ = writer.make_tokenizer(spec, os.path.join(args.out, tok_name))
        summary["probe"] = fam.probe(model, cfg, spec, tok, args.probe_image, args.probe_text)
    if args.precision != "fp32" or args.optimise:
        flt = args.out.rstrip("/") + ".float32"
        if os.path.isdir(flt):
            shutil.rmtree(flt)
        os.replace(args.out, flt)
        try:
            summary["precision"] = precision.convert(flt, args.out, args.precision, True, log=log)
        finally:
            shutil.rmtree(flt, ignore_errors=True)
        summary["bytes"] = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(args.out) for f in fs)
    print(json.dumps(summary))
    return summary


# Thresholds of --verify-upstream and of the parity harness (tools/parity): the export must
# reproduce upstream to these on every golden input.
UPSTREAM_LIMITS = {"min_cosine": 0.9999, "max_itm_diff": 1e-3, "max_p_diff": 1e-4, "max_pixel_diff": 0.02}


def compare(ours, ref):
    """Worst differences between two golden.json contents over the same inputs."""
    r = {"min_cosine": 1.0, "max_itm_diff": 0.0, "max_p_diff": 0.0, "max_pixel_diff": 0.0, "ids_equal": True}
    for a, b in zip(ours["images"], ref["images"]):
        x, y = np.asarray(a["image_embeds"]), np.asarray(b["image_embeds"])
        r["min_cosine"] = min(r["min_cosine"], float(x @ y / np.linalg.norm(x) / np.linalg.norm(y)))
        pa, pb = a["pixels"], b["pixels"]
        d = max([abs(u - v) for u, v in zip(pa["slice"]["values"], pb["slice"]["values"])] +
                [abs(pa[k] - pb[k]) for k in ("mean", "std", "min", "max")] +
                [abs(u - v) for u, v in zip(pa["channel_means"], pb["channel_means"])])
        r["max_pixel_diff"] = max(r["max_pixel_diff"], d)
    for a, b in zip(ours["texts"], ref["texts"]):
        x, y = np.asarray(a["text_embeds"]), np.asarray(b["text_embeds"])
        r["min_cosine"] = min(r["min_cosine"], float(x @ y / np.linalg.norm(x) / np.linalg.norm(y)))
        r["ids_equal"] = r["ids_equal"] and a["input_ids"] == b["input_ids"] and a["attention_mask"] == b[
            "attention_mask"]
    for a, b in zip(ours["pairs"], ref["pairs"]):
        r["max_itm_diff"] = max(r["max_itm_diff"], max(abs(u - v) for u, v in zip(a["itm_logits"], b["itm_logits"])))
        r["max_p_diff"] = max(r["max_p_diff"], abs(a["p_match"] - b["p_match"]))
    r["ok"] = (r["ids_equal"] and r["min_cosine"] >= UPSTREAM_LIMITS["min_cosine"]
               and r["max_itm_diff"] <= UPSTREAM_LIMITS["max_itm_diff"]
               and r["max_p_diff"] <= UPSTREAM_LIMITS["max_p_diff"]
               and r["max_pixel_diff"] <= UPSTREAM_LIMITS["max_pixel_diff"])
    return r


class UpstreamCheck:
    """writer.write's check for --verify-upstream: the upstream package's outputs on the golden
    inputs against the exported modules' (see the module docstring)."""

    def __init__(self, fam, path, spec, log):
        self.fam, self.path, self.spec, self.log = fam, path, spec, log
        self.result = None

    def __call__(self, tmp, golden):
        import upstream
        self.log(f"--verify-upstream: loading {self.path} with the upstream package ({self.fam.UPSTREAM})")
        ref = upstream.load(self.fam.UPSTREAM, self.path, **self.fam.upstream_options(self.spec))
        paths = [os.path.join(tmp, g["file"]) for g in golden["images"]]
        texts = [t["text"] for t in golden["texts"]]
        want = upstream.golden(ref, paths, texts, image_names=[g["file"] for g in golden["images"]])
        self.result = compare(golden, want)
        self.result["reference"] = ref.name
        self.log("--verify-upstream: " + json.dumps(self.result))
        self.spec.sections.setdefault("export", {})["verify_upstream"] = self.result  # kept in the manifest
        if not self.result["ok"]:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SystemExit(f"--verify-upstream failed: the export does not reproduce {ref.name} "
                             f"(limits {UPSTREAM_LIMITS}): {json.dumps(self.result)}")


def itm_probe(s, tok, image, texts):
    """For each text: ITC cosine and ITM [p_no_match, p_match] with the image (PyTorch)."""
    with torch.no_grad():
        img, tokens = s.vision(torch.from_numpy(s.pixels(image))[None])
        enc = [tok.encode(t) for t in texts]
        ids, mask = torch.tensor([e[0] for e in enc]), torch.tensor([e[1] for e in enc])
        txt, states = s.text(ids, mask)
        logits, _ = s.itm(tokens.expand(len(texts), -1, -1), states, mask)
        scores = logits.softmax(-1)
    return {"image": image, "texts": texts, "itc": [round(float(v), 6) for v in (img @ txt.T)[0]],
            "itm_logits": [[round(float(a), 6), round(float(b), 6)] for a, b in logits],
            "scores": [[round(float(a), 6), round(float(b), 6)] for a, b in scores]}
