"""SigLIP (Hugging Face `SiglipModel`, e.g. google/siglip-so400m-patch14-384) as a dual-encoder bundle.

    PYTHONPATH=tools python -m export.siglip --checkpoint MODEL_DIR --out build/models/siglip-so400m [--verify-upstream]
    PYTHONPATH=tools python -m export.siglip --random-init --arch so400m-patch14-384 --out DIR

MODEL_DIR is the folder as the Hugging Face hub publishes it: `config.json`, `model.safetensors`
(or `pytorch_model.bin`), `spiece.model` and the tokenizer and preprocessor configs. The
architecture (widths, depths, heads, image and patch size, text length) comes from config.json.

Architecture (the checkpoint's keys, Hugging Face's names, in brackets):
- vision: patch embedding with bias and a learned position per patch, no class token
  [`vision_model.embeddings.*`]; pre-LayerNorm layers (eps from config, tanh-approximated GELU)
  [`vision_model.encoder.layers.N.*`]; a final LayerNorm on every patch [`post_layernorm`]; then the
  attention-pooling head: a learned probe attends over the patches, LayerNorm and MLP with a
  residual [`vision_model.head.*`]. image_embeds = normalise(the head's output).
- text: token and position embeddings, the same layers, a final LayerNorm, and a Linear head on the
  state at the LAST position [`text_model.*`]. SigLIP reads no attention mask: texts are padded to
  the full length (64) with `</s>` and the last position is pooled, so the embedding ignores the
  attention_mask input, which only zeroes text_states at padding.
- The sigmoid loss's `logit_scale` and `logit_bias` are recorded in the manifest's scores section.
The graph's image_tokens are the pooled embedding followed by the 27 x 27 patch tokens (so
`dims.patch_grid` squared plus one), and its text_states the final-LayerNorm states: nothing uses
them without an ITM graph. The engine ranks by ITC similarity (`scores.rank: itc`).

Preprocessing as transformers' pipeline prepares it: load_image (EXIF transpose, convert('RGB')),
SiglipImageProcessor's bicubic squash to the image size, scale to [0,1], normalise with mean and std
0.5; SiglipTokenizer over the folder's spiece.model (lower-cased, ASCII punctuation removed,
whitespace collapsed; `text.clean: siglip`).
"""
import dataclasses
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import cli, images, keys, source, writer
from vlm.tiny_model import TextGraph, VisionGraph  # the contract's graph wrappers (no ITM graph)

from .layers import attend

SPIECE = os.path.join(images.ROOT, "encoder", "tokenizer", "testdata", "sentencepiece", "nfkc.model")


@dataclasses.dataclass
class Config:
    image_size: int = 384
    patch: int = 14
    vision_width: int = 1152
    vision_layers: int = 27
    vision_heads: int = 16
    vision_inner: int = 4304
    text_width: int = 1152
    text_layers: int = 27
    text_heads: int = 16
    text_inner: int = 4304
    vocab: int = 32000
    max_length: int = 64
    eps: float = 1e-6


PRESETS = {
    "so400m-patch14-384": Config(),
    "base-patch16-224": Config(image_size=224, patch=16, vision_width=768, vision_layers=12, vision_heads=12,
                               vision_inner=3072, text_width=768, text_layers=12, text_heads=12, text_inner=3072),
    "tiny": Config(vision_width=128, vision_layers=2, vision_heads=2, vision_inner=256, text_width=128,
                   text_layers=2, text_heads=2, text_inner=256),
}
DEFAULT_ARCH = "so400m-patch14-384"
FAMILY = "siglip"
UPSTREAM = "siglip"
IGNORE = [keys.POSITION_IDS]


def gelu_tanh(x):
    """GELU with the tanh approximation (gelu_pytorch_tanh), written out for the ONNX export."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.width, self.heads = width, heads
        self.q_proj, self.k_proj = nn.Linear(width, width), nn.Linear(width, width)
        self.v_proj, self.out_proj = nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, x):
        out, _ = attend(self.q_proj(x), self.k_proj(x), self.v_proj(x), self.heads, self.width)
        return self.out_proj(out)


class MLP(nn.Module):
    def __init__(self, width, inner):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, inner), nn.Linear(inner, width)

    def forward(self, x):
        return self.fc2(gelu_tanh(self.fc1(x)))


class Layer(nn.Module):
    def __init__(self, width, heads, inner, eps):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width, eps=eps)
        self.self_attn = Attention(width, heads)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps)
        self.mlp = MLP(width, inner)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class Encoder(nn.Module):
    def __init__(self, n, width, heads, inner, eps):
        super().__init__()
        self.layers = nn.ModuleList(Layer(width, heads, inner, eps) for _ in range(n))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class _Holder(nn.Module):
    """A bare container, so that submodules get the upstream key prefixes."""


class PoolingHead(nn.Module):
    """The multi-head attention pooling of the patches by a learned probe (nn.MultiheadAttention's
    parameters), then LayerNorm and MLP with a residual."""

    def __init__(self, width, heads, inner, eps):
        super().__init__()
        self.width, self.heads = width, heads
        self.probe = nn.Parameter(torch.zeros(1, 1, width))
        self.attention = _Holder()
        self.attention.in_proj_weight = nn.Parameter(torch.zeros(3 * width, width))
        self.attention.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.attention.out_proj = nn.Linear(width, width)
        self.layernorm = nn.LayerNorm(width, eps=eps)
        self.mlp = MLP(width, inner)

    def forward(self, x):
        w, b = self.attention.in_proj_weight, self.attention.in_proj_bias
        c = self.width
        q = F.linear(self.probe.expand(x.shape[0], -1, -1), w[:c], b[:c])
        k, v = F.linear(x, w[c:2 * c], b[c:2 * c]), F.linear(x, w[2 * c:], b[2 * c:])
        h, _ = attend(q, k, v, self.heads, c)
        h = self.attention.out_proj(h)
        return (h + self.mlp(self.layernorm(h)))[:, 0]


class Siglip(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        grid = cfg.image_size // cfg.patch
        v = self.vision_model = _Holder()
        v.embeddings = _Holder()
        v.embeddings.patch_embedding = nn.Conv2d(3, cfg.vision_width, cfg.patch, cfg.patch)
        v.embeddings.position_embedding = nn.Embedding(grid * grid, cfg.vision_width)
        v.encoder = Encoder(cfg.vision_layers, cfg.vision_width, cfg.vision_heads, cfg.vision_inner, cfg.eps)
        v.post_layernorm = nn.LayerNorm(cfg.vision_width, eps=cfg.eps)
        v.head = PoolingHead(cfg.vision_width, cfg.vision_heads, cfg.vision_inner, cfg.eps)
        t = self.text_model = _Holder()
        t.embeddings = _Holder()
        t.embeddings.token_embedding = nn.Embedding(cfg.vocab, cfg.text_width)
        t.embeddings.position_embedding = nn.Embedding(cfg.max_length, cfg.text_width)
        t.encoder = Encoder(cfg.text_layers, cfg.text_width, cfg.text_heads, cfg.text_inner, cfg.eps)
        t.final_layer_norm = nn.LayerNorm(cfg.text_width, eps=cfg.eps)
        t.head = nn.Linear(cfg.text_width, cfg.text_width)
        self.logit_scale = nn.Parameter(torch.zeros(1))
        self.logit_bias = nn.Parameter(torch.zeros(1))

    def encode_image(self, pixels):
        v = self.vision_model
        x = v.embeddings.patch_embedding(pixels).flatten(2).transpose(1, 2) + v.embeddings.position_embedding.weight
        x = v.post_layernorm(v.encoder(x))
        pooled = v.head(x)
        return F.normalize(pooled, dim=-1), torch.cat([pooled[:, None], x], 1)

    def encode_text(self, ids, mask):
        t = self.text_model
        x = t.embeddings.token_embedding(ids) + t.embeddings.position_embedding.weight[: ids.shape[1]]
        x = t.final_layer_norm(t.encoder(x))  # no attention mask: SigLIP is trained and used without one
        # the embedding pools the last position, padding included; text_states (the contract's second
        # output, unused without an ITM head) are zero at padding, which keeps the mask a graph input
        return F.normalize(t.head(x[:, -1]), dim=-1), x * mask[..., None].to(x.dtype)


def read_source(path):
    src = source.open_source(path, weights=("model.safetensors", "pytorch_model.bin"), configs=("config.json",),
                             tokenizer=("spiece.model",))
    if src.folder is None or "config.json" not in src.configs:
        raise FileNotFoundError(f"{path}: SigLIP is read from its Hugging Face folder (config.json, model.safetensors, "
                                "spiece.model)")
    if "spiece.model" not in src.tokenizer:
        raise FileNotFoundError(f"{path}: the folder has no spiece.model")
    return src


def layout(src):
    return "hugging face folder"


def tokenizer_file(src):
    return src.tokenizer.get("spiece.model") if src is not None else None


def infer_config(src, args):
    c = src.config("config.json")
    vc, tc = c.get("vision_config", {}), c.get("text_config", {})
    for part, cfg in (("vision_config", vc), ("text_config", tc)):
        if cfg.get("hidden_act", "gelu_pytorch_tanh") != "gelu_pytorch_tanh":
            raise ValueError(f"config.json {part}.hidden_act {cfg['hidden_act']!r}: only gelu_pytorch_tanh is supported")
    if vc.get("layer_norm_eps", 1e-6) != tc.get("layer_norm_eps", 1e-6):
        raise ValueError("config.json: the two towers' layer_norm_eps differ")
    sd = src.state_dict
    conv = sd["vision_model.embeddings.patch_embedding.weight"]
    if "vision_model.head.probe" not in sd:
        raise ValueError("a SigLIP vision tower without the attention-pooling head is not supported")
    if args.max_length and args.max_length != tc.get("max_position_embeddings", 64):
        raise SystemExit("--max-length: SigLIP pools the last of its max_position_embeddings positions; the text "
                         "length is fixed")
    return Config(
        image_size=vc.get("image_size", 224), patch=conv.shape[-1], vision_width=conv.shape[0],
        vision_layers=keys.count_layers(sd, "vision_model.encoder.layers."),
        vision_heads=vc.get("num_attention_heads", 12),
        vision_inner=sd["vision_model.encoder.layers.0.mlp.fc1.weight"].shape[0],
        text_width=sd["text_model.final_layer_norm.weight"].shape[0],
        text_layers=keys.count_layers(sd, "text_model.encoder.layers."), text_heads=tc.get("num_attention_heads", 12),
        text_inner=sd["text_model.encoder.layers.0.mlp.fc1.weight"].shape[0],
        vocab=sd["text_model.embeddings.token_embedding.weight"].shape[0],
        max_length=sd["text_model.embeddings.position_embedding.weight"].shape[0], eps=vc.get("layer_norm_eps", 1e-6))


def ignore(cfg):
    return IGNORE


def build(cfg):
    return Siglip(cfg)


def upstream_options(spec):
    return {}


def spec(model, cfg, name, sections, src=None):
    if cfg.text_width != cfg.vision_width:
        raise ValueError(f"text width {cfg.text_width} != vision width {cfg.vision_width}: SigLIP compares the two "
                         "embeddings directly")
    grid = cfg.image_size // cfg.patch
    params = {"vision": writer.count(model.vision_model), "text": writer.count(model.text_model),
              "total": writer.count(model)}
    sections = dict(sections, parameters=params, architecture=dataclasses.asdict(cfg))
    return writer.Spec(
        name=name, family=FAMILY,
        description="SigLIP dual encoder: sigmoid-loss contrastive image and text embeddings only, so the engine "
                    "ranks by ITC similarity alone (no ITM head, no match probability).",
        vision=VisionGraph(model), text=TextGraph(model), itm=None, image_size=cfg.image_size,
        resize=images.SQUASH, tokenizer="sentencepiece-unigram", tokenizer_file=SPIECE,
        max_length=cfg.max_length, embed_dim=cfg.vision_width, image_tokens=grid * grid + 1,
        token_width=cfg.vision_width, patch_grid=grid,
        scores={"itc": "dot product of the normalised embeddings", "rank": "itc",
                "logit_scale": round(float(model.logit_scale.exp()), 4),
                "logit_bias": round(float(model.logit_bias), 4),
                "match_probability": "sigmoid(logit_scale * itc + logit_bias), SigLIP's own pairwise probability"},
        image_opts={"alpha": images.DROP, "exif_transpose": True, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        text_opts={"clean": "siglip", "lower_case": True}, sections=sections)


def probe(model, cfg, s, tok, image, texts):
    """SigLIP's pairwise probabilities: sigmoid(logit_scale.exp() * cosine + logit_bias)."""
    with torch.no_grad():
        img, _ = s.vision(torch.from_numpy(s.pixels(image))[None])
        enc = [tok.encode(t) for t in texts]
        txt, _ = s.text(torch.tensor([e[0] for e in enc]), torch.tensor([e[1] for e in enc]))
        sims = (img @ txt.T)[0]
        probs = torch.sigmoid(model.logit_scale.exp() * sims + model.logit_bias)
    return {"image": image, "texts": texts, "itc": [round(float(v), 6) for v in sims],
            "probs": [round(float(v), 6) for v in probs]}


def main(argv=None):
    return cli.main(sys.modules[__name__], argv, name_prefix="siglip", doc=__doc__)


if __name__ == "__main__":
    main()
