"""BLIP image-text matching, base: Salesforce's `.pth` release or the Hugging Face layout.

    PYTHONPATH=tools python -m export.blip --checkpoint model_base_retrieval_flickr.pth --out build/models/blip-base
    PYTHONPATH=tools python -m export.blip --checkpoint MODEL_DIR --out build/models/blip-itm-base-coco [--verify-upstream]
    PYTHONPATH=tools python -m export.blip --random-init --arch base --out DIR

Two layouts are read:
- Salesforce's release (`model_base_retrieval_{coco,flickr}.pth`: `{"model": state_dict}` with
  momentum copies and queues), the model of BLIP's own retrieval evaluation: its ViT uses
  LayerNorm eps 1e-6, captions go through `pre_caption` (lower-cased, `.!"()*#:;~` turned into
  spaces, spaces collapsed, at most 30 words), images through `Image.open(p).convert('RGB')` (no
  EXIF orientation);
- the Hugging Face layout (e.g. Salesforce/blip-itm-base-coco: `config.json`, `model.safetensors`
  or `pytorch_model.bin`, `vocab.txt` and the tokenizer configs), `BlipForImageTextRetrieval`:
  the ViT's eps and the widths come from config.json, images through transformers' load_image
  (EXIF transpose, convert('RGB')) and BlipImageProcessor, texts through the folder's tokenizer
  without pre_caption. Its keys (`vision_model.*`) are renamed to BLIP's own (`visual_encoder.*`)
  by the inverse of transformers' conversion script.

Architecture (BLIP's key layout in brackets):
- vision: ViT-B/16 at 384 px (timm layout, pre-LayerNorm, final norm on every token)
  [`visual_encoder.{patch_embed.proj,cls_token,pos_embed,blocks.N.*,norm}`] -> 577 tokens of 768.
- text: one BERT (12 layers, every layer with cross-attention weights, no token-type embeddings,
  vocabulary 30,524 = BERT's 30,522 + `[DEC]` + `[ENC]`) [`text_encoder.*`]. Its unimodal pass
  (cross-attention skipped) on `[CLS] ...` gives the ITC text embedding; its multimodal pass on
  `[ENC] ...` (the first id replaced by 30523, the last vocabulary row) cross-attends to the image,
  as BLIP's retrieval evaluation does (the Hugging Face model's own forward keeps the `[CLS]` its
  processor produces; the exported graph follows the evaluation).
- ITC: normalise(Linear 768->256) [`vision_proj`, `text_proj`]; ITM: Linear 768->2 on the
  multimodal output at position 0 [`itm_head`]. BLIP's evaluation ranks by the raw match logit
  plus the ITC similarity (`scores.rank: itm_logit+itc`).

In the bundle the text graph does both text jobs: text_embeds from the `[CLS]` pass, and as
text_states the embedding-layer output of the `[ENC]` ids, which the itm graph runs through the 12
layers with cross-attention. The Go tokenizer therefore stays the stock BERT one.

Left out (counted in the key report): momentum copies, queues, temperature, and a captioning
decoder (`text_decoder.*`) if the file carries one.
"""
import dataclasses
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import cli, images, keys, source, writer
from vlm.tiny_model import ITMGraph, TextGraph, VisionGraph  # the contract's three graph wrappers

from .layers import BertEmbeddings, BertEncoder, TimmVisionTransformer


@dataclasses.dataclass
class Config:
    image_size: int = 384
    patch: int = 16
    vision_width: int = 768
    vision_layers: int = 12
    vision_eps: float = 1e-6
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
UPSTREAM = "blip"
IGNORE = [keys.MOMENTUM, keys.QUEUES, keys.TEMP, keys.POSITION_IDS,
          keys.Ignore("captioning decoder (not used for matching)", r"^text_decoder\.")]
HF, SALESFORCE = "hugging face folder", "salesforce checkpoint"

# Hugging Face's names for BLIP's ViT keys (transformers' convert_blip_original_pytorch_to_hf
# rename_key, read backwards), applied in order to a `vision_model.` key.
HF_VISION = [
    ("vision_model.embeddings.patch_embedding.", "visual_encoder.patch_embed.proj."),
    ("vision_model.embeddings.class_embedding", "visual_encoder.cls_token"),
    ("vision_model.embeddings.position_embedding", "visual_encoder.pos_embed"),
    ("vision_model.post_layernorm.", "visual_encoder.norm."),
    ("vision_model.encoder.layers.", "visual_encoder.blocks."),
    (".self_attn.projection.", ".attn.proj."),
    (".self_attn.qkv.", ".attn.qkv."),
    (".layer_norm1.", ".norm1."),
    (".layer_norm2.", ".norm2."),
]


def from_hf_key(k):
    if k.startswith("vision_model."):
        for a, b in HF_VISION:
            k = k.replace(a, b)
    return k


class _Holder(nn.Module):
    """A bare container, so that submodules get the upstream key prefixes."""


class BlipITM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.visual_encoder = TimmVisionTransformer(cfg.image_size, cfg.patch, cfg.vision_width, cfg.vision_layers,
                                                    cfg.vision_width // 64, cfg.vision_eps)
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


def read_source(path):
    """A Salesforce `.pth` file or a Hugging Face folder, keys in BLIP's own naming."""
    src = source.open_source(path, weights=("model.safetensors", "pytorch_model.bin"), configs=("config.json",),
                             tokenizer=("vocab.txt",))
    if src.folder is not None:
        if "config.json" not in src.configs:
            raise FileNotFoundError(f"{path}: a Hugging Face BLIP folder needs config.json")
        src.state_dict = {from_hf_key(k): v for k, v in src.state_dict.items()}
    return src


def layout(src):
    return HF if src is not None and src.folder else SALESFORCE


def tokenizer_file(src):
    return src.tokenizer.get("vocab.txt") if src is not None else None


def infer_config(src, args):
    sd = src.state_dict
    if "visual_encoder.patch_embed.proj.weight" not in sd:
        raise ValueError("not a BLIP checkpoint (no visual_encoder.patch_embed.proj.weight)")
    eps = 1e-6
    if src.folder:
        c = src.config("config.json")
        vc, tc = c.get("vision_config", {}), c.get("text_config", {})
        eps = vc.get("layer_norm_eps", 1e-5)  # transformers' BlipVisionConfig default
        for part, act in (("vision_config", vc.get("hidden_act", "gelu")), ("text_config", tc.get("hidden_act", "gelu"))):
            if act != "gelu":
                raise ValueError(f"config.json {part}.hidden_act {act!r}: only the exact gelu is supported")
        if tc.get("layer_norm_eps", 1e-12) != 1e-12:
            raise ValueError(f"config.json text_config.layer_norm_eps {tc['layer_norm_eps']}: only 1e-12 is supported")
    conv = sd["visual_encoder.patch_embed.proj.weight"]
    grid = round((sd["visual_encoder.pos_embed"].shape[1] - 1) ** 0.5)
    words = sd["text_encoder.embeddings.word_embeddings.weight"]
    return Config(
        image_size=conv.shape[-1] * grid, patch=conv.shape[-1], vision_width=conv.shape[0],
        vision_layers=keys.count_layers(sd, "visual_encoder.blocks."), vision_eps=eps, width=words.shape[1],
        layers=keys.count_layers(sd, "text_encoder.encoder.layer."),
        inner=sd["text_encoder.encoder.layer.0.intermediate.dense.weight"].shape[0], vocab=words.shape[0],
        max_position=sd["text_encoder.embeddings.position_embeddings.weight"].shape[0],
        embed_dim=sd["vision_proj.weight"].shape[0], max_length=args.max_length or 35,
        enc_token_id=words.shape[0] - 1)


def ignore(cfg):
    return IGNORE


def build(cfg):
    return BlipITM(cfg)


def upstream_options(spec):
    return {}


def spec(model, cfg, name, sections, src=None):
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
    hf = layout(src) == HF
    return writer.Spec(
        name=name, family=FAMILY,
        description="BLIP image-text matching (base): ViT-B/16 image tokens, a BERT text encoder whose unimodal "
                    "pass gives the ITC embedding and whose [ENC] pass with cross-attention gives the 2-way ITM "
                    "logits; BLIP ranks by the match logit plus ITC.",
        vision=VisionGraph(model), text=TextGraph(model), itm=ITMGraph(model), image_size=cfg.image_size,
        resize=images.SQUASH, tokenizer="bert-wordpiece", tokenizer_file=writer.BERT_VOCAB,
        max_length=cfg.max_length, embed_dim=cfg.embed_dim, image_tokens=grid * grid + 1,
        token_width=cfg.width, patch_grid=grid,
        scores={"itm": "softmax(itm_logits)[1] = p_match", "itc": "dot product of the normalised embeddings",
                "rank": "itm_logit+itc", "match_threshold": 0.5},
        image_opts={"alpha": images.DROP, "exif_transpose": hf},
        text_opts={} if hf else {"clean": "blip_caption"},
        sections=sections)


def probe(model, cfg, s, tok, image, texts):
    """BLIP's outputs: the ITM match probability and the ITC cosine of each (image, text)."""
    return cli.itm_probe(s, tok, image, texts)


def main(argv=None):
    return cli.main(sys.modules[__name__], argv, name_prefix="blip", doc=__doc__)


if __name__ == "__main__":
    main()
