"""The upstream implementations, driven the way their own pipelines drive them.

Each family module loads a model folder or checkpoint with the upstream package itself
(ModelScope for mPLUG, transformers for BLIP, CLIP and SigLIP, open_clip for OpenAI's CLIP
archives) and returns a `Reference`: the upstream preprocessing, tokenizer, embeddings and
image-text-matching logits. `golden` turns a Reference's outputs on a set of images and texts
into the bundle's golden.json format, so the Go runtime can be verified against upstream
directly (`searcher verify-model --golden`), and the exporters compare their own PyTorch
modules with it (`--verify-upstream`).

    ref = upstream.load("mplug", "path/to/model_dir")
    g = upstream.golden(ref, ["a.png", "b.jpg"], ["a dog", "two cats"])
"""
import importlib
import os

import numpy as np
import torch

FAMILIES = ("mplug", "blip", "clip", "siglip")


class Reference:
    """What every family's reference provides. Arrays are numpy float32.

    preprocess(path) -> [3,S,S] as the upstream loader and image processor produce it.
    tokenize(texts) -> (ids [M,L], mask [M,L]) int64, padded to the bundle's text length.
    image_embeds(pixels [N,3,S,S]) -> [N,D] L2-normalised.
    text_embeds(ids, mask) -> [M,D] L2-normalised.
    itm_logits(pixels [P,3,S,S], ids [P,L], mask [P,L]) -> [P,2] (index 1 = match), or None for a
    dual encoder.
    scores(path, text) -> [p_no_match, p_match] from the upstream pipeline call itself, where the
    family has one (mPLUG), else None.
    """

    name = ""
    max_length = 0
    has_itm = True

    def scores(self, path, text):
        return None


_loaded = {}


def load(family, path, **kwargs):
    """The Reference of family for a model folder or checkpoint file at path. A process loads
    each (family, path, options) once: the exporter's --verify-upstream and the parity harness
    share it; `forget` drops them."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    key = (family, os.path.abspath(path), tuple(sorted(kwargs.items())))
    if key not in _loaded:
        _loaded[key] = importlib.import_module(f"{__name__}.{family}").load(path, **kwargs)
    return _loaded[key]


def forget():
    """Drops the loaded references (their models can be gigabytes)."""
    _loaded.clear()


def upstream_function(module, name):
    """The function `name` of an installed upstream module, compiled from that module's own source
    without running its imports (for conversion scripts that import repositories which are not
    packages, such as transformers' BLIP converter and the BLIP repository)."""
    import ast
    import importlib.util
    import re
    spec = importlib.util.find_spec(module)
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read(), spec.origin)
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    if node is None:
        raise LookupError(f"{module} defines no function {name}")
    scope = {"re": re, "__name__": module}
    exec(compile(ast.Module(body=[node], type_ignores=[]), spec.origin, "exec"), scope)
    return scope[name]


def _rounded(x, nd=7):
    return [round(float(v), nd) for v in np.asarray(x).reshape(-1)]


def pixel_stats(pix):
    """The golden statistics of one [3,S,S] tensor (vlm.bundle.pixel_golden's format)."""
    from vlm import bundle
    return bundle.pixel_golden(pix)


def golden(ref, images, texts, image_names=None, itm_batch=8):
    """golden.json content of ref's outputs for images (paths) and texts; every pair when the
    family has an ITM head. image_names: the names written for the images (default: basenames)."""
    names = image_names or [os.path.basename(p) for p in images]
    pix = np.stack([ref.preprocess(p) for p in images]).astype(np.float32)
    img = ref.image_embeds(pix)
    ids, mask = ref.tokenize(texts)
    txt = ref.text_embeds(ids, mask)
    g = {"reference": ref.name, "images": [], "texts": [], "pairs": []}
    for n, p, e in zip(names, pix, img):
        g["images"].append({"file": n, "pixels": pixel_stats(p), "image_embeds": _rounded(e)})
    for t, i, m, e in zip(texts, ids, mask, txt):
        g["texts"].append({"text": t, "input_ids": [int(v) for v in i], "attention_mask": [int(v) for v in m],
                           "text_embeds": _rounded(e)})
    if not ref.has_itm:
        return g
    pairs = [(i, j) for i in range(len(images)) for j in range(len(texts))]
    for start in range(0, len(pairs), itm_batch):
        chunk = pairs[start:start + itm_batch]
        logits = ref.itm_logits(pix[[p[0] for p in chunk]], ids[[p[1] for p in chunk]], mask[[p[1] for p in chunk]])
        for (i, j), lg in zip(chunk, logits):
            p = torch.softmax(torch.from_numpy(np.asarray(lg, np.float32)).double(), -1)
            g["pairs"].append({"image": i, "text": j, "itm_logits": _rounded(lg), "p_match": round(float(p[1]), 7)})
    return g
