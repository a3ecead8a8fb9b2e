"""OpenAI CLIP (ViT) as a dual-encoder bundle: vision and text graphs, CLIP BPE, no ITM graph.

    PYTHONPATH=tools /usr/bin/python3 -m export.clip --checkpoint ViT-B-32.pt --out build/models/clip-vit-b-32
    PYTHONPATH=tools /usr/bin/python3 -m export.clip --checkpoint ViT-L-14-336px.pt --out build/models/clip-vit-l-14-336
    PYTHONPATH=tools /usr/bin/python3 -m export.clip --random-init --arch ViT-B/32 --out DIR

The checkpoint is the official release (the TorchScript `.pt` archives, or a state dict saved from
them): `visual.{conv1,class_embedding,positional_embedding,ln_pre,transformer.resblocks.N.*,ln_post,proj}`,
`token_embedding`, `positional_embedding`, `transformer.resblocks.N.*`, `ln_final`, `text_projection`,
`logit_scale`. The architecture is read from the tensor shapes (widths, layer counts, patch size,
grid, context length); heads are width / 64 as in every released model. ResNet CLIPs are not
supported.

Graphs: image_embeds = normalise(ln_post(CLS) @ proj); text_embeds = normalise(ln_final(state at
the end token) @ text_projection), the end token found as the arg-max of the ids (computed in
int32 on the masked ids). The contract's token outputs are the per-token projected features
(image [N, D], text [77, D]): nothing in the engine uses them without an ITM graph, which is why
`dims.token_width` equals the embedding size here. Preprocessing: shorter side to S (bicubic),
centre crop, CLIP mean/std.
"""
import dataclasses
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import cli, images, keys, writer
from vlm.tiny_model import TextGraph, VisionGraph  # the contract's graph wrappers (no ITM graph)
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


PRESETS = {
    "ViT-B/32": Config(),
    "ViT-L/14@336": Config(embed_dim=768, image_size=336, patch=14, vision_width=1024, vision_layers=24,
                           text_width=768),
    "tiny": Config(embed_dim=64, vision_width=128, vision_layers=2, text_width=128, text_layers=2),
}
DEFAULT_ARCH = "ViT-B/32"
FAMILY = "clip"
IGNORE = [keys.Ignore("TorchScript archive metadata", r"^(input_resolution|context_length|vocab_size)$")]


class CLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.visual = ClipVisionTransformer(cfg.image_size, cfg.patch, cfg.vision_width, cfg.vision_layers,
                                            cfg.vision_width // 64, cfg.embed_dim)
        self.token_embedding = nn.Embedding(cfg.vocab, cfg.text_width)
        self.positional_embedding = nn.Parameter(torch.zeros(cfg.context_length, cfg.text_width))
        self.transformer = ClipTransformer(cfg.text_width, cfg.text_layers, cfg.text_width // 64)
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


def infer_config(sd, args):
    if "visual.conv1.weight" not in sd:
        raise ValueError("not a ViT CLIP checkpoint (no visual.conv1.weight; ResNet CLIPs are not supported)")
    conv = sd["visual.conv1.weight"]
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    return Config(embed_dim=sd["text_projection"].shape[1], image_size=conv.shape[-1] * grid, patch=conv.shape[-1],
                  vision_width=conv.shape[0], vision_layers=keys.count_layers(sd, "visual.transformer.resblocks."),
                  context_length=sd["positional_embedding"].shape[0], vocab=sd["token_embedding.weight"].shape[0],
                  text_width=sd["ln_final.weight"].shape[0], text_layers=keys.count_layers(sd, "transformer.resblocks."))


def build(cfg):
    return CLIP(cfg)


def spec(model, cfg, name, sections):
    grid = cfg.image_size // cfg.patch
    params = {"vision": writer.count(model.visual),
              "text": writer.count(model.token_embedding, model.transformer, model.ln_final) +
              model.positional_embedding.numel() + model.text_projection.numel()}
    params["total"] = writer.count(model)
    sections = dict(sections, parameters=params)
    sections["architecture"] = dict(dataclasses.asdict(cfg), vision_heads=cfg.vision_width // 64,
                                    text_heads=cfg.text_width // 64, activation="quick_gelu")
    return writer.Spec(
        name=name, family=FAMILY,
        description="OpenAI CLIP dual encoder (ViT): contrastive image and text embeddings only, so the engine "
                    "ranks by ITC similarity alone (no ITM head, no match probability).",
        vision=VisionGraph(model), text=TextGraph(model), itm=None, image_size=cfg.image_size,
        resize=images.CENTER_CROP, tokenizer="clip-bpe", tokenizer_file=writer.CLIP_MERGES,
        max_length=cfg.context_length, embed_dim=cfg.embed_dim, image_tokens=grid * grid + 1,
        token_width=cfg.embed_dim, patch_grid=grid,
        scores={"itc": "dot product of the normalised embeddings", "rank": "itc (no ITM graph)",
                "logit_scale": round(float(model.logit_scale.exp()), 4)},
        sections=sections)


def probe(model, cfg, s, tok, image, texts):
    """CLIP's zero-shot probabilities: softmax over texts of logit_scale.exp() * cosine (the
    openai/CLIP README's `Label probs`)."""
    with torch.no_grad():
        img, _ = s.vision(torch.from_numpy(images.pixels(image, cfg.image_size, images.CENTER_CROP))[None])
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
