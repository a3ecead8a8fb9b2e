"""Writes a bundle (docs/models.md) from a family's export graphs: ONNX files, tokenizer files,
golden.json from the same PyTorch modules, and model.json with the sha256 of every file.

A family module builds a `Spec`: its three graph modules (itm may be None for dual encoders), its
image and text settings and its manifest sections. `write` does the rest the same way for all:
into a temporary folder beside the output, which replaces the output only once everything,
including an optional check of the golden outputs (`check`, e.g. against the upstream
implementation), has succeeded.
"""
import dataclasses
import json
import os
import shutil
import time
import warnings

import numpy as np
import torch

from vlm import bundle
from vlm.wordpiece import WordPiece

from . import images
from .clip_bpe import ClipBPE

BERT_VOCAB = os.path.join(images.ROOT, "encoder", "tokenizer", "testdata", "bert-base-uncased", "vocab.txt")
CLIP_MERGES = os.path.join(images.ROOT, "encoder", "tokenizer", "testdata", "clip", "bpe_simple_vocab_16e6.txt.gz")

GOLDEN_TEXTS_EXTRA = [
    "a photo of a dog",
    "A Small RED circle, left of a large blue SQUARE!",
    "",
    "rock &amp; roll at the café, naïve   spacing",
    " ".join(["a very long caption that keeps going"] * 16),  # truncated by every tokenizer
]


@dataclasses.dataclass
class Spec:
    name: str
    family: str
    description: str
    vision: torch.nn.Module          # pixel_values -> image_embeds, image_tokens
    text: torch.nn.Module            # input_ids, attention_mask -> text_embeds, text_states
    itm: torch.nn.Module             # image_tokens, text_states, attention_mask -> itm_logits, cross_attention
    image_size: int
    resize: str                      # images.SQUASH or images.CENTER_CROP
    tokenizer: str                   # "bert-wordpiece", "clip-bpe" or "sentencepiece-unigram"
    tokenizer_file: str              # the vocab, merges or spiece model to copy into the bundle
    max_length: int
    embed_dim: int
    image_tokens: int
    token_width: int
    patch_grid: int
    scores: dict
    sections: dict                   # extra manifest sections: architecture, source, ...
    image_opts: dict = dataclasses.field(default_factory=dict)  # image section overrides: alpha, mean, ...
    text_opts: dict = dataclasses.field(default_factory=dict)   # text section additions: canonicalize, ...
    special_ids: dict = None         # overrides of the tokenizer's special ids (e.g. CLIP's pad)
    tolerance: dict = None           # verify-model's tolerance (default bundle.DEFAULT_TOLERANCE)

    def image_settings(self):
        """The manifest's image section."""
        img = {"size": self.image_size, "resize": self.resize, "interpolation": "bicubic",
               "mean": list(images.MEAN), "std": list(images.STD), "alpha": images.COMPOSITE,
               "alpha_background": [255, 255, 255], "exif_transpose": True}
        if self.resize == images.CENTER_CROP:
            img["crop_rounding"] = images.HALF_EVEN
        img.update(self.image_opts)
        if img["alpha"] != images.COMPOSITE:
            img.pop("alpha_background")
        return img

    def pixels(self, path):
        """The preprocessed [3,S,S] tensor of path, as the manifest says."""
        img = self.image_settings()
        return images.pixels(path, self.image_size, self.resize, img["mean"], img["std"], img["alpha"],
                             img["exif_transpose"], img.get("crop_rounding", images.HALF_EVEN))


def clean_dir(out):
    os.makedirs(out, exist_ok=True)
    for n in os.listdir(out):
        p = os.path.join(out, n)
        shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)


TOKENIZER_FILES = {"clip-bpe": ("merges", "bpe_simple_vocab_16e6.txt.gz"), "bert-wordpiece": ("vocab", "vocab.txt"),
                   "sentencepiece-unigram": ("model", "spiece.model")}


def make_tokenizer(spec, path):
    """The Python tokenizer of spec over the bundle's tokenizer file, and its special ids."""
    if spec.tokenizer == "clip-bpe":
        tok = ClipBPE(path, spec.max_length, clean=spec.text_opts.get("clean", "openai"))
        if spec.special_ids and "pad" in spec.special_ids:
            tok.pad = spec.special_ids["pad"]
        return tok, {"start": tok.start, "end": tok.end, "pad": tok.pad}
    if spec.tokenizer == "sentencepiece-unigram":
        from .siglip_tokenizer import SiglipText
        tok = SiglipText(path, spec.max_length)
        return tok, {"eos": tok.eos, "pad": tok.pad, "unk": tok.unk}
    tok = WordPiece(path, spec.max_length)
    special = {"cls": tok.cls, "sep": tok.sep, "pad": tok.pad, "unk": tok.unk}
    if spec.text_opts.get("clean") == "blip_caption":
        return CaptionCleaned(tok), special
    return tok, special


class CaptionCleaned:
    """A tokenizer whose texts first go through BLIP's pre_caption (text.clean: blip_caption)."""

    def __init__(self, tok):
        self.tok = tok

    def encode(self, text):
        from upstream.blip import pre_caption
        return self.tok.encode(pre_caption(text))


def export_graphs(spec, out, ids, mask):
    # torch 1.13 warns about every constant it exports; the graphs are checked by onnx.checker
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
    s, n, c = spec.image_size, spec.image_tokens, spec.token_width
    batch = {0: "batch"}
    text_axes = {0: "batch", 1: "length"}
    bundle.export_graph(spec.vision, (torch.randn(2, 3, s, s),), os.path.join(out, "vision.onnx"),
                        ["pixel_values"], ["image_embeds", "image_tokens"],
                        {"pixel_values": batch, "image_embeds": batch, "image_tokens": batch})
    bundle.export_graph(spec.text, (ids, mask), os.path.join(out, "text.onnx"),
                        ["input_ids", "attention_mask"], ["text_embeds", "text_states"],
                        {"input_ids": text_axes, "attention_mask": text_axes, "text_embeds": batch,
                         "text_states": text_axes})
    if spec.itm is not None:
        bundle.export_graph(spec.itm, (torch.randn(2, n, c), torch.randn(2, ids.shape[1], c), mask),
                            os.path.join(out, "itm.onnx"), ["image_tokens", "text_states", "attention_mask"],
                            ["itm_logits", "cross_attention"],
                            {"image_tokens": batch, "text_states": text_axes, "attention_mask": text_axes,
                             "itm_logits": batch, "cross_attention": text_axes})


def write_golden(spec, out, tok, rows, itm_batch=16):
    """golden.json from the PyTorch graph modules; rows are (golden image path, caption)."""
    g = {"images": [], "texts": [], "pairs": []}
    with torch.no_grad():
        pix = []
        for name, _ in rows:
            p = spec.pixels(os.path.join(out, name))
            pix.append(p)
            g["images"].append({"file": name, "pixels": bundle.pixel_golden(p)})
        img_emb, img_tok = spec.vision(torch.from_numpy(np.stack(pix)))
        for gi, e in zip(g["images"], img_emb):
            gi["image_embeds"] = bundle.rounded(e)
        texts = [r[1] for r in rows] + GOLDEN_TEXTS_EXTRA
        enc = [tok.encode(t) for t in texts]
        ids = torch.tensor([e[0] for e in enc])
        mask = torch.tensor([e[1] for e in enc])
        txt_emb, txt_st = spec.text(ids, mask)
        for t, (i, m), e in zip(texts, enc, txt_emb):
            g["texts"].append({"text": t, "input_ids": i, "attention_mask": m, "text_embeds": bundle.rounded(e)})
        if spec.itm is None:
            return g
        pairs = [(i, j) for i in range(len(rows)) for j in range(len(texts))]
        for start in range(0, len(pairs), itm_batch):
            chunk = pairs[start:start + itm_batch]
            logits, att = spec.itm(img_tok[[p[0] for p in chunk]], txt_st[[p[1] for p in chunk]],
                                   mask[[p[1] for p in chunk]])
            for (i, j), lg, a in zip(chunk, logits, att):
                g["pairs"].append({"image": i, "text": j, "itm_logits": bundle.rounded(lg),
                                   "p_match": round(float(lg.softmax(-1)[1]), 6),
                                   "cross_attention_cls_sum": round(float(a[0].sum()), 6)})
    return g


def write(spec, out, tokenizer_path=None, log=print, check=None):
    """Exports spec into out (replaced only on success). check(tmp_dir, golden) may inspect the
    golden outputs before the bundle is published and raise to stop it. Returns the manifest."""
    t0 = time.time()
    out = out.rstrip("/")
    tmp = out + ".partial"
    clean_dir(tmp)
    path = tokenizer_path or spec.tokenizer_file
    files_key, fname = TOKENIZER_FILES[spec.tokenizer]
    shutil.copy(path, os.path.join(tmp, fname))
    tok, special = make_tokenizer(spec, os.path.join(tmp, fname))
    for m in (spec.vision, spec.text, spec.itm):
        if m is not None:
            m.eval()
    rows = images.copy_golden_photos(tmp)
    golden = write_golden(spec, tmp, tok, rows)
    if check is not None:
        check(tmp, golden)
    ids, mask = (torch.tensor([v]) for v in tok.encode("a photo of a cat"))
    ids, mask = ids.repeat(2, 1), mask.repeat(2, 1)
    export_graphs(spec, tmp, ids, mask)
    log(f"{spec.name}: graphs exported in {time.time() - t0:.0f}s")
    with open(os.path.join(tmp, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    graphs = {
        "vision": {"file": "vision.onnx", "inputs": ["pixel_values"], "outputs": ["image_embeds", "image_tokens"]},
        "text": {"file": "text.onnx", "inputs": ["input_ids", "attention_mask"],
                 "outputs": ["text_embeds", "text_states"]},
    }
    if spec.itm is not None:
        graphs["itm"] = {"file": "itm.onnx", "inputs": ["image_tokens", "text_states", "attention_mask"],
                         "outputs": ["itm_logits", "cross_attention"]}
    text = {"tokenizer": spec.tokenizer, "files": {files_key: fname}, "max_length": spec.max_length,
            "special_ids": special}
    if spec.tokenizer == "bert-wordpiece":
        text["lower_case"] = True
    text.update(spec.text_opts)
    manifest = {
        "name": spec.name,
        "family": spec.family,
        "description": spec.description,
        "embedding_dim": spec.embed_dim,
        "image": spec.image_settings(),
        "text": text,
        "graphs": graphs,
        "dims": {"image_tokens": spec.image_tokens, "token_width": spec.token_width, "patch_grid": spec.patch_grid},
        "scores": spec.scores,
        "tolerance": dict(spec.tolerance or bundle.DEFAULT_TOLERANCE),
        "golden": "golden.json",
    }
    manifest.update(spec.sections)
    m = bundle.finish(tmp, manifest)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
    log(f"{spec.name}: bundle written to {out} in {time.time() - t0:.0f}s")
    return m


def count(*modules):
    """Parameters of the given modules (each counted once)."""
    seen, n = set(), 0
    for mod in modules:
        for p in mod.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                n += p.numel()
    return n
