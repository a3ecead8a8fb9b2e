"""`python -m export.precision`: an optimised or int8 variant of any bundle, for CPU speed.

    PYTHONPATH=tools python -m export.precision --bundle DIR --out DIR [--precision fp32|int8]
                                                [--no-optimise] [--quantise vision,text,itm]

Each graph goes through ONNX Runtime's transformer optimiser (LayerNorm, skip-LayerNorm, GELU
and, where its patterns match, attention fused into single kernels; a vision graph as a ViT, a
text or ITM graph as a BERT), saved offline so the runtime does not redo the work at every start.
`--precision int8` then quantises the weight matrix products (MatMul and Gemm with a constant
weight) dynamically: int8 weights, activations quantised per call. It keeps in float what the
scores are most sensitive to: the patch embedding (a Conv, never quantised), and the last matrix
product before each graph output that is not behind a LayerNorm (the ITC projections, the ITM
head).

The variant keeps the source's goldens (the float32 PyTorch reference), so `searcher
verify-model` reports its distance from the float model; the manifest says its precision and
carries the tolerance of that precision (TOLERANCE). The last line printed is one JSON object:
per graph, the fused operators, the products quantised and kept, and the sizes.
"""
import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
import time

import onnx

from vlm import bundle

PRECISIONS = ("fp32", "int8")
# verify-model's tolerance per precision; fields not named keep the source bundle's. int8: an
# embedding's cosine to the float one >= 0.99, p_match within 0.05, the logit within 0.25, the
# cross-attention CLS row sum within 0.01. Measured (2026-12-07): the trained tiny-scenes 0.9991,
# 0.016, 0.095; the parity harness's random-weight models at reduced width 0.997 to 0.9997 and, for
# the ITM families, p_match 0.018 to 0.033 and logits 0.06 to 0.11 (each graph adds about a third).
TOLERANCE = {"int8": {"embed_cosine": 0.99, "itm_logit_abs": 0.25, "p_match_abs": 0.05, "cross_attention_abs": 0.01}}
GRAPHS = ("vision", "text", "itm")
# nodes where the search for an output's last matrix product stops: what lies behind a
# LayerNorm is normalised again before it reaches the output
NORMS = {"LayerNormalization", "SkipLayerNormalization", "ReduceMean", "SimplifiedLayerNormalization"}
PRODUCTS = {"MatMul", "Gemm"}
# per-channel weight scales, in 7 bits: without reduce_range, AVX2's u8 x s8 products (no VNNI)
# saturate their 16-bit sums and per-channel scales make that likely (tiny-scenes: p_match off by
# 0.043, logits by 1.25); with it, 0.016 and 0.095, better than per-tensor 8 bits (0.026, 0.12)
QUANTISER = {"per_channel": True, "reduce_range": True}


@contextlib.contextmanager
def quiet():
    """ONNX Runtime's tools log advice at WARNING (head counts to give, pre-processing to run)
    that does not apply here: silenced while they run."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def optimise(src, dst, graph):
    """ONNX Runtime's transformer optimiser over one graph (model type from its role). Returns the
    fused operator counts that are not zero."""
    from onnxruntime.transformers.optimizer import optimize_model
    with quiet():
        m = optimize_model(src, model_type="vit" if graph == "vision" else "bert", num_heads=0, hidden_size=0,
                           opt_level=0)
    m.save_model_to_file(dst)
    return {k: v for k, v in sorted(m.get_fused_operator_statistics().items()) if v}


def output_products(model):
    """Names of the matrix products closest to each graph output, walking back through every
    node but NORMS (which end the walk without a product)."""
    producer = {o: n for n in model.graph.node for o in n.output}
    keep, seen = set(), set()
    todo = [o.name for o in model.graph.output]
    while todo:
        t = todo.pop()
        n = producer.get(t)
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if n.op_type in PRODUCTS:
            keep.add(n.name)
        elif n.op_type not in NORMS:
            todo.extend(n.input)
    return sorted(keep)


def quantise(src, dst):
    """int8 dynamic quantisation of the constant-weight matrix products of one graph, the output
    products (output_products) kept in float. Returns (quantised, kept) counts."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    model = onnx.load(src)
    keep = output_products(model)
    consts = {t.name for t in model.graph.initializer}
    products = [n for n in model.graph.node if n.op_type in PRODUCTS and any(i in consts for i in n.input[1:2])]
    unnamed = [n for n in model.graph.node if not n.name]
    if unnamed:
        raise ValueError(f"{src}: {len(unnamed)} nodes without a name; the quantiser needs names to keep nodes")
    # the quantiser first rewrites a Gemm as NAME_MatMul + NAME_Add: keep both names
    exclude = keep + [k + "_MatMul" for k in keep]
    with quiet():
        quantize_dynamic(model, dst, weight_type=QuantType.QInt8, op_types_to_quantize=sorted(PRODUCTS),
                         nodes_to_exclude=exclude, **QUANTISER, extra_options={"MatMulConstBOnly": True,
                                                                            "DefaultTensorType": onnx.TensorProto.FLOAT})
    return len([n for n in products if n.name not in keep]), len(keep)


def convert(src, out, precision="int8", optimised=True, log=print, quantised=GRAPHS):
    """Writes the variant of bundle src into out (replaced only on success); with int8, the graphs
    named in quantised are quantised (the others only optimised). Returns the summary."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: want one of {', '.join(PRECISIONS)}")
    if precision == "fp32" and not optimised:
        raise ValueError("fp32 without optimisation is the source bundle itself")
    with open(os.path.join(src, "model.json")) as f:
        manifest = json.load(f)
    if manifest.get("precision", "fp32") != "fp32" or manifest.get("optimised"):
        raise ValueError(f"{src}: already a {manifest.get('precision', 'fp32')} variant; convert the float32 bundle")
    out = out.rstrip("/")
    tmp = out + ".partial"
    if os.path.isdir(tmp):
        shutil.rmtree(tmp)
    shutil.copytree(src, tmp)
    os.remove(os.path.join(tmp, "model.json"))
    summary = {"bundle": out, "precision": precision, "optimised": optimised, "graphs": {}}
    for g in GRAPHS:
        spec = manifest["graphs"].get(g)
        if spec is None:
            continue
        t0 = time.time()
        path = os.path.join(tmp, spec["file"])
        info = {"bytes_before": os.path.getsize(path)}
        if optimised:
            opt = path + ".opt"
            info["fused"] = optimise(path, opt, g)
            os.replace(opt, path)
        if precision == "int8" and g in quantised:
            q = path + ".int8"
            info["quantised"], info["kept_float"] = quantise(path, q)
            os.replace(q, path)
        info["bytes"] = os.path.getsize(path)
        info["seconds"] = round(time.time() - t0, 1)
        summary["graphs"][g] = info
        log(f"{g}: {info}")
    suffix = "-int8" if precision == "int8" else "-opt"
    manifest["name"] = manifest["name"] + suffix
    manifest["precision"] = precision
    manifest["optimised"] = optimised
    tol = dict(manifest.get("tolerance") or bundle.DEFAULT_TOLERANCE)
    tol.update(TOLERANCE.get(precision, {}))
    manifest["tolerance"] = tol
    manifest.pop("files", None)
    bundle.finish(tmp, manifest)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True, help="the float32 bundle to convert")
    ap.add_argument("--out", required=True, help="the variant's folder (replaced once it is written)")
    ap.add_argument("--precision", default="int8", choices=PRECISIONS, help="weights of the matrix products "
                    "(default int8; fp32: the optimised graphs alone)")
    ap.add_argument("--no-optimise", action="store_true", help="skip the transformer optimiser")
    ap.add_argument("--quantise", default=",".join(GRAPHS), help="with int8, the graphs to quantise (default all: "
                    "vision,text,itm; e.g. vision alone for indexing speed, the rerank left float)")
    args = ap.parse_args(argv)
    graphs = tuple(g for g in args.quantise.split(",") if g)
    if set(graphs) - set(GRAPHS):
        ap.error(f"--quantise {args.quantise}: want graphs among {','.join(GRAPHS)}")
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    s = convert(args.bundle, args.out, args.precision, not args.no_optimise, log, graphs)
    print(json.dumps(s))


if __name__ == "__main__":
    main()
