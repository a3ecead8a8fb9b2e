"""CLIP as immich publishes it on the Hugging Face hub (immich-app/ViT-B-32__openai and the like),
rebuilt offline from a seeded random-init open_clip model.

immich's exporter (machine-learning/export/immich_model_exporter, exporters/onnx/models/openclip.py)
writes, for an open_clip model NAME__PRETRAINED:

    config.json                  open_clip.get_model_config(NAME), json.dump'ed (no indent)
    README.md                    a short model card (export.py's generate_readme)
    visual/preprocess_cfg.json   open_clip.get_model_preprocess_cfg(model)
    visual/model.onnx            model.encode_image(image, normalize=True): input "image" float32
                                 [1,3,S,S], output "embedding" [1,D]; no dynamic axes
    textual/model.onnx           model.encode_text(text, normalize=True): input "text" int32
                                 [1,context_length], output "embedding" [1,D]; no dynamic axes
    textual/tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.json, merges.txt
                                 AutoTokenizer.from_pretrained("openai/clip-vit-base-patch32")
                                 .save_pretrained(textual/) (a CLIPTokenizerFast)

plus RKNN builds (visual|textual/rknpu/<soc>/model.rknn) that need Rockchip's toolkit and are not
made here. immich exports with opset 19; Debian's torch 1.13 exports at most opset 17 (immich's
earlier exporter used 17 as well), so OPSET is 17.

The model is open_clip's own CLIP (`open_clip.create_model(arch, pretrained=None,
force_quick_gelu=True)`, with the widths of parity.clip.REDUCED at reduced width; OpenAI's weights
are QuickGELU ones), randomly initialised with export.layers.random_init. config.json is the
arch's open_clip config with those widths, so it describes the exported graphs (like immich's, it
does not name quick_gelu: the published config is the arch's, and the activation comes with the
pretrained tag). The tokenizer is built offline the way parity.clip.write_hf builds it: vocab.json
and merges.txt written from open_clip's copy of OpenAI's BPE file, converted by transformers'
CLIPTokenizerFast; its pad token is the hub's `<|endoftext|>` (49407).

`reference_golden` computes the upstream outputs (golden.json, upstream.golden's format) with
open_clip itself on the same in-memory model: open_clip's preprocess for the model's preprocess cfg
(`image_transform_v2`), open_clip's tokenizer (`get_tokenizer(arch)`: ftfy, HTML-unescaped twice,
whitespace collapsed, lower-cased, zero-padded to 77), encode_image / encode_text normalised.

    out = write_immich("build/immich/ViT-B-32__openai", "reduced", 20261207)
    reference_golden("build/immich/golden.json", "reduced", 20261207, "ViT-B-32", images, texts)
"""
import copy
import json
import os
import tempfile
import warnings

import numpy as np
import torch

import upstream
from export import layers

from . import clip

OPSET = 17  # immich: 19; torch 1.13's exporter stops at 17
PRETRAINED = "openai"
HF_TOKENIZER = "openai/clip-vit-base-patch32"  # what immich saves when the config names no hf_tokenizer_name
PAD_TOKEN = "<|endoftext|>"  # the hub's openai/clip-vit-* tokenizer_config.json pad_token (transformers' default)

README = """---
tags:
 - immich
 - clip
---
# Model Description

This repo contains ONNX exports for the associated CLIP model by OpenCLIP. See the [OpenCLIP](https://github.com/mlfoundations/open_clip) repo for more info.

This repo is specifically intended for use with [Immich](https://immich.app/), a self-hosted photo library.
"""


def model_config(arch, width):
    """open_clip's config of arch (get_model_config), with parity.clip.REDUCED's widths at reduced
    width: vision width/layers, text width/heads/layers, embed_dim. Image size, patch, context
    length and vocabulary stay the arch's."""
    import open_clip
    cfg = open_clip.get_model_config(arch)
    if cfg is None:
        raise ValueError(f"open_clip has no model config {arch!r}")
    cfg = copy.deepcopy(cfg)
    v, t = cfg["vision_cfg"], cfg["text_cfg"]
    if "timm_model_name" in v or "hf_model_name" in t or "hf_tokenizer_name" in t or cfg.get("custom_text"):
        raise ValueError(f"{arch}: only open_clip's own ViT/text towers are built here")
    if width == "reduced":
        vw, vl, tw, tl, embed = clip.REDUCED
        cfg["embed_dim"] = embed
        v.update(width=vw, layers=vl)
        t.update(width=tw, heads=tw // 64, layers=tl)
    elif width != "real":
        raise ValueError(f"width {width!r}: 'reduced' or 'real'")
    return cfg


def build_model(arch, width, seed):
    """(model, config): open_clip's CLIP for arch at width, QuickGELU, seeded random weights, eval,
    its preprocess cfg set as create_model sets it for the 'openai' tag."""
    import open_clip
    from open_clip.pretrained import get_pretrained_cfg
    cfg = model_config(arch, width)
    over = {k: cfg[k] for k in ("embed_dim", "vision_cfg", "text_cfg")}
    pre = {k: v for k, v in (get_pretrained_cfg(arch, PRETRAINED) or {}).items()
           if k in ("mean", "std", "interpolation", "resize_mode")}
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = open_clip.create_model(arch, pretrained=None, force_quick_gelu=True,
                                       force_preprocess_cfg=pre, **copy.deepcopy(over))
    layers.random_init(model, seed).eval()
    return model, cfg


_models = {}


def _model(arch, width, seed):
    key = (arch, width, seed)
    if key not in _models:
        _models.clear()
        _models[key] = build_model(arch, width, seed)
    return _models[key]


def _export(model, fn, arg, name, path):
    """torch.onnx.export of model with forward = fn(x, normalize=True), as immich exports it (the
    initializers keep open_clip's state-dict names)."""
    # torch 1.13's MultiheadAttention takes a fused fast path (no ONNX symbolic) when no parameter
    # needs a gradient; immich turns it off with torch.backends.mha.set_fastpath_enabled(False).
    for p in model.parameters():
        p.requires_grad_(True)
    model.forward = lambda x: getattr(model, fn)(x, normalize=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (arg,), path, input_names=[name], output_names=["embedding"],
                              opset_version=OPSET)
    finally:
        del model.forward
        for p in model.parameters():
            p.requires_grad_(False)


def _save_json(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:  # immich's save_config: json.dump, no indent
        json.dump(obj, f)


def write_tokenizer(out_dir, context_length=77):
    """The textual tokenizer files as CLIPTokenizerFast.save_pretrained writes them, built offline
    from open_clip's BPE file (parity.clip.write_hf's construction)."""
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizer, CLIPTokenizerFast
    st = SimpleTokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        vocab = {clip.OPENAI_SPECIAL.get(k, k): v for k, v in st.encoder.items()}
        with open(os.path.join(tmp, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        merges = sorted(st.bpe_ranks.items(), key=lambda kv: kv[1])
        with open(os.path.join(tmp, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for (a, b), _ in merges))
        slow = CLIPTokenizer(os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt"),
                             model_max_length=context_length, pad_token=PAD_TOKEN)
        slow.save_pretrained(tmp)
        fast = CLIPTokenizerFast.from_pretrained(tmp)
        fast.save_pretrained(out_dir)
    return out_dir


def write_immich(out, width, seed, arch="ViT-B-32"):
    """Writes immich's repository folder for arch (open_clip name, e.g. "ViT-B-32") at width
    ("reduced" or "real") with seeded random weights into out; returns out."""
    import open_clip
    model, cfg = _model(arch, width, seed)
    size = cfg["vision_cfg"]["image_size"]
    ctx = cfg["text_cfg"].get("context_length", 77)
    visual, textual = os.path.join(out, "visual"), os.path.join(out, "textual")
    os.makedirs(visual, exist_ok=True)
    os.makedirs(textual, exist_ok=True)
    _save_json(open_clip.get_model_preprocess_cfg(model), os.path.join(visual, "preprocess_cfg.json"))
    _save_json(cfg, os.path.join(out, "config.json"))
    g = torch.Generator().manual_seed(seed)
    _export(model, "encode_image", torch.randn(1, 3, size, size, generator=g), "image",
            os.path.join(visual, "model.onnx"))
    write_tokenizer(textual, ctx)
    _export(model, "encode_text", torch.ones(1, ctx, dtype=torch.int32), "text", os.path.join(textual, "model.onnx"))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(README)
    return out


class OpenClipReference(upstream.Reference):
    """open_clip's own pipeline for an in-memory CLIP model (upstream.Reference's interface)."""
    has_itm = False

    def __init__(self, model, arch, name):
        import open_clip
        from open_clip.transform import PreprocessCfg, image_transform_v2
        self.model = model
        self.transform = image_transform_v2(PreprocessCfg(**open_clip.get_model_preprocess_cfg(model)), is_train=False)
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.max_length = self.tokenizer.context_length
        self.name = name

    def preprocess(self, path):
        from PIL import Image
        with Image.open(path) as im:
            im.load()
            return self.transform(im).numpy()

    def tokenize(self, texts):
        ids = self.tokenizer(texts, context_length=self.max_length).numpy().astype(np.int64)
        eot = (ids == ids.max(1, keepdims=True)).argmax(1)  # the end token has the largest id (encode_text's argmax)
        return ids, (np.arange(ids.shape[1])[None] <= eot[:, None]).astype(np.int64)

    @torch.no_grad()
    def image_embeds(self, pix):
        return self.model.encode_image(torch.from_numpy(pix), normalize=True).numpy()

    @torch.no_grad()
    def text_embeds(self, ids, mask):
        return self.model.encode_text(torch.from_numpy(ids), normalize=True).numpy()


def reference(width, seed, arch="ViT-B-32"):
    import open_clip
    model, _ = _model(arch, width, seed)
    name = (f"open_clip {open_clip.__version__} {arch} ({width} width, random init, seed {seed}) "
            f"via immich's layout")
    return OpenClipReference(model, arch, name)


def reference_golden(out_json, width, seed, arch, images, texts):
    """Writes golden.json (upstream.golden's format) of open_clip's outputs for the model
    write_immich(…, width, seed, arch) exports, on images (paths) and texts; returns the dict."""
    g = upstream.golden(reference(width, seed, arch), images, texts)
    os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
    with open(out_json, "w") as f:
        json.dump(g, f, indent=1)
    return g
