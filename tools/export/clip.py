"""CLIP (ViT) as a dual-encoder bundle: OpenAI's release or the Hugging Face layout. No ITM graph.

    PYTHONPATH=tools python -m export.clip --checkpoint ViT-B-32.pt --out build/models/clip-vit-b-32
    PYTHONPATH=tools python -m export.clip --checkpoint ViT-L-14-336px.pt --out build/models/clip-vit-l-14-336
    PYTHONPATH=tools python -m export.clip --checkpoint MODEL_DIR --out build/models/clip-vit-base-patch32 [--verify-upstream]
    PYTHONPATH=tools python -m export.clip --random-init --arch ViT-B/32 --out DIR

Two layouts are read:
- OpenAI's release: the TorchScript `.pt` archives (fp16 weights, read as fp32) or a state dict
  saved from them: `visual.{conv1,class_embedding,positional_embedding,ln_pre,transformer.resblocks.N.*,ln_post,proj}`,
  `token_embedding`, `positional_embedding`, `transformer.resblocks.N.*`, `ln_final`,
  `text_projection`, `logit_scale`. Preprocessing as OpenAI's and open_clip's: the image as
  decoded (no EXIF orientation), shorter side to S (bicubic), centre crop (torchvision's
  rounding), then convert('RGB') (`image.alpha: drop_after_resize`); text HTML-unescaped twice,
  whitespace-collapsed, lower-cased, zero-padded to 77.
- the Hugging Face layout (openai/clip-vit-*: `config.json`, `model.safetensors`, `vocab.json`,
  `merges.txt`, `tokenizer_config.json`, `preprocessor_config.json`), `CLIPModel`: its keys are
  renamed to OpenAI's (q/k/v projections joined into in_proj), the activation and LayerNorm eps come
  from config.json, and the inputs are prepared as transformers prepares them: load_image (EXIF
  transpose, convert('RGB') first), shorter side to S, centre crop with the offset floored
  (`image.crop_rounding: floor`); the fast tokenizer's NFC instead of HTML unescaping
  (`text.clean: hf`) and its pad id. The merges go into the bundle as OpenAI's gzip file; the
  folder's vocab.json must be the one OpenAI's construction gives from them.

The architecture is read from the tensor shapes (widths, layer counts, patch size, grid, context
length); heads are width / 64 as in every released model. ResNet CLIPs are not supported.

Graphs: image_embeds = normalise(ln_post(CLS) @ proj); text_embeds = normalise(ln_final(state at
the end token) @ text_projection), the end token found as the arg-max of the ids (computed in
int32 on the masked ids). The contract's token outputs are the per-token projected features
(image [N, D], text [77, D]): nothing in the engine uses them without an ITM graph, which is why
`dims.token_width` equals the embedding size here.
"""
import dataclasses
import gzip
import json
import os
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import cli, images, keys, source, writer
from vlm.tiny_model import TextGraph, VisionGraph  # the contract's graph wrappers (no ITM graph)
from .clip_bpe import NUM_MERGES, ClipBPE
from .layers import ClipTransformer, ClipVisionTransformer


@dataclasses.dataclass
class Config:
    embed_dim: int = 512
    image_size: int = 224
    patch: int = 32
    vision_width: int = 768
    vision_layers: int = 12
    context_length: int = 77
    vocab: int = 49408
    text_width: int = 512
    text_layers: int = 12
    act: str = "quick_gelu"


PRESETS = {
    "ViT-B/32": Config(),
    "ViT-L/14@336": Config(embed_dim=768, image_size=336, patch=14, vision_width=1024, vision_layers=24,
                           text_width=768),
    "tiny": Config(embed_dim=64, vision_width=128, vision_layers=2, text_width=128, text_layers=2),
}
DEFAULT_ARCH = "ViT-B/32"
FAMILY = "clip"
UPSTREAM = "clip"
IGNORE = [keys.Ignore("TorchScript archive metadata", r"^(input_resolution|context_length|vocab_size)$"),
          keys.POSITION_IDS]
HF, OPENAI = "hugging face folder", "openai release"


class CLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.visual = ClipVisionTransformer(cfg.image_size, cfg.patch, cfg.vision_width, cfg.vision_layers,
                                            cfg.vision_width // 64, cfg.embed_dim, cfg.act)
        self.token_embedding = nn.Embedding(cfg.vocab, cfg.text_width)
        self.positional_embedding = nn.Parameter(torch.zeros(cfg.context_length, cfg.text_width))
        self.transformer = ClipTransformer(cfg.text_width, cfg.text_layers, cfg.text_width // 64, cfg.act)
        self.ln_final = nn.LayerNorm(cfg.text_width)
        self.text_projection = nn.Parameter(torch.zeros(cfg.text_width, cfg.embed_dim))
        self.logit_scale = nn.Parameter(torch.zeros([]))

    def encode_image(self, pixels):
        tokens = self.visual.tokens(pixels) @ self.visual.proj
        return F.normalize(tokens[:, 0], dim=-1), tokens

    def encode_text(self, ids, mask):
        n = ids.shape[1]
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        causal = torch.full((n, n), float("-inf"), device=ids.device).triu(1)  # not state, as upstream
        x = self.ln_final(self.transformer(x, causal))
        states = x @ self.text_projection
        eot = (ids * mask).to(torch.int32).argmax(-1).to(torch.int64)
        idx = eot.reshape(-1, 1, 1).expand(-1, 1, states.shape[-1])
        return F.normalize(states.gather(1, idx).squeeze(1), dim=-1), states


# Hugging Face's CLIPModel names for OpenAI's keys, applied in order.
HF_NAMES = [
    ("vision_model.embeddings.class_embedding", "visual.class_embedding"),
    ("vision_model.embeddings.patch_embedding.", "visual.conv1."),
    ("vision_model.embeddings.position_embedding.weight", "visual.positional_embedding"),
    ("vision_model.pre_layrnorm.", "visual.ln_pre."),
    ("vision_model.post_layernorm.", "visual.ln_post."),
    ("vision_model.encoder.layers.", "visual.transformer.resblocks."),
    ("text_model.embeddings.token_embedding.", "token_embedding."),
    ("text_model.embeddings.position_embedding.weight", "positional_embedding"),
    ("text_model.encoder.layers.", "transformer.resblocks."),
    ("text_model.final_layer_norm.", "ln_final."),
    (".self_attn.out_proj.", ".attn.out_proj."),
    (".layer_norm1.", ".ln_1."),
    (".layer_norm2.", ".ln_2."),
    (".mlp.fc1.", ".mlp.c_fc."),
    (".mlp.fc2.", ".mlp.c_proj."),
]


def from_hf(sd):
    """A CLIPModel state dict in OpenAI's names: q, k, v joined into in_proj, the projections
    transposed (OpenAI multiplies x @ P, Hugging Face applies a Linear)."""
    out, qkv = {}, {}
    for k, v in sd.items():
        if k == "visual_projection.weight":
            out["visual.proj"] = v.t().contiguous()
            continue
        if k == "text_projection.weight":
            out["text_projection"] = v.t().contiguous()
            continue
        for a, b in HF_NAMES:
            k = k.replace(a, b)
        for p in ("q", "k", "v"):
            tag = f".self_attn.{p}_proj."
            if tag in k:
                stem, kind = k.split(tag)
                qkv.setdefault((stem, kind), {})[p] = v
                break
        else:
            out[k] = v
    for (stem, kind), parts in qkv.items():
        if set(parts) != {"q", "k", "v"}:
            raise ValueError(f"{stem}: q, k and v projections are not all present")
        out[f"{stem}.attn.in_proj_{kind}"] = torch.cat([parts["q"], parts["k"], parts["v"]], 0)
    return out


def read_source(path):
    """An OpenAI archive or state dict, or a Hugging Face folder, keys in OpenAI's naming."""
    src = source.open_source(path, weights=("model.safetensors", "pytorch_model.bin"),
                             configs=("config.json", "tokenizer_config.json", "preprocessor_config.json",
                                      "special_tokens_map.json"),
                             tokenizer=("vocab.json", "merges.txt"))
    if src.folder is not None:
        for need in ("config.json", "vocab.json", "merges.txt"):
            if need not in src.configs and need not in src.tokenizer:
                raise FileNotFoundError(f"{path}: a Hugging Face CLIP folder needs {need}")
        src.state_dict = from_hf(src.state_dict)
    return src


def layout(src):
    return HF if src is not None and src.folder else OPENAI


def tokenizer_file(src):
    """The bundle's merges file: OpenAI's gzip format, from the folder's merges.txt (whose vocab.json
    must be OpenAI's construction from them)."""
    if src is None or src.folder is None:
        return None
    with open(src.tokenizer["merges.txt"], encoding="utf-8") as f:
        lines = f.read().split("\n")
    body = [line for line in lines[1:] if line]
    if len(body) < NUM_MERGES:
        raise ValueError(f"merges.txt holds {len(body)} merges, CLIP's tokenizer needs {NUM_MERGES}")
    path = os.path.join(tempfile.mkdtemp(prefix="clip-merges-"), "bpe_simple_vocab_16e6.txt.gz")
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join([lines[0]] + body[:NUM_MERGES]) + "\n")
    with open(src.tokenizer["vocab.json"], encoding="utf-8") as f:
        vocab = json.load(f)
    ours = ClipBPE(path).ids
    if vocab != ours:
        diff = sorted(set(vocab.items()) ^ set(ours.items()))[:4]
        raise ValueError(f"vocab.json is not OpenAI's vocabulary built from merges.txt (first differences {diff}): "
                         "the Go tokenizer cannot reproduce it")
    return path


def infer_config(src, args):
    sd = src.state_dict
    if "visual.conv1.weight" not in sd:
        raise ValueError("not a ViT CLIP checkpoint (no visual.conv1.weight; ResNet CLIPs are not supported)")
    act = "quick_gelu"
    if src.folder:
        c = src.config("config.json")
        acts = {c.get(p, {}).get("hidden_act", "quick_gelu") for p in ("vision_config", "text_config")}
        eps = {c.get(p, {}).get("layer_norm_eps", 1e-5) for p in ("vision_config", "text_config")}
        if len(acts) != 1 or not acts <= {"quick_gelu", "gelu"}:
            raise ValueError(f"config.json hidden_act {sorted(acts)}: one of quick_gelu or gelu for both towers")
        if eps != {1e-5}:
            raise ValueError(f"config.json layer_norm_eps {sorted(eps)}: only 1e-5 is supported")
        act = acts.pop()
    conv = sd["visual.conv1.weight"]
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    return Config(embed_dim=sd["text_projection"].shape[1], image_size=conv.shape[-1] * grid, patch=conv.shape[-1],
                  vision_width=conv.shape[0], vision_layers=keys.count_layers(sd, "visual.transformer.resblocks."),
                  context_length=sd["positional_embedding"].shape[0], vocab=sd["token_embedding.weight"].shape[0],
                  text_width=sd["ln_final.weight"].shape[0], text_layers=keys.count_layers(sd, "transformer.resblocks."),
                  act=act)


def ignore(cfg):
    return IGNORE


def build(cfg):
    return CLIP(cfg)


def upstream_options(spec):
    return {}


def hf_pad_id(src):
    """The pad id of a Hugging Face CLIP tokenizer (its pad token's id; 0 if it names none)."""
    cfg = dict(src.config("special_tokens_map.json", {}), **src.config("tokenizer_config.json", {}))
    pad = cfg.get("pad_token")
    if isinstance(pad, dict):
        pad = pad.get("content")
    with open(src.tokenizer["vocab.json"], encoding="utf-8") as f:
        vocab = json.load(f)
    return vocab.get(pad, 0) if pad else 0


def spec(model, cfg, name, sections, src=None):
    grid = cfg.image_size // cfg.patch
    params = {"vision": writer.count(model.visual),
              "text": writer.count(model.token_embedding, model.transformer, model.ln_final) +
              model.positional_embedding.numel() + model.text_projection.numel()}
    params["total"] = writer.count(model)
    sections = dict(sections, parameters=params)
    sections["architecture"] = dict(dataclasses.asdict(cfg), vision_heads=cfg.vision_width // 64,
                                    text_heads=cfg.text_width // 64, activation=cfg.act)
    hf = layout(src) == HF
    if hf:
        image_opts = {"alpha": images.DROP, "exif_transpose": True, "crop_rounding": images.FLOOR}
        text_opts, special = {"clean": "hf"}, {"pad": hf_pad_id(src)}
    else:
        image_opts = {"alpha": images.DROP_AFTER_RESIZE, "exif_transpose": False, "crop_rounding": images.HALF_EVEN}
        text_opts, special = {"clean": "openai"}, None
    return writer.Spec(
        name=name, family=FAMILY,
        description="CLIP dual encoder (ViT): contrastive image and text embeddings only, so the engine "
                    "ranks by ITC similarity alone (no ITM head, no match probability).",
        vision=VisionGraph(model), text=TextGraph(model), itm=None, image_size=cfg.image_size,
        resize=images.CENTER_CROP, tokenizer="clip-bpe", tokenizer_file=writer.CLIP_MERGES,
        max_length=cfg.context_length, embed_dim=cfg.embed_dim, image_tokens=grid * grid + 1,
        token_width=cfg.embed_dim, patch_grid=grid,
        scores={"itc": "dot product of the normalised embeddings", "rank": "itc",
                "logit_scale": round(float(model.logit_scale.exp()), 4)},
        image_opts=image_opts, text_opts=text_opts, special_ids=special, sections=sections)


def probe(model, cfg, s, tok, image, texts):
    """CLIP's zero-shot probabilities: softmax over texts of logit_scale.exp() * cosine (the
    openai/CLIP README's `Label probs`)."""
    with torch.no_grad():
        img, _ = s.vision(torch.from_numpy(s.pixels(image))[None])
        enc = [tok.encode(t) for t in texts]
        txt, _ = s.text(torch.tensor([e[0] for e in enc]), torch.tensor([e[1] for e in enc]))
        sims = (img @ txt.T)[0]
        probs = (model.logit_scale.exp() * sims).softmax(-1)
    return {"image": image, "texts": texts, "itc": [round(float(v), 6) for v in sims],
            "label_probs": [round(float(v), 6) for v in probs]}


def main(argv=None):
    return cli.main(sys.modules[__name__], argv, name_prefix="clip", doc=__doc__)


if __name__ == "__main__":
    main()
