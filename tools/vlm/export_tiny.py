"""Exports a trained tiny-scenes checkpoint as a model bundle (docs/models.md) with golden.json.

    PYTHONPATH=tools /usr/bin/python3 -m vlm.export_tiny --model build/tiny-scenes/model.pt --out models/tiny-scenes

The golden images are generated scenes shipped in the bundle (PNG at 256 px and a non-square
JPEG written without chroma subsampling), so that the Go runtime's decode and resize are checked
too. Golden outputs come from the same PyTorch modules that were exported.
"""
import argparse
import json
import os
import shutil
import tempfile

import numpy as np
import torch
from PIL import Image

from . import bundle, scenes_data
from .eval_tiny import load_model
from .tiny_model import ITMGraph, TextGraph, VisionGraph
from .train_tiny import VOCAB
from .wordpiece import WordPiece

GOLDEN_SEED = 4242
GOLDEN_TEXTS_EXTRA = ["A Small RED circle, left of a large blue SQUARE!", "a photo of a dog on the beach", ""]


def golden_images(out_dir, binary):
    """Writes a few generated scenes into out_dir/golden and returns (file, caption, negative) rows."""
    tmp = tempfile.mkdtemp()
    try:
        root = scenes_data.generate(os.path.join(tmp, "g"), 3, GOLDEN_SEED, size=256, twins=True,
                                    split="golden", binary=binary)
        with open(os.path.join(root, "captions.json")) as f:
            meta = json.load(f)["images"]
        os.makedirs(os.path.join(out_dir, "golden"), exist_ok=True)
        rows = []
        for i, m in enumerate(meta[:3]):
            src = os.path.join(root, "images", m["filename"])
            if i == 2:  # a non-square JPEG: exercises decode and the squash resize
                name = "golden/scene_2.jpg"
                im = Image.open(src).convert("RGB").resize((240, 160), Image.BICUBIC)
                im.save(os.path.join(out_dir, name), quality=95, subsampling=0)
            else:
                name = f"golden/scene_{i}.png"
                shutil.copy(src, os.path.join(out_dir, name))
            neg = m["negatives"][0]["raw"] if m.get("negatives") else ""
            rows.append((name, m["sentences"][0]["raw"], neg))
        return rows
    finally:
        shutil.rmtree(tmp)


def export_graphs(model, cfg, tok, out):
    """Writes model's three graphs (vision, text, itm) into out under the bundle contract's names."""
    S, L, C = cfg.image_size, cfg.max_len, cfg.width
    N = (S // cfg.patch) ** 2 + 1
    pix = torch.randn(2, 3, S, S)
    ids = torch.full((2, L), tok.pad, dtype=torch.long)
    ids[:, 0], ids[:, 1] = tok.cls, tok.sep
    mask = (ids != tok.pad).long()
    bundle.export_graph(VisionGraph(model), (pix,), os.path.join(out, "vision.onnx"), ["pixel_values"],
                        ["image_embeds", "image_tokens"],
                        {"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}, "image_tokens": {0: "batch"}})
    bundle.export_graph(TextGraph(model), (ids, mask), os.path.join(out, "text.onnx"),
                        ["input_ids", "attention_mask"], ["text_embeds", "text_states"],
                        {"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
                         "text_embeds": {0: "batch"}, "text_states": {0: "batch", 1: "length"}})
    bundle.export_graph(ITMGraph(model), (torch.randn(2, N, C), torch.randn(2, L, C), mask),
                        os.path.join(out, "itm.onnx"), ["image_tokens", "text_states", "attention_mask"],
                        ["itm_logits", "cross_attention"],
                        {"image_tokens": {0: "batch"}, "text_states": {0: "batch", 1: "length"},
                         "attention_mask": {0: "batch", 1: "length"}, "itm_logits": {0: "batch"},
                         "cross_attention": {0: "batch", 1: "length"}})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="build/tiny-scenes/model.pt")
    ap.add_argument("--out", default="models/tiny-scenes")
    ap.add_argument("--eval-json", help="evaluation results to record in the manifest")
    args = ap.parse_args(argv)

    model, cfg = load_model(args.model)
    os.makedirs(args.out, exist_ok=True)
    for n in os.listdir(args.out):
        p = os.path.join(args.out, n)
        if n != "vocab.txt":
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    if os.path.abspath(os.path.join(args.out, "vocab.txt")) != os.path.abspath(VOCAB):
        shutil.copy(VOCAB, os.path.join(args.out, "vocab.txt"))
    tok = WordPiece(os.path.join(args.out, "vocab.txt"), cfg.max_len)
    S, L, C = cfg.image_size, cfg.max_len, cfg.width
    N = (S // cfg.patch) ** 2 + 1
    export_graphs(model, cfg, tok, args.out)

    rows = golden_images(args.out, scenes_data.scenes_binary())
    golden = {"images": [], "texts": [], "pairs": []}
    with torch.no_grad():
        pixels = []
        for name, _, _ in rows:
            with Image.open(os.path.join(args.out, name)) as im:
                p = scenes_data.preprocess(im, S)
            pixels.append(p)
            golden["images"].append({"file": name, "pixels": bundle.pixel_golden(p)})
        img_emb, img_tok = model.encode_image(torch.from_numpy(np.stack(pixels)))
        for g, e in zip(golden["images"], img_emb):
            g["image_embeds"] = bundle.rounded(e)
        texts = [r[1] for r in rows] + [r[2] for r in rows] + GOLDEN_TEXTS_EXTRA
        enc = [tok.encode(t) for t in texts]
        ids = torch.tensor([e[0] for e in enc])
        mask = torch.tensor([e[1] for e in enc])
        txt_emb, txt_st = model.encode_text(ids, mask)
        for t, (i, m), e in zip(texts, enc, txt_emb):
            golden["texts"].append({"text": t, "input_ids": i, "attention_mask": m, "text_embeds": bundle.rounded(e)})
        pairs = [(i, j) for i in range(len(rows)) for j in range(len(texts))]
        logits, att = model.itm(img_tok[[p[0] for p in pairs]], txt_st[[p[1] for p in pairs]],
                                mask[[p[1] for p in pairs]])
        for (i, j), lg, a in zip(pairs, logits, att):
            golden["pairs"].append({"image": i, "text": j, "itm_logits": bundle.rounded(lg),
                                    "p_match": round(float(lg.softmax(-1)[1]), 6),
                                    "cross_attention_cls_sum": round(float(a[0].sum()), 6)})
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")

    manifest = {
        "name": "tiny-scenes",
        "family": "tiny-scenes",
        "description": "Glimpse's default model: a small mPLUG-shaped model (ViT, BERT-style text encoder, "
                       "fusion layers with cross-attention, ITC projections, ITM head) trained on generated "
                       "compositional scenes (1 to 3 shapes with colours, sizes, positions and spatial "
                       "relations on varied backgrounds). Its ITM head checks each word of a caption against "
                       "the object the word names, so swapped colours or sizes and reversed relations score "
                       "low; it knows nothing outside that scene language.",
        "embedding_dim": cfg.embed_dim,
        "image": {"size": S, "resize": "squash", "interpolation": "bicubic",
                  "mean": list(scenes_data.MEAN), "std": list(scenes_data.STD), "alpha_background": [255, 255, 255]},
        "text": {"tokenizer": "bert-wordpiece", "files": {"vocab": "vocab.txt"}, "lower_case": True,
                 "max_length": L, "special_ids": {"cls": tok.cls, "sep": tok.sep, "pad": tok.pad, "unk": tok.unk}},
        "graphs": {
            "vision": {"file": "vision.onnx", "inputs": ["pixel_values"], "outputs": ["image_embeds", "image_tokens"]},
            "text": {"file": "text.onnx", "inputs": ["input_ids", "attention_mask"],
                     "outputs": ["text_embeds", "text_states"]},
            "itm": {"file": "itm.onnx", "inputs": ["image_tokens", "text_states", "attention_mask"],
                    "outputs": ["itm_logits", "cross_attention"]},
        },
        "dims": {"image_tokens": N, "token_width": C, "patch_grid": S // cfg.patch},
        "scores": {"itm": "softmax(itm_logits)[1] = p_match", "itc": "dot product of the normalised embeddings",
                   "rank": "itm", "match_threshold": 0.5},
        "tolerance": dict(bundle.DEFAULT_TOLERANCE),
        "golden": "golden.json",
        "training": {"command": "make model", "config": cfg.to_dict()},
    }
    if args.eval_json:
        with open(args.eval_json) as f:
            manifest["evaluation"] = json.load(f)
        manifest["scores"]["rank"] = default_rank(manifest["evaluation"])
    m = bundle.finish(args.out, manifest)
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in m["files"])
    print(json.dumps({"bundle": args.out, "bytes": total, "files": len(m["files"])}))


def default_rank(ev):
    """The ordering that evaluated better on the random split (r_mean at the smallest k reranked):
    "itm" (mPLUG, ALBEF) or "itm+itc" (BLIP adds the ITC similarity)."""
    r = ev.get("random", {})
    ks = sorted(int(k[len("rerank_k"):].split("_")[0]) for k in r if k.startswith("rerank_k"))
    if not ks:
        return "itm"
    a, b = r.get(f"rerank_k{ks[0]}_itm", {}), r.get(f"rerank_k{ks[0]}_itm+itc", {})
    return "itm+itc" if b.get("r_mean", 0) > a.get("r_mean", 0) else "itm"


if __name__ == "__main__":
    main()
