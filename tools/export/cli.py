"""The command line every exporter shares: checkpoint or --random-init, key check, bundle, probe.

A family module provides PRESETS (named configs, with DEFAULT_ARCH), FAMILY, IGNORE (documented
unused checkpoint keys), infer_config(state_dict, args), build(config), spec(model, config, name,
sections) and probe(model, config, spec, tokenizer, image, texts). The last line printed is one JSON
object summarising the export.
"""
import argparse
import dataclasses
import json
import os
import re
import sys
import time

import torch

from vlm import bundle

from . import keys, layers, writer


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def parser(fam, doc):
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="the upstream checkpoint file")
    src.add_argument("--random-init", action="store_true",
                     help="build the architecture named by --arch with random weights (seeded)")
    ap.add_argument("--arch", default=fam.DEFAULT_ARCH, choices=sorted(fam.PRESETS),
                    help=f"architecture for --random-init (default {fam.DEFAULT_ARCH}); a checkpoint's is read from "
                         "its tensor shapes")
    ap.add_argument("--out", required=True, help="bundle folder (emptied first)")
    ap.add_argument("--name", help="bundle name (default: family and architecture, '-random' for --random-init)")
    ap.add_argument("--seed", type=int, default=1234, help="seed of --random-init (default 1234)")
    ap.add_argument("--tokenizer-file", help="vocab.txt (BERT) or bpe_simple_vocab_16e6.txt.gz (CLIP) to ship "
                                             "(default: the copy in encoder/tokenizer/testdata)")
    ap.add_argument("--max-length", type=int, help="text length with special tokens (default: the family's)")
    ap.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                    help="also leave out checkpoint keys matching REGEX (reported as their own group)")
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
    if args.random_init:
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
        sd = keys.read_checkpoint(args.checkpoint)
        cfg = fam.infer_config(sd, args)
        model = fam.build(cfg)
        report = keys.load_checked(model, sd, fam.IGNORE, args.ignore)
        del sd
        log("keys: " + json.dumps(report))
        arch = arch_name(fam, cfg)
        source = {"checkpoint": os.path.basename(args.checkpoint), "sha256": bundle.sha256(args.checkpoint),
                  "keys": report}
    model.eval()
    name = args.name or f"{name_prefix}-{slug(arch)}" + ("-random" if args.random_init else "")
    command = "PYTHONPATH=tools /usr/bin/python3 -m " + fam.__name__ + " " + " ".join(
        sys.argv[1:] if argv is None else argv)
    spec = fam.spec(model, cfg, name, {"source": source, "export": {"command": command}})
    manifest = writer.write(spec, args.out, args.tokenizer_file, log=log)
    summary = {"bundle": args.out, "name": name, "family": fam.FAMILY, "arch": arch,
               "parameters": manifest.get("parameters"),
               "bytes": sum(os.path.getsize(os.path.join(args.out, f)) for f in manifest["files"]),
               "seconds": round(time.time() - t0, 1)}
    if "keys" in source:
        summary["keys"] = {k: source["keys"][k] for k in ("checkpoint_keys", "loaded", "ignored")}
    if args.probe_image:
        tok_file = next(iter(manifest["text"]["files"].values()))
        tok, _ = writer.make_tokenizer(spec, os.path.join(args.out, tok_file))
        summary["probe"] = fam.probe(model, cfg, spec, tok, args.probe_image, args.probe_text)
    print(json.dumps(summary))
    return summary


def itm_probe(s, tok, image, texts, size, resize):
    """For each text: ITC cosine and ITM [p_no_match, p_match] with the image (PyTorch)."""
    from . import images
    with torch.no_grad():
        img, tokens = s.vision(torch.from_numpy(images.pixels(image, size, resize))[None])
        enc = [tok.encode(t) for t in texts]
        ids, mask = torch.tensor([e[0] for e in enc]), torch.tensor([e[1] for e in enc])
        txt, states = s.text(ids, mask)
        logits, _ = s.itm(tokens.expand(len(texts), -1, -1), states, mask)
        scores = logits.softmax(-1)
    return {"image": image, "texts": texts, "itc": [round(float(v), 6) for v in (img @ txt.T)[0]],
            "scores": [[round(float(a), 6), round(float(b), 6)] for a, b in scores]}
