"""Runs the parity cases (see __init__.py); the last line printed is one JSON object."""
import argparse
import contextlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import time

import upstream
from export import cli, images, precision

from . import inputs

FAMILIES = ("mplug", "blip", "clip", "siglip")
SEED = 20261207


def all_cases():
    out = []
    for fam in FAMILIES:
        mod = importlib.import_module(f"parity.{fam}")
        for name, layout, write in mod.cases():
            out.append({"name": name, "family": fam, "layout": layout, "write": write,
                        "options": getattr(mod, "upstream_options", lambda name: {})(name)})
    return out


def build_searcher(out):
    path = os.path.join(out, "searcher")
    subprocess.run(["go", "build", "-o", path, "./cmd/searcher"], cwd=images.ROOT, check=True)
    return path


def go_verify(searcher, bundle, golden):
    """searcher verify-model --golden: the Go runtime against the upstream outputs."""
    r = subprocess.run([searcher, "verify-model", "--json", "--golden", golden, bundle], capture_output=True,
                       text=True)
    try:
        rep = json.loads(r.stdout)
    except json.JSONDecodeError:
        return {"ok": False, "error": (r.stderr or r.stdout).strip()[-2000:]}
    return rep


def go_score(searcher, bundle, image, text):
    r = subprocess.run([searcher, "score", "--json", "--model", bundle, "--image", image, "--text", text],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"searcher score: {r.stderr.strip()[-1000:]}")
    return json.loads(r.stdout)["scores"]


def run_case(case, out, width, searcher, photos, log):
    t0 = time.time()
    d = os.path.join(out, case["name"])
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    log(f"{case['name']}: building the upstream model ({width} width) in the {case['layout']} layout")
    path = case["write"](os.path.join(d, "upstream"), width, SEED)
    exporter = importlib.import_module(f"export.{case['family']}")
    bundle = os.path.join(d, "bundle")
    with contextlib.redirect_stdout(io.StringIO()):
        summary = exporter.main(["--checkpoint", path, "--out", bundle, "--verify-upstream"])
    ref = upstream.load(exporter.UPSTREAM, path, **case["options"])
    ref_dir = os.path.join(d, "reference")
    os.makedirs(ref_dir)
    imgs = []
    for p in photos:
        shutil.copy(p, ref_dir)
        imgs.append(os.path.join(ref_dir, os.path.basename(p)))
    log(f"{case['name']}: upstream outputs on {len(imgs)} images x {len(inputs.TEXTS)} texts")
    g = upstream.golden(ref, imgs, inputs.TEXTS)
    golden = os.path.join(ref_dir, "golden.json")
    with open(golden, "w") as f:
        json.dump(g, f, indent=1)
    rep = go_verify(searcher, bundle, golden)
    res = {"name": case["name"], "family": case["family"], "layout": case["layout"],
           "params": (summary.get("parameters") or {}).get("total"),
           "min_cosine": rep.get("min_cosine"), "max_itm_diff": rep.get("max_itm_logit_abs"),
           "max_p_diff": rep.get("max_p_match_abs"), "max_pixel_diff": rep.get("max_pixel_abs"),
           "ids_equal": rep.get("input_ids_exact"), "go_ok": rep.get("ok", False),
           "python_vs_upstream": summary.get("upstream"), "keys": summary.get("keys")}
    problems = []
    if rep.get("error"):
        problems.append("verify-model: " + rep["error"])
    res["variants"], vprob = check_variants(searcher, bundle, golden, d)
    problems += vprob
    if ref.has_itm and ref.scores(imgs[0], inputs.TEXTS[0]) is not None:
        worst = 0.0
        for img, text in ((imgs[2], inputs.TEXTS[0]), (imgs[-2], inputs.TEXTS[5]), (imgs[-1], inputs.TEXTS[1])):
            want = ref.scores(img, text)
            got = go_score(searcher, bundle, img, text)
            worst = max(worst, abs(got[1] - want[1]), abs(got[0] - want[0]))
        res["pipeline_max_p_diff"] = worst
        if worst > cli.UPSTREAM_LIMITS["max_p_diff"]:
            problems.append(f"searcher score differs from the upstream pipeline by {worst:.2e}")
    lim = cli.UPSTREAM_LIMITS
    checks = [
        (res["ids_equal"] is True, "token ids differ"),
        ((res["min_cosine"] or 0) >= lim["min_cosine"], f"embedding cosine {res['min_cosine']}"),
        (not ref.has_itm or (res["max_itm_diff"] is not None and res["max_itm_diff"] <= lim["max_itm_diff"]),
         f"ITM logits differ by {res['max_itm_diff']}"),
        (not ref.has_itm or (res["max_p_diff"] is not None and res["max_p_diff"] <= lim["max_p_diff"]),
         f"p_match differs by {res['max_p_diff']}"),
        (res["max_pixel_diff"] is not None and res["max_pixel_diff"] <= lim["max_pixel_diff"],
         f"pixels differ by {res['max_pixel_diff']}"),
        (res["go_ok"], "verify-model failed a check"),
    ]
    problems += [msg for ok, msg in checks if not ok]
    res["ok"] = not problems
    res["problems"] = problems
    res["seconds"] = round(time.time() - t0, 1)
    log(f"{case['name']}: {'ok' if res['ok'] else 'FAILED: ' + '; '.join(problems)} ({res['seconds']} s)")
    return res


def check_variants(searcher, bundle, golden, d):
    """The bundle's optimised (fp32) and int8 variants (export.precision) against the same upstream
    golden, each under its own manifest's tolerance: the optimised one under the float bundle's,
    int8 under precision.TOLERANCE. Returns the figures per variant and the problems."""
    out, problems = {}, []
    for name, prec in (("optimised", "fp32"), ("int8", "int8")):
        vdir = os.path.join(d, "bundle-" + name)
        with contextlib.redirect_stdout(io.StringIO()):
            precision.convert(bundle, vdir, prec, True, log=lambda msg: None)
        rep = go_verify(searcher, vdir, golden)
        out[name] = {"min_cosine": rep.get("min_cosine"), "max_itm_diff": rep.get("max_itm_logit_abs"),
                     "max_p_diff": rep.get("max_p_match_abs"), "ok": rep.get("ok", False)}
        if not out[name]["ok"]:
            bad = [c["name"] for c in rep.get("checks", []) if not c.get("ok")]
            problems.append(f"{name} variant: verify-model failed {bad or rep.get('error')}")
        shutil.rmtree(vdir, ignore_errors=True)
    return out, problems


def write_summary(path, suite, results):
    """The suite's line for `make test`'s summary (every case runs: none is skipped)."""
    failed = [r for r in results if not r["ok"]]
    lines = [f"{suite}: {len(results) - len(failed)} passed, {len(failed)} failed, 0 skipped"]
    lines += [f"  FAIL {r['name']}: {'; '.join(r.get('problems') or ['failed'])}" for r in failed]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--width", choices=("reduced", "real"), default="reduced")
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--out", default=os.path.join(images.ROOT, "build", "parity"))
    ap.add_argument("--images", type=int, help="use this many parity images (default: all; the made ones always)")
    ap.add_argument("--keep", action="store_true", help="keep the upstream files and bundles (default: delete "
                                                        "them after each case, keeping reports)")
    ap.add_argument("--summary", help="also write a summary for `make test` to this file: one line, "
                                      "\"parity-WIDTH: N passed, F failed, 0 skipped\", then each failed case")
    args = ap.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.time()
    out = os.path.join(args.out, args.width)
    os.makedirs(out, exist_ok=True)
    searcher = build_searcher(out)
    photos = inputs.write_images(os.path.join(out, "inputs"), args.images)
    cases = all_cases()
    if args.cases:
        want = args.cases.split(",")
        unknown = set(want) - {c["name"] for c in cases}
        if unknown:
            raise SystemExit(f"unknown cases {sorted(unknown)}; known: {[c['name'] for c in cases]}")
        cases = [c for c in cases if c["name"] in want]
    results = []
    for case in cases:
        try:
            res = run_case(case, out, args.width, searcher, photos, log)
        except Exception as e:  # a case that cannot run is a failed case, reported with the others
            log(f"{case['name']}: ERROR {type(e).__name__}: {e}")
            res = {"name": case["name"], "family": case["family"], "layout": case["layout"], "ok": False,
                   "problems": [f"{type(e).__name__}: {e}"]}
        results.append(res)
        upstream.forget()
        if not args.keep:
            for sub in ("upstream", "bundle"):
                shutil.rmtree(os.path.join(out, case["name"], sub), ignore_errors=True)
    print(f"\n{'CASE':24} {'PARAMS':>12} {'MIN COSINE':>11} {'ITM DIFF':>9} {'P DIFF':>9} {'PIXELS':>9} {'IDS':>5}  RESULT")
    for r in results:
        def f(k, fmt):
            return "-" if r.get(k) is None else format(r[k], fmt)
        print(f"{r['name']:24} {f('params', ','):>12} {f('min_cosine', '.7f'):>11} {f('max_itm_diff', '.1e'):>9} "
              f"{f('max_p_diff', '.1e'):>9} {f('max_pixel_diff', '.1e'):>9} {str(r.get('ids_equal', '-')):>5}  "
              f"{'ok' if r['ok'] else 'FAIL'}")
        for name, v in (r.get("variants") or {}).items():
            print(f"  {name + ' variant':22} {'':>12} {v['min_cosine'] or 0:>11.7f} {v['max_itm_diff'] or 0:>9.1e} "
                  f"{v['max_p_diff'] or 0:>9.1e} {'':>9} {'':>5}  {'ok' if v['ok'] else 'FAIL'}")
        for p in r.get("problems", []):
            print(f"  {p}")
    fields = ("name", "layout", "params", "min_cosine", "max_itm_diff", "max_p_diff", "ids_equal", "ok")
    ok = all(r["ok"] for r in results)
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump({"width": args.width, "results": results}, f, indent=1)
    if args.summary:
        write_summary(args.summary, f"parity-{args.width}", results)
    print(json.dumps({"families": [{k: r.get(k) for k in fields} for r in results], "width": args.width, "ok": ok,
                      "seconds": round(time.time() - t0, 1)}))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
