"""`make export-check`: every exporter end to end at a reduced width, verified by the Go runtime.

    PYTHONPATH=tools /usr/bin/python3 -m export.check [--out build/export-check] [--families mplug,clip,blip]

Per family, with the `tiny` architecture (real image size, patch grid, tokenizer and text length;
few layers, narrow widths):
1. `--random-init` export, the bundle verified by `searcher verify-model --json` (built once with
   `go build`): pixels, token ids, embeddings (cosine), ITM logits (absolute) and cross-attention;
2. the same weights written as a synthetic upstream checkpoint (synthetic.py: the release's
   container, prefixes, precision and training-only keys), exported with `--checkpoint`: the key
   report must load every weight, ignore exactly the planted training-only keys, and the bundle's
   golden outputs must equal those of step 1 (CLIP's within fp16 rounding);
3. the golden embeddings of different inputs must differ by more than the cosine tolerance, so
   that the check could tell a wrong image or text from the right one.

Prints a table and, as its last line, one JSON object. Exits 1 when anything fails.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from . import blip, clip, images, layers, mplug, synthetic

FAMILIES = {"mplug": mplug, "clip": clip, "blip": blip}
SEED = 1234


def build_searcher(out):
    path = os.path.join(out, "searcher")
    subprocess.run(["go", "build", "-o", path, "./cmd/searcher"], cwd=images.ROOT, check=True)
    return path


def verify(searcher, bundle_dir):
    """Runs verify-model --json; returns its report (ok false on a failed check)."""
    r = subprocess.run([searcher, "verify-model", "--json", bundle_dir], capture_output=True, text=True)
    try:
        rep = json.loads(r.stdout)
    except json.JSONDecodeError:
        return {"ok": False, "error": (r.stderr or r.stdout).strip()[-2000:]}
    rep.pop("checks", None)
    return rep


def golden(bundle_dir):
    with open(os.path.join(bundle_dir, "golden.json")) as f:
        return json.load(f)


def max_offdiag_cosine(vectors):
    v = np.asarray(vectors, dtype=np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    c = v @ v.T
    np.fill_diagonal(c, -1)
    return float(c.max())


def compare_goldens(a, b):
    """Worst cosine between two bundles' golden embeddings and the largest ITM logit difference."""
    cos = 1.0
    for key, field in (("images", "image_embeds"), ("texts", "text_embeds")):
        for x, y in zip(a[key], b[key]):
            x, y = np.asarray(x[field]), np.asarray(y[field])
            cos = min(cos, float(x @ y / np.linalg.norm(x) / np.linalg.norm(y)))
    itm = max((abs(p - q) for x, y in zip(a["pairs"], b["pairs"]) for p, q in zip(x["itm_logits"], y["itm_logits"])),
              default=0.0)
    return cos, itm


def check_family(name, fam, out, searcher, log):
    res = {"ok": True, "problems": []}
    rand_dir, ck_dir = os.path.join(out, name + "-tiny-random"), os.path.join(out, name + "-tiny-checkpoint")
    t0 = time.time()
    fam.main(["--random-init", "--arch", "tiny", "--seed", str(SEED), "--out", rand_dir])
    res["random_init"] = verify(searcher, rand_dir)

    model = layers.random_init(fam.build(fam.PRESETS["tiny"]), SEED).eval()
    ext = {"mplug": ".bin", "blip": ".pth", "clip": ".pt"}[name]
    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, "checkpoint" + ext)
        want_loaded, want_ignored = synthetic.write(fam, model, ck)
        summary = fam.main(["--checkpoint", ck, "--out", ck_dir])
    keys = summary["keys"]
    res["checkpoint"] = verify(searcher, ck_dir)
    res["checkpoint"]["keys"] = keys
    if keys["loaded"] != want_loaded or keys["ignored"] != want_ignored:
        res["problems"].append(f"key report {keys}, want loaded {want_loaded}, ignored {want_ignored}")
    if summary["arch"] != "tiny":
        res["problems"].append(f"architecture read from the checkpoint is {summary['arch']}, not tiny")
    ga, gb = golden(rand_dir), golden(ck_dir)
    cos, itm = compare_goldens(ga, gb)
    res["checkpoint"]["golden_vs_random_init"] = {"min_cosine": round(cos, 7), "max_itm_logit_abs": itm}
    floor = 0.999 if name == "clip" else 0.99999  # CLIP's release is fp16
    if cos < floor or itm > 1e-4:
        res["problems"].append(f"checkpoint export differs from the random-init one: cosine {cos}, itm {itm}")
    disc = {"images": max_offdiag_cosine([g["image_embeds"] for g in ga["images"]]),
            "texts": max_offdiag_cosine([g["text_embeds"] for g in ga["texts"]])}
    res["max_cosine_between_inputs"] = {k: round(v, 4) for k, v in disc.items()}
    if max(disc.values()) >= 0.999:
        res["problems"].append(f"golden embeddings of different inputs are too alike to test anything: {disc}")
    for k in ("random_init", "checkpoint"):
        if not res[k].get("ok"):
            res["problems"].append(f"verify-model failed on the {k} bundle: {res[k].get('error', 'a check failed')}")
    res["ok"] = not res["problems"]
    res["seconds"] = round(time.time() - t0, 1)
    log(f"{name}: {'ok' if res['ok'] else 'FAILED'} in {res['seconds']}s")
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(images.ROOT, "build", "export-check"))
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--searcher", help="a built cmd/searcher binary (default: go build into --out)")
    args = ap.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    searcher = args.searcher or build_searcher(args.out)
    results = {}
    for name in args.families.split(","):
        results[name] = check_family(name, FAMILIES[name], args.out, searcher, log)
    print(f"\n{'FAMILY':8} {'BUNDLE':12} {'MIN COSINE':>12} {'MAX EMBED ABS':>14} {'MAX ITM ABS':>12} {'IDS':>6}  RESULT")
    for name, r in results.items():
        for k in ("random_init", "checkpoint"):
            v = r[k]
            itm = "-" if v.get("max_itm_logit_abs") is None else f"{v['max_itm_logit_abs']:.2e}"
            cos = "-" if v.get("min_cosine") is None else f"{v['min_cosine']:.7f}"
            emb = "-" if v.get("max_embed_abs") is None else f"{v['max_embed_abs']:.2e}"
            print(f"{name:8} {k:12} {cos:>12} {emb:>14} {itm:>12} {str(v.get('input_ids_exact', '-')):>6}  "
                  f"{'ok' if v.get('ok') else 'FAIL'}")
        for p in r["problems"]:
            print(f"  problem: {p}")
    ok = all(r["ok"] for r in results.values())
    print(json.dumps({"export_check": results, "ok": ok, "seconds": round(time.time() - t0, 1)}))
    if not ok:
        sys.exit(1)
    return results


if __name__ == "__main__":
    main()
