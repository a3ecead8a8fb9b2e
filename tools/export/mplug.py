"""mPLUG image-text retrieval (ModelScope `damo/mplug_image-text-retrieval_flickr30k_large_en`).

    PYTHONPATH=tools /usr/bin/python3 -m export.mplug --checkpoint pytorch_model.bin --out build/models/mplug-large
    PYTHONPATH=tools /usr/bin/python3 -m export.mplug --random-init --arch large --out DIR

Architecture (the checkpoint's key layout in brackets):
- vision: CLIP ViT-L/14 at 336 px, 577 tokens of width 1024, ln_post on every token and no final
  projection [`visual_encoder.visual.*`]; then Linear 1024->768 and LayerNorm eps 1e-12
  [`visn_fc`, `visn_layer_norm`] -> image tokens [577, 768]. Positions are the checkpoint's 577
  (already resized to 336 px upstream): height and width are static. This module never uses
  gradient checkpointing, so there is nothing to switch off before tracing.
- text: BERT uncased, 6 layers [`text_encoder.embeddings.*`, `text_encoder.encoder.layer.N.*`].
- fusion: 6 BERT layers with cross-attention to the image tokens [`fusion_encoder.encoder.layer.N.*`].
- ITC: normalise(Linear 768->256) of the image CLS and of the text CLS [`vision_proj`, `text_proj`].
- ITM: Linear 768->2 on the fusion output at the text CLS [`itm_head`]; score = softmax, index 1.
Preprocessing: bicubic squash to 336, CLIP mean/std; BERT uncased WordPiece, max length 25.

Left out as training-only state (counted in the key report): the momentum copies (`*_m.`), the
queues, the temperature, and the parts of the CLIP model mPLUG keeps but never runs for retrieval
(its text tower under `visual_encoder.` and `visual_encoder.visual.proj`).
"""
import dataclasses
import sys

import torch.nn as nn
import torch.nn.functional as F

from . import cli, images, keys, writer
from vlm.tiny_model import ITMGraph, TextGraph, VisionGraph  # the contract's three graph wrappers

from .layers import BertEmbeddings, BertEncoder, ClipVisionTransformer


@dataclasses.dataclass
class Config:
    image_size: int = 336
    patch: int = 14
    vision_width: int = 1024
    vision_layers: int = 24
    visn_fc: bool = True          # mPLUG-large maps the 1024-wide ViT tokens to the text width
    width: int = 768
    text_layers: int = 6
    fusion_layers: int = 6
    inner: int = 3072
    vocab: int = 30522
    max_position: int = 512
    type_vocab: int = 2
    embed_dim: int = 256
    max_length: int = 25


PRESETS = {
    "large": Config(),
    "tiny": Config(vision_width=192, vision_layers=2, width=128, text_layers=2, fusion_layers=2, inner=256,
                   embed_dim=64),
}
DEFAULT_ARCH = "large"
FAMILY = "mplug"
IGNORE = [
    keys.MOMENTUM, keys.QUEUES, keys.TEMP, keys.POSITION_IDS,
    keys.Ignore("CLIP text tower inside visual_encoder (not used by mPLUG)",
                r"^visual_encoder\.(transformer|token_embedding|positional_embedding|ln_final|text_projection|logit_scale)"),
    keys.Ignore("CLIP visual projection (mPLUG takes the tokens before it)", r"^visual_encoder\.visual\.proj$"),
    keys.Ignore("BERT poolers and fusion embeddings (not used for retrieval)",
                r"^(text_encoder|fusion_encoder)\.pooler\.|^fusion_encoder\.embeddings\."),
]


class _Holder(nn.Module):
    """A bare container, so that submodules get the upstream key prefixes."""


class MPlugRetrieval(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        heads = cfg.width // 64
        self.visual_encoder = _Holder()
        self.visual_encoder.visual = ClipVisionTransformer(cfg.image_size, cfg.patch, cfg.vision_width,
                                                           cfg.vision_layers, cfg.vision_width // 64, None)
        if cfg.visn_fc:
            self.visn_fc = nn.Linear(cfg.vision_width, cfg.width)
            self.visn_layer_norm = nn.LayerNorm(cfg.width, eps=1e-12)
        self.text_encoder = _Holder()
        self.text_encoder.embeddings = BertEmbeddings(cfg.vocab, cfg.width, cfg.max_position, cfg.type_vocab)
        self.text_encoder.encoder = BertEncoder(cfg.text_layers, cfg.width, heads, cfg.inner)
        self.fusion_encoder = _Holder()
        self.fusion_encoder.encoder = BertEncoder(cfg.fusion_layers, cfg.width, heads, cfg.inner, cross=True)
        self.vision_proj = nn.Linear(cfg.width, cfg.embed_dim)
        self.text_proj = nn.Linear(cfg.width, cfg.embed_dim)
        self.itm_head = nn.Linear(cfg.width, 2)

    def encode_image(self, pixels):
        tokens = self.visual_encoder.visual.tokens(pixels)
        if self.cfg.visn_fc:
            tokens = self.visn_layer_norm(self.visn_fc(tokens))
        return F.normalize(self.vision_proj(tokens[:, 0]), dim=-1), tokens

    def encode_text(self, ids, mask):
        states, _ = self.text_encoder.encoder(self.text_encoder.embeddings(ids), mask)
        return F.normalize(self.text_proj(states[:, 0]), dim=-1), states

    def itm(self, image_tokens, text_states, mask):
        x, probs = self.fusion_encoder.encoder(text_states, mask, ctx=image_tokens)
        return self.itm_head(x[:, 0]), probs.mean(1)


def infer_config(sd, args):
    v = "visual_encoder.visual."
    if v + "conv1.weight" not in sd:
        raise ValueError("not an mPLUG checkpoint (no visual_encoder.visual.conv1.weight)")
    conv = sd[v + "conv1.weight"]
    grid = round((sd[v + "positional_embedding"].shape[0] - 1) ** 0.5)
    emb = "text_encoder.embeddings."
    return Config(
        image_size=conv.shape[-1] * grid, patch=conv.shape[-1], vision_width=conv.shape[0],
        vision_layers=keys.count_layers(sd, v + "transformer.resblocks."), visn_fc="visn_fc.weight" in sd,
        width=sd[emb + "word_embeddings.weight"].shape[1], text_layers=keys.count_layers(sd, "text_encoder.encoder.layer."),
        fusion_layers=keys.count_layers(sd, "fusion_encoder.encoder.layer."),
        inner=sd["text_encoder.encoder.layer.0.intermediate.dense.weight"].shape[0],
        vocab=sd[emb + "word_embeddings.weight"].shape[0], max_position=sd[emb + "position_embeddings.weight"].shape[0],
        type_vocab=sd[emb + "token_type_embeddings.weight"].shape[0] if emb + "token_type_embeddings.weight" in sd else 0,
        embed_dim=sd["vision_proj.weight"].shape[0], max_length=args.max_length or 25)


def build(cfg):
    return MPlugRetrieval(cfg)


def spec(model, cfg, name, sections):
    grid = cfg.image_size // cfg.patch
    vis = [model.visual_encoder, model.vision_proj] + ([model.visn_fc, model.visn_layer_norm] if cfg.visn_fc else [])
    params = {"vision": writer.count(*vis), "text": writer.count(model.text_encoder, model.text_proj),
              "itm": writer.count(model.fusion_encoder, model.itm_head), "total": writer.count(model)}
    sections = dict(sections, parameters=params)
    sections["architecture"] = dict(dataclasses.asdict(cfg), vision_heads=cfg.vision_width // 64,
                                    heads=cfg.width // 64)
    return writer.Spec(
        name=name, family=FAMILY,
        description="mPLUG image-text retrieval: CLIP ViT image tokens, a 6-layer BERT text encoder, "
                    "6 fusion layers with cross-attention and a 2-way ITM head (ModelScope's retrieval pipeline "
                    "returns the same softmax as {'scores': [p_no_match, p_match]}).",
        vision=VisionGraph(model), text=TextGraph(model), itm=ITMGraph(model), image_size=cfg.image_size,
        resize=images.SQUASH, tokenizer="bert-wordpiece", tokenizer_file=writer.BERT_VOCAB,
        max_length=cfg.max_length, embed_dim=cfg.embed_dim, image_tokens=grid * grid + 1, token_width=cfg.width,
        patch_grid=grid,
        scores={"itm": "softmax(itm_logits)[1] = p_match", "itc": "dot product of the normalised embeddings",
                "rank": "itm", "match_threshold": 0.5},
        sections=sections)


def probe(model, cfg, s, tok, image, texts):
    """ModelScope's output for each (image, text): {'scores': [p_no_match, p_match]}, plus ITC."""
    return cli.itm_probe(s, tok, image, texts, cfg.image_size, images.SQUASH)


def main(argv=None):
    return cli.main(sys.modules[__name__], argv, name_prefix="mplug", doc=__doc__)


if __name__ == "__main__":
    main()
