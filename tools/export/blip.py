"""BLIP image-text matching, base (Salesforce `model_base_retrieval_{coco,flickr}.pth`).

    PYTHONPATH=tools /usr/bin/python3 -m export.blip --checkpoint model_base_retrieval_flickr.pth --out build/models/blip-base
    PYTHONPATH=tools /usr/bin/python3 -m export.blip --random-init --arch base --out DIR

Architecture (the checkpoint's key layout in brackets; the file holds them under `model`):
- vision: ViT-B/16 at 384 px (timm layout, pre-LayerNorm eps 1e-6, final norm on every token)
  [`visual_encoder.{patch_embed.proj,cls_token,pos_embed,blocks.N.*,norm}`] -> 577 tokens of 768.
- text: one BERT (12 layers, every layer with cross-attention weights, no token-type embeddings,
  vocabulary 30,524 = BERT's 30,522 + `[DEC]` + `[ENC]`) [`text_encoder.*`]. Its unimodal pass
  (cross-attention skipped) on `[CLS] ...` gives the ITC text embedding; its multimodal pass on
  `[ENC] ...` (the first id replaced by 30523, the last vocabulary row) cross-attends to the image.
- ITC: normalise(Linear 768->256) [`vision_proj`, `text_proj`]; ITM: Linear 768->2 on the
  multimodal output at position 0 [`itm_head`].

In the bundle the text graph does both text jobs: text_embeds from the `[CLS]` pass, and as
text_states the embedding-layer output of the `[ENC]` ids, which the itm graph runs through the 12
layers with cross-attention. The Go tokenizer therefore stays the stock BERT one (it never emits
[ENC]; the graph substitutes it). Preprocessing: bicubic squash to 384, CLIP mean/std, max length
35. BLIP's own caption cleaning (`pre_caption`: lower-case, some punctuation removed) is not done.

Left out (counted in the key report): momentum copies, queues, temperature, and a captioning
decoder (`text_decoder.*`) if the file carries one.
"""
import dataclasses
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import cli, images, keys, writer
from vlm.tiny_model import ITMGraph, TextGraph, VisionGraph  # the contract's three graph wrappers

from .layers import BertEmbeddings, BertEncoder, TimmVisionTransformer


@dataclasses.dataclass
class Config:
    image_size: int = 384
    patch: int = 16
    vision_width: int = 768
    vision_layers: int = 12
    width: int = 768
    layers: int = 12
    inner: int = 3072
    vocab: int = 30524
    max_position: int = 512
    embed_dim: int = 256
    max_length: int = 35
    enc_token_id: int = 30523


PRESETS = {
    "base": Config(),
    "tiny": Config(vision_width=128, vision_layers=2, width=128, layers=2, inner=256, embed_dim=64),
}
DEFAULT_ARCH = "base"
FAMILY = "blip"
IGNORE = [keys.MOMENTUM, keys.QUEUES, keys.TEMP, keys.POSITION_IDS,
          keys.Ignore("captioning decoder (not used for matching)", r"^text_decoder\.")]


class _Holder(nn.Module):
    """A bare container, so that submodules get the upstream key prefixes."""


class BlipITM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.visual_encoder = TimmVisionTransformer(cfg.image_size, cfg.patch, cfg.vision_width, cfg.vision_layers,
                                                    cfg.vision_width // 64)
        self.text_encoder = _Holder()
        self.text_encoder.embeddings = BertEmbeddings(cfg.vocab, cfg.width, cfg.max_position, 0)
        self.text_encoder.encoder = BertEncoder(cfg.layers, cfg.width, cfg.width // 64, cfg.inner, cross=True,
                                                ctx_width=cfg.vision_width)
        self.vision_proj = nn.Linear(cfg.vision_width, cfg.embed_dim)
        self.text_proj = nn.Linear(cfg.width, cfg.embed_dim)
        self.itm_head = nn.Linear(cfg.width, 2)

    def encode_image(self, pixels):
        tokens = self.visual_encoder(pixels)
        return F.normalize(self.vision_proj(tokens[:, 0]), dim=-1), tokens

    def encode_text(self, ids, mask):
        emb = self.text_encoder.embeddings
        states, _ = self.text_encoder.encoder(emb(ids), mask)  # mode "text": cross-attention skipped
        enc_ids = torch.cat([torch.full_like(ids[:, :1], self.cfg.enc_token_id), ids[:, 1:]], 1)
        return F.normalize(self.text_proj(states[:, 0]), dim=-1), emb(enc_ids)

    def itm(self, image_tokens, text_states, mask):
        x, probs = self.text_encoder.encoder(text_states, mask, ctx=image_tokens)
        return self.itm_head(x[:, 0]), probs.mean(1)


def infer_config(sd, args):
    if "visual_encoder.patch_embed.proj.weight" not in sd:
        raise ValueError("not a BLIP checkpoint (no visual_encoder.patch_embed.proj.weight)")
    conv = sd["visual_encoder.patch_embed.proj.weight"]
    grid = round((sd["visual_encoder.pos_embed"].shape[1] - 1) ** 0.5)
    words = sd["text_encoder.embeddings.word_embeddings.weight"]
    return Config(
        image_size=conv.shape[-1] * grid, patch=conv.shape[-1], vision_width=conv.shape[0],
        vision_layers=keys.count_layers(sd, "visual_encoder.blocks."), width=words.shape[1],
        layers=keys.count_layers(sd, "text_encoder.encoder.layer."),
        inner=sd["text_encoder.encoder.layer.0.intermediate.dense.weight"].shape[0], vocab=words.shape[0],
        max_position=sd["text_encoder.embeddings.position_embeddings.weight"].shape[0],
        embed_dim=sd["vision_proj.weight"].shape[0], max_length=args.max_length or 35,
        enc_token_id=words.shape[0] - 1)


def build(cfg):
    return BlipITM(cfg)


def spec(model, cfg, name, sections):
    if cfg.vision_width != cfg.width:
        raise ValueError(f"vision width {cfg.vision_width} != text width {cfg.width}: the bundle contract has one "
                         "token width for image tokens and text states")
    grid = cfg.image_size // cfg.patch
    params = {"vision": writer.count(model.visual_encoder, model.vision_proj),
              "text_and_itm": writer.count(model.text_encoder, model.text_proj, model.itm_head),
              "total": writer.count(model)}
    sections = dict(sections, parameters=params)
    sections["architecture"] = dict(dataclasses.asdict(cfg), vision_heads=cfg.vision_width // 64,
                                    heads=cfg.width // 64,
                                    text_states="embedding output of the ids with [CLS] replaced by [ENC]")
    return writer.Spec(
        name=name, family=FAMILY,
        description="BLIP image-text matching (base): ViT-B/16 image tokens, a BERT text encoder whose unimodal "
                    "pass gives the ITC embedding and whose [ENC] pass with cross-attention gives the 2-way ITM "
                    "logits; BLIP ranks by ITM plus ITC.",
        vision=VisionGraph(model), text=TextGraph(model), itm=ITMGraph(model), image_size=cfg.image_size,
        resize=images.SQUASH, tokenizer="bert-wordpiece", tokenizer_file=writer.BERT_VOCAB,
        max_length=cfg.max_length, embed_dim=cfg.embed_dim, image_tokens=grid * grid + 1,
        token_width=cfg.width, patch_grid=grid,
        scores={"itm": "softmax(itm_logits)[1] = p_match", "itc": "dot product of the normalised embeddings",
                "rank": "itm+itc", "match_threshold": 0.5},
        sections=sections)


def probe(model, cfg, s, tok, image, texts):
    """BLIP's demo outputs: the ITM match probability and the ITC cosine of each (image, text)."""
    return cli.itm_probe(s, tok, image, texts, cfg.image_size, images.SQUASH)


def main(argv=None):
    return cli.main(sys.modules[__name__], argv, name_prefix="blip", doc=__doc__)


if __name__ == "__main__":
    main()
