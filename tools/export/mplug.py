"""mPLUG image-text retrieval (ModelScope `damo/mplug_image-text-retrieval_flickr30k_large_en`).

    PYTHONPATH=tools python -m export.mplug --checkpoint MODEL_DIR --out build/models/mplug-large [--verify-upstream]
    PYTHONPATH=tools python -m export.mplug --checkpoint pytorch_model.bin --out DIR
    PYTHONPATH=tools python -m export.mplug --random-init --arch large --out DIR

MODEL_DIR is the folder as the ModelScope hub publishes it: `configuration.json`, `config.yaml`
(image_res, embed_dim, the CLIP settings, `bert_config`), the BERT config it names (usually
`config_bert.json`: num_hidden_layers, text_encoder_layers, fusion_layers, stride_layer),
`vocab.txt` and `pytorch_model.bin`. A bare `pytorch_model.bin` takes the upstream defaults of the
large model (12 stored fusion layers of which the last 6 run, stride 6) and the repository's BERT
vocabulary. The weights are read as ModelScope's loader reads them: `model` and `module`
containers unwrapped and every `model.` removed from the keys.

Architecture (the checkpoint's key layout in brackets):
- vision: CLIP ViT-L/14 at 336 px, 577 tokens of width 1024, ln_post on every token and no final
  projection [`visual_encoder.visual.*`]; then Linear 1024->768 and LayerNorm eps 1e-12
  [`visn_fc`, `visn_layer_norm`] -> image tokens [577, 768]. Positions are the checkpoint's 577:
  height and width are static. This module never uses gradient checkpointing.
- text: BERT uncased, `text_encoder_layers` layers [`text_encoder.embeddings.*`, `text_encoder.encoder.layer.N.*`].
- fusion: the checkpoint stores `num_hidden_layers` fusion layers, upstream runs only the last
  `fusion_layers` of them (FusionEncoder starts at num_hidden_layers - fusion_layers), each with
  self-attention, cross-attention to the image tokens and the feed-forward
  [`fusion_encoder.encoder.layer.N.*`]. A layer whose index counted from the start is non-zero
  and divisible by `stride_layer` uses connected attention instead: self-attention over the image
  and text tokens together, the feed-forward on both, the image part added to the image tokens
  (never for large: stride 6 over 6 layers; at fusion layer 3 with the stride-3 configs).
- ITC: normalise(Linear 768->256) of the image CLS and of the text CLS [`vision_proj`, `text_proj`].
- ITM: Linear 768->2 on the fusion output at the text CLS [`itm_head`]; p_match = softmax[1]; the
  paper's evaluation ranks the ITC top-k by the raw match logit (`scores.rank: itm_logit`).
Preprocessing as ModelScope's MPlugPreprocessor: EXIF transpose, convert('RGB') (alpha dropped),
bicubic squash to image_res, CLIP mean/std; BERT uncased WordPiece, 25 tokens.

Refused: checkpoints without `visn_fc` (mPLUG base, ViT-B/16): ModelScope's retrieval forward
applies visn_fc unconditionally, so no upstream implementation runs them and nothing could prove
an export. Left out as documented groups (counted in the key report): the momentum copies, the
queues, the temperature, the fusion layers before the start layer, the CLIP text tower mPLUG keeps
under `visual_encoder.`, the unused `visual_encoder.visual.proj`, BERT poolers and the fusion
encoder's unused embeddings (AliceMind checkpoints carry them).
"""
import dataclasses
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import cli, images, keys, source, writer
from vlm.tiny_model import ITMGraph, TextGraph, VisionGraph  # the contract's three graph wrappers

from .layers import BertEmbeddings, BertEncoder, BertLayer, ClipVisionTransformer, mask_bias


@dataclasses.dataclass
class Config:
    image_size: int = 336
    patch: int = 14
    vision_width: int = 1024
    vision_layers: int = 24
    visn_fc: bool = True          # mPLUG-large maps the 1024-wide ViT tokens to the text width
    width: int = 768
    heads: int = 12
    text_layers: int = 6
    fusion_layers: int = 6        # the fusion layers that run
    fusion_start: int = 6         # stored fusion layers before them (never run)
    stride: int = 6               # connected attention at fusion layers i > 0 with i % stride == 0
    inner: int = 3072
    vocab: int = 30522
    max_position: int = 512
    type_vocab: int = 2
    embed_dim: int = 256
    max_length: int = 25


PRESETS = {
    "large": Config(),
    "large-stride3": Config(stride=3),
    "tiny": Config(vision_width=1024, vision_layers=2, width=128, heads=2, text_layers=2, fusion_layers=2,
                   fusion_start=2, stride=2, inner=256, embed_dim=64),
}
DEFAULT_ARCH = "large"
FAMILY = "mplug"
UPSTREAM = "mplug"
# ModelScope's MPlugConfig and FusionLayer defaults, for a bare weights file.
UPSTREAM_DEFAULTS = {"image_res": 336, "num_hidden_layers": 12, "fusion_layers": 6, "stride_layer": 6}
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


class FusionEncoder(nn.Module):
    """The fusion layers that run (see the module docstring for connected attention)."""

    def __init__(self, cfg):
        super().__init__()
        self.stride = cfg.stride
        self.layer = nn.ModuleList(BertLayer(cfg.width, cfg.heads, cfg.inner, cross=True)
                                   for _ in range(cfg.fusion_layers))

    def forward(self, x, mask, ctx):
        """Returns the text states and the cross-attention probabilities of the last layer that
        cross-attends."""
        bias = mask_bias(mask)
        probs = None
        for i, layer in enumerate(self.layer):
            if i == 0 or i % self.stride != 0:
                x, probs = layer(x, bias, ctx)
                continue
            n = ctx.shape[1]
            both = torch.cat([ctx, x], 1)
            both_bias = torch.cat([torch.zeros_like(bias[..., :1]).expand(-1, -1, -1, n), bias], -1)
            h, _ = layer.attention(both, both, both_bias)
            out = layer.output(layer.intermediate(h), h)
            ctx = ctx + out[:, :n]
            x = out[:, n:]
        return x, probs


class MPlugRetrieval(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.visual_encoder = _Holder()
        self.visual_encoder.visual = ClipVisionTransformer(cfg.image_size, cfg.patch, cfg.vision_width,
                                                           cfg.vision_layers, cfg.vision_width // 64, None)
        self.visn_fc = nn.Linear(cfg.vision_width, cfg.width)
        self.visn_layer_norm = nn.LayerNorm(cfg.width, eps=1e-12)
        self.text_encoder = _Holder()
        self.text_encoder.embeddings = BertEmbeddings(cfg.vocab, cfg.width, cfg.max_position, cfg.type_vocab)
        self.text_encoder.encoder = BertEncoder(cfg.text_layers, cfg.width, cfg.heads, cfg.inner)
        self.fusion_encoder = _Holder()
        self.fusion_encoder.encoder = FusionEncoder(cfg)
        self.vision_proj = nn.Linear(cfg.width, cfg.embed_dim)
        self.text_proj = nn.Linear(cfg.width, cfg.embed_dim)
        self.itm_head = nn.Linear(cfg.width, 2)

    def encode_image(self, pixels):
        tokens = self.visn_layer_norm(self.visn_fc(self.visual_encoder.visual.tokens(pixels)))
        return F.normalize(self.vision_proj(tokens[:, 0]), dim=-1), tokens

    def encode_text(self, ids, mask):
        states, _ = self.text_encoder.encoder(self.text_encoder.embeddings(ids), mask)
        return F.normalize(self.text_proj(states[:, 0]), dim=-1), states

    def itm(self, image_tokens, text_states, mask):
        x, probs = self.fusion_encoder.encoder(text_states, mask, ctx=image_tokens)
        return self.itm_head(x[:, 0]), probs.mean(1)


def read_source(path):
    """The checkpoint file or ModelScope folder at path, keys as ModelScope's loader leaves them."""
    src = source.open_source(path, weights=("pytorch_model.bin",), configs=("configuration.json", "config.yaml"),
                             tokenizer=("vocab.txt",), read=_read)
    if src.folder is not None:
        yml = src.config("config.yaml")
        if yml is None:
            raise FileNotFoundError(f"{path}: a ModelScope mPLUG folder needs config.yaml")
        name = yml.get("bert_config", "config_bert.json")
        try:
            src.configs["bert"] = source.parse_config(f"{src.folder}/{name}")
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: config.yaml names the BERT config {name}, which is missing") from None
    return src


def _read(path):
    """keys.read_checkpoint, then ModelScope's key rule: every 'model.' removed."""
    return {k.replace("model.", ""): v for k, v in keys.read_checkpoint(path).items()}


def layout(src):
    return "modelscope folder" if src.folder else "state dict file (upstream defaults)"


def tokenizer_file(src):
    return src.tokenizer.get("vocab.txt") if src is not None else None


def infer_config(src, args):
    sd = src.state_dict
    v = "visual_encoder.visual."
    if v + "conv1.weight" not in sd:
        raise ValueError("not an mPLUG checkpoint (no visual_encoder.visual.conv1.weight)")
    if "visn_fc.weight" not in sd:
        raise ValueError("an mPLUG checkpoint without visn_fc (mPLUG base, ViT-B/16) is not supported: ModelScope's "
                         "retrieval pipeline cannot run it either, so no upstream output could prove an export")
    bert = src.config("bert", {})
    yml = src.config("config.yaml", {})
    if bert.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"config_bert.json hidden_act {bert['hidden_act']!r}: only BERT's exact gelu is supported")
    conv = sd[v + "conv1.weight"]
    grid = round((sd[v + "positional_embedding"].shape[0] - 1) ** 0.5)
    stored = keys.count_layers(sd, "fusion_encoder.encoder.layer.")
    total = bert.get("num_hidden_layers", UPSTREAM_DEFAULTS["num_hidden_layers"] if not bert else stored)
    run = bert.get("fusion_layers", UPSTREAM_DEFAULTS["fusion_layers"])
    if stored != total:
        raise ValueError(f"the checkpoint stores {stored} fusion layers, the BERT config says num_hidden_layers {total}")
    start = max(0, total - run)
    emb = "text_encoder.embeddings."
    width = sd[emb + "word_embeddings.weight"].shape[1]
    image_size = conv.shape[-1] * grid
    if yml.get("image_res", image_size) != image_size:
        raise ValueError(f"config.yaml image_res {yml['image_res']} does not match the {grid}x{grid} position grid "
                         f"of patch {conv.shape[-1]} ({image_size} px)")
    return Config(
        image_size=image_size, patch=conv.shape[-1], vision_width=conv.shape[0],
        vision_layers=keys.count_layers(sd, v + "transformer.resblocks."), visn_fc=True,
        width=width, heads=bert.get("num_attention_heads", width // 64),
        text_layers=keys.count_layers(sd, "text_encoder.encoder.layer."),
        fusion_layers=total - start, fusion_start=start,
        stride=bert.get("stride_layer", UPSTREAM_DEFAULTS["stride_layer"] if not bert else 100),
        inner=sd["text_encoder.encoder.layer.0.intermediate.dense.weight"].shape[0],
        vocab=sd[emb + "word_embeddings.weight"].shape[0], max_position=sd[emb + "position_embeddings.weight"].shape[0],
        type_vocab=sd[emb + "token_type_embeddings.weight"].shape[0] if emb + "token_type_embeddings.weight" in sd else 0,
        embed_dim=sd["vision_proj.weight"].shape[0], max_length=args.max_length or 25)


SKIPPED = "fusion_encoder.skipped_layer."


def ignore(cfg):
    rules = list(IGNORE)
    if cfg.fusion_start:
        rules.append(keys.Ignore(
            f"fusion layers 0-{cfg.fusion_start - 1} (stored, never run: the fusion starts at layer {cfg.fusion_start})",
            "^" + SKIPPED.replace(".", r"\.")))
    return rules


def prepare(sd, cfg):
    """Stored fusion layer start+i is run as layer i; the stored layers before the start move
    under SKIPPED, where the ignore rule of ignore(cfg) counts them."""
    if not cfg.fusion_start:
        return sd
    out = {}
    pre = "fusion_encoder.encoder.layer."
    for k, v in sd.items():
        if k.startswith(pre):
            i, rest = k[len(pre):].split(".", 1)
            k = f"{pre}{int(i) - cfg.fusion_start}.{rest}" if int(i) >= cfg.fusion_start else f"{SKIPPED}{i}.{rest}"
        out[k] = v
    return out


def build(cfg):
    return MPlugRetrieval(cfg)


def upstream_options(spec):
    return {}


def spec(model, cfg, name, sections, src=None):
    grid = cfg.image_size // cfg.patch
    vis = [model.visual_encoder, model.vision_proj, model.visn_fc, model.visn_layer_norm]
    params = {"vision": writer.count(*vis), "text": writer.count(model.text_encoder, model.text_proj),
              "itm": writer.count(model.fusion_encoder, model.itm_head), "total": writer.count(model)}
    sections = dict(sections, parameters=params)
    sections["architecture"] = dict(dataclasses.asdict(cfg), vision_heads=cfg.vision_width // 64,
                                    connected_attention_layers=[i for i in range(1, cfg.fusion_layers)
                                                                if i % cfg.stride == 0])
    return writer.Spec(
        name=name, family=FAMILY,
        description="mPLUG image-text retrieval: CLIP ViT image tokens, a BERT text encoder, the fusion layers with "
                    "cross-attention and a 2-way ITM head (ModelScope's retrieval pipeline returns the same softmax "
                    "as {'scores': [p_no_match, p_match]}).",
        vision=VisionGraph(model), text=TextGraph(model), itm=ITMGraph(model), image_size=cfg.image_size,
        resize=images.SQUASH, tokenizer="bert-wordpiece", tokenizer_file=writer.BERT_VOCAB,
        max_length=cfg.max_length, embed_dim=cfg.embed_dim, image_tokens=grid * grid + 1, token_width=cfg.width,
        patch_grid=grid,
        scores={"itm": "softmax(itm_logits)[1] = p_match", "itc": "dot product of the normalised embeddings",
                "rank": "itm_logit", "match_threshold": 0.5},
        image_opts={"alpha": images.DROP, "exif_transpose": True},
        sections=sections)


def probe(model, cfg, s, tok, image, texts):
    """ModelScope's output for each (image, text): {'scores': [p_no_match, p_match]}, plus ITC."""
    return cli.itm_probe(s, tok, image, texts)


def main(argv=None):
    return cli.main(sys.modules[__name__], argv, name_prefix="mplug", doc=__doc__)


if __name__ == "__main__":
    main()
