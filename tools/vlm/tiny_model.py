"""tiny-scenes: a small mPLUG/ALBEF-shaped vision-language model.

Vision: a ViT (patch embedding, CLS, learned positions, pre-LN blocks) followed, as in mPLUG, by a
linear projection and LayerNorm that give the image tokens used by the fusion layers.
Text: a BERT-style encoder over the real BERT uncased WordPiece ids; the 30,522-entry vocabulary is
mapped onto a small embedding table (the words of the scene language, everything else onto the
[UNK] row) through a constant id->row table, so the graph takes stock BERT ids.
ITC: normalised linear projections of the image CLS token and the text CLS state, optionally after
ITC-only transformer layers over each tower's final states (ItcHead).
Fusion: layers of text self-attention, cross-attention to the image tokens and a feed-forward; the
ITM head is a 2-way linear layer on the fusion output at the text CLS position (index 1 = match).
"""
from dataclasses import dataclass, asdict
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    image_size: int = 80
    patch: int = 10
    width: int = 128          # hidden width of every tower
    heads: int = 4
    vision_layers: int = 4
    text_layers: int = 3
    fusion_layers: int = 2
    mlp_ratio: int = 4
    embed_dim: int = 128      # ITC embedding dimension
    null_token: bool = False  # fusion cross-attention gets a learned "nothing here" token
    conv_stem: int = 0        # >0: a small CNN (this many channels) sees full-resolution edges before patchify
    coord_pos: bool = False   # fusion image tokens also carry a linear map of their patch's (x, y)
    token_head: bool = False  # the ITM also pools per-word mismatch logits (replaced-word detection)
    verifier: bool = False    # the ITM also pools a grounded per-word check (Verifier)
    itc_layers: int = 0       # >0: ITC-only transformer layers over each tower's final states (ItcHead)
    max_len: int = 40
    bert_vocab: int = 30522

    def to_dict(self):
        return asdict(self)


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.o = nn.Linear(width, width)

    def forward(self, x, ctx, bias=None):
        """x [B,Lq,C] attends to ctx [B,Lk,C]; bias [B,1,1,Lk] additive. Returns out, probs."""
        b, lq, c = x.shape
        lk = ctx.shape[1]
        h, d = self.heads, c // self.heads
        q = self.q(x).view(b, lq, h, d).transpose(1, 2)
        k = self.k(ctx).view(b, lk, h, d).transpose(1, 2)
        v = self.v(ctx).view(b, lk, h, d).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d))
        if bias is not None:
            att = att + bias
        p = att.softmax(-1)
        out = (p @ v).transpose(1, 2).reshape(b, lq, c)
        return self.o(out), p


class MLP(nn.Module):
    def __init__(self, width, ratio):
        super().__init__()
        self.fc1 = nn.Linear(width, width * ratio)
        self.fc2 = nn.Linear(width * ratio, width)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-LN transformer block; with cross=True it also cross-attends to a context."""

    def __init__(self, width, heads, ratio, cross=False):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.cross = None
        if cross:
            self.lnc = nn.LayerNorm(width)
            self.cross = Attention(width, heads)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = MLP(width, ratio)

    def forward(self, x, bias=None, ctx=None):
        h = self.ln1(x)
        x = x + self.attn(h, h, bias)[0]
        probs = None
        if self.cross is not None:
            o, probs = self.cross(self.lnc(x), ctx)
            x = x + o
        x = x + self.mlp(self.ln2(x))
        return x, probs


def mask_bias(mask):
    """[B,L] 0/1 -> additive attention bias [B,1,1,L]."""
    return (1.0 - mask[:, None, None, :].to(torch.float32)) * -10000.0


def patch_centres(cfg):
    """The centres of the image's patches, row by row, as (x, y) in [-1, 1]: [P, 2]."""
    g = cfg.image_size // cfg.patch
    c = (torch.arange(g, dtype=torch.float32) + 0.5) / g * 2 - 1
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)


def any_word(logits, mask):
    """Soft "any word is wrong": log-sum-exp of per-word logits [B,L] over the caption's words
    (mask [B,L]; [CLS] is the sentence, not a word). Returns [B]."""
    valid = mask.to(torch.float32) * (torch.arange(mask.shape[1]) > 0).to(torch.float32)
    return torch.logsumexp(logits + (1.0 - valid) * -10000.0, 1)


class Vision(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n = (cfg.image_size // cfg.patch) ** 2
        self.stem = None
        if cfg.conv_stem:
            # two 3x3 convolutions at full resolution: a small shape (14 px across at 80 px) is split
            # over several patches, and a linear patchify alone sees only fragments of its outline
            c = cfg.conv_stem
            self.stem = nn.Sequential(nn.Conv2d(3, c, 3, 1, 1), nn.GELU(), nn.Conv2d(c, c, 3, 1, 1), nn.GELU())
            self.patch = nn.Conv2d(c, cfg.width, cfg.patch, cfg.patch)
        else:
            self.patch = nn.Conv2d(3, cfg.width, cfg.patch, cfg.patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.width))
        self.pos = nn.Parameter(torch.randn(1, n + 1, cfg.width) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.vision_layers))
        self.ln = nn.LayerNorm(cfg.width)
        # mPLUG: visual_fc (1024 -> 768) + LayerNorm after CLIP's ViT.
        self.fc = nn.Linear(cfg.width, cfg.width)
        self.fc_ln = nn.LayerNorm(cfg.width, eps=1e-12)

    def forward(self, pixels):
        if self.stem is not None:
            pixels = self.stem(pixels)
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for blk in self.blocks:
            x, _ = blk(x)
        return self.fc_ln(self.fc(self.ln(x)))


class Text(nn.Module):
    def __init__(self, cfg, rows):
        """rows: LongTensor [bert_vocab] mapping BERT ids to embedding rows."""
        super().__init__()
        self.register_buffer("rows", rows.clone())
        self.emb = nn.Embedding(int(rows.max()) + 1, cfg.width)
        self.pos = nn.Parameter(torch.randn(1, cfg.max_len, cfg.width) * 0.02)
        self.ln_in = nn.LayerNorm(cfg.width)
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.text_layers))
        self.ln = nn.LayerNorm(cfg.width)

    def forward(self, ids, mask):
        x = self.emb(self.rows[ids]) + self.pos[:, : ids.shape[1]]
        x = self.ln_in(x)
        bias = mask_bias(mask)
        for blk in self.blocks:
            x, _ = blk(x, bias)
        return self.ln(x)


class Fusion(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n = (cfg.image_size // cfg.patch) ** 2 + 1
        # positions re-added to the image tokens, so that relations ("left of") are easy to read
        self.img_pos = nn.Parameter(torch.randn(1, n, cfg.width) * 0.02)
        # a learned "nothing here" key/value: softmax attention alone cannot say that no image token
        # matches the word ("red circle" in a scene with a red square and a blue circle); with a
        # sink to attend to, absence becomes visible to the layers above
        self.null = nn.Parameter(torch.zeros(1, 1, cfg.width)) if cfg.null_token else None
        # patch-centre coordinates through a linear map: learned position embeddings are arbitrary
        # vectors, so "is the red thing left of the square" would need the fusion to learn an order
        # over 64 of them; with x and y linear in the token, attending to an object brings its
        # coordinates into the word's state and comparing two objects is a difference
        self.coord = None
        if cfg.coord_pos:
            xy = torch.cat([torch.zeros(1, 2), patch_centres(cfg)])  # CLS at the centre
            self.register_buffer("xy", xy[None])
            self.coord = nn.Linear(2, cfg.width)
            nn.init.zeros_(self.coord.weight)
            nn.init.zeros_(self.coord.bias)
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads, cfg.mlp_ratio, cross=True) for _ in range(cfg.fusion_layers))
        self.ln = nn.LayerNorm(cfg.width)
        self.head = nn.Linear(cfg.width, 2)
        # per-word mismatch: each fused word state says whether the image contradicts that word
        # (trained on the generator's edits: the replaced colour, the flipped relation word). A
        # relation word can only compare the two objects' positions in the last layer, after the
        # nouns have found their objects, which is too late for the [CLS] state to read it; the
        # words' mismatch logits are pooled (log-sum-exp, a soft "any word is wrong") into the ITM
        self.tok_head = None
        if cfg.token_head:
            self.tok_head = nn.Linear(cfg.width, 1)
            self.tok_mix = nn.Parameter(torch.zeros(2))
        self.verifier = Verifier(cfg) if cfg.verifier else None

    def logits(self, x, mask):
        """ITM logits [B,2] from fused states [B,L,C], and the per-word mismatch logits [B,L]
        (None without the token head)."""
        out = self.head(x[:, 0])
        if self.tok_head is None:
            return out, None
        m = self.tok_head(x).squeeze(-1)
        return out + any_word(m, mask)[:, None] * self.tok_mix, m

    def states(self, image_tokens, text_states, mask, all_probs=False):
        """Fused text states [B,L,C] (final LayerNorm applied) and the last layer's cross-attention
        over the image tokens; with all_probs, every layer's [B,H,L,N] cross-attention instead."""
        bias = mask_bias(mask)
        x, probs = text_states, None
        ctx = image_tokens + self.img_pos
        if self.coord is not None:
            ctx = ctx + self.coord(self.xy)
        if self.null is not None:
            ctx = torch.cat([self.null.expand(image_tokens.shape[0], -1, -1), ctx], 1)
        layers = []
        for blk in self.blocks:
            x, probs = blk(x, bias, ctx)
            if self.null is not None:
                probs = probs[:, :, :, 1:]  # the sink is not part of the image
            layers.append(probs)
        return self.ln(x), (layers if all_probs else probs)

    def forward(self, image_tokens, text_states, mask):
        x, probs = self.states(image_tokens, text_states, mask)
        logits = self.logits(x, mask)[0]
        if self.verifier is not None:
            logits = logits + self.verifier.itm(image_tokens, text_states, mask)
        # cross-attention of the last layer, mean over heads [B,L,N]
        return logits, probs.mean(1)


class Verifier(nn.Module):
    """A grounded check of every word, added to the ITM logits.

    The fusion layers mix the whole image into every word through four free cross-attention
    heads, and trained end to end they settled on "is there something red in the picture": a
    caption with two objects' colours swapped, or "left" turned into "right", passes. Here a word
    sees the image only through what it can point at, in two hops:

    1. Each word attends over the patches (keys: the image tokens and what each patch shows, its
       colour, shape and size class probabilities from attr, a copy of the per-patch head the
       training put on the image tokens, frozen). It reads only those probabilities and the
       patches' exact (x, y), so what reaches the check is what the object is and where it is.
       Trained to point at the object its phrase names.
    2. Each word attends over the caption's words (two heads) and reads their first-hop reads:
       "left" in "a red circle left of a blue square" finds "circle" (head 1, the located object)
       and "square" (head 0, the reference), so it gets both objects' positions. Finding words
       by their place in a sentence is easier than finding objects by their description, and the
       second hop does not have to learn to describe objects again, nor can it find an object by
       where it is. Trained to point at the words of the two phrases.

    From the word's own state, its own read and the two second-hop reads, an MLP says whether the
    image contradicts the word: "blue" reading a red circle, or "left" reading a located object to
    the right of its reference. Each read is also compared, product by product, with what the word
    claims (a linear map of its state), which makes the check a near-linear function. The
    per-word logits are pooled (a smooth maximum: the worst word) into the ITM logits past a
    learned threshold, through a learned 2-vector.

    The words' states come from one self-attention block over the text encoder's states.
    """

    ATTRS = (9, 7, 3)  # colour, shape and size classes of the per-patch head (0: none)

    def __init__(self, cfg, d=64):
        super().__init__()
        w, a = cfg.width, sum(self.ATTRS)
        self.d = d
        self.block = Block(w, cfg.heads, cfg.mlp_ratio)
        self.ln_t = nn.LayerNorm(w)
        self.attr = nn.Linear(w, a)
        self.ln_i = nn.LayerNorm(w)
        self.q = nn.Linear(w, d)          # hop 1: word -> patches (by what they show)
        self.k = nn.Linear(w + a, d)
        self.hq = nn.Linear(w, 2 * d)     # hop 2: word -> words (0: reference, 1: located)
        self.hk = nn.Linear(w, 2 * d)
        r = a + 2
        self.claim = nn.Linear(w, 3 * r)  # what the word says its three reads should show
        self.head = nn.Sequential(nn.Linear(w + 3 * r + 3 * r + 2, 2 * w), nn.GELU(), nn.Linear(2 * w, 1))
        self.mix = nn.Parameter(torch.tensor([0.5, -0.5]))
        self.tau = nn.Parameter(torch.zeros(()))
        self.register_buffer("xy", patch_centres(cfg)[None])

    def forward(self, image_tokens, text_states, mask):
        """Per-word mismatch logits [B,L], the first hop's attention over the patches [B,L,P]
        (the image's [CLS] token is left out) and the second hop's over the words [B,2,L,L]
        (head 0: reference, 1: located)."""
        b, lt, _ = text_states.shape
        bias = mask_bias(mask)
        t, _ = self.block(text_states, bias)
        t = self.ln_t(t)
        logits = self.attr(image_tokens[:, 1:])
        parts, o = [], 0
        for n in self.ATTRS:
            parts.append(logits[..., o:o + n].softmax(-1))
            o += n
        a = torch.cat(parts, -1)  # [B,P,19]
        scale = 1.0 / math.sqrt(self.d)
        k = self.k(torch.cat([self.ln_i(image_tokens[:, 1:]), a], -1))
        p1 = ((self.q(t) @ k.transpose(-1, -2)) * scale).softmax(-1)  # [B,L,P]
        r1 = p1 @ torch.cat([a, self.xy.expand(b, -1, -1)], -1)  # [B,L,21]
        hq = self.hq(t).view(b, lt, 2, self.d).transpose(1, 2)
        hk = self.hk(t).view(b, lt, 2, self.d).transpose(1, 2)
        h = ((hq @ hk.transpose(-1, -2)) * scale + bias).softmax(-1)  # [B,2,L,L]
        r2 = h @ r1[:, None]  # [B,2,L,21]
        reads = torch.cat([r1, r2[:, 0], r2[:, 1]], -1)  # [B,L,63]
        feats = torch.cat([t, reads, reads * self.claim(t), r2[:, 1, :, -2:] - r2[:, 0, :, -2:]], -1)
        return self.head(feats).squeeze(-1), p1, h

    def itm(self, image_tokens, text_states, mask, words=None):
        """The verifier's share of the ITM logits [B,2] (words: its per-word logits, if known):
        the worst word's logit (a smooth maximum), past a learned threshold tau, through mix.
        Below tau the ITM head alone decides, so a long true caption, whose many words each
        carry a little doubt, is not pushed towards "no match" by their number."""
        if words is None:
            words = self.forward(image_tokens, text_states, mask)[0]
        worst = 0.25 * any_word(words * 4.0, mask)
        return F.softplus(worst - self.tau)[:, None] * self.mix


class ItcHead(nn.Module):
    """ITC-only pre-LN transformer layers over a tower's final states, whose first state then goes
    to the ITC projection. The fusion reads the towers' states as they are; these layers shape
    only the embedding that the index stores, so they can learn what a retrieval embedding needs
    (where a lone object stands, on what background) without moving anything the ITM was trained
    on. Learned positions are added first (the image tokens' own were added before the ViT, and
    fade). Starts as the identity: zero positions and zero residual outputs."""

    def __init__(self, cfg, n):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, n, cfg.width))
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.itc_layers))
        for blk in self.blocks:
            for lin in (blk.attn.o, blk.mlp.fc2):
                nn.init.zeros_(lin.weight)
                nn.init.zeros_(lin.bias)

    def forward(self, x, bias=None):
        x = x + self.pos[:, : x.shape[1]]
        for blk in self.blocks:
            x, _ = blk(x, bias)
        return x[:, 0]


class TinyScenes(nn.Module):
    def __init__(self, cfg, rows):
        super().__init__()
        self.cfg = cfg
        self.vision = Vision(cfg)
        self.text = Text(cfg, rows)
        self.fusion = Fusion(cfg)
        self.vision_proj = nn.Linear(cfg.width, cfg.embed_dim)
        self.text_proj = nn.Linear(cfg.width, cfg.embed_dim)
        if cfg.itc_layers:
            self.vision_itc = ItcHead(cfg, (cfg.image_size // cfg.patch) ** 2 + 1)
            self.text_itc = ItcHead(cfg, cfg.max_len)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        # training only (not exported): per-patch colour (8+1), shape (6+1) and size (2+1) classes
        self.patch_head = nn.Linear(cfg.width, 9 + 7 + 3)
        # training only: image-conditioned masked language modelling over the embedding rows (as
        # ALBEF and mPLUG train their fusion layers): predicting a masked colour, shape, size or
        # relation word forces the fusion to find the object the word is bound to
        self.mlm_head = nn.Linear(cfg.width, self.text.emb.num_embeddings)

    def encode_image(self, pixels):
        tokens = self.vision(pixels)
        return self.image_embeds(tokens), tokens

    def encode_text(self, ids, mask):
        states = self.text(ids, mask)
        return self.text_embeds(states, mask), states

    def image_embeds(self, tokens):
        """The normalised ITC embedding of the vision tower's final tokens."""
        first = self.vision_itc(tokens) if self.cfg.itc_layers else tokens[:, 0]
        return F.normalize(self.vision_proj(first), dim=-1)

    def text_embeds(self, states, mask):
        """The normalised ITC embedding of the text tower's final states."""
        first = self.text_itc(states, mask_bias(mask)) if self.cfg.itc_layers else states[:, 0]
        return F.normalize(self.text_proj(first), dim=-1)

    def itm(self, image_tokens, text_states, mask):
        return self.fusion(image_tokens, text_states, mask)


# Export wrappers: one graph each, named inputs/outputs of the bundle contract (docs/models.md).
class VisionGraph(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, pixel_values):
        return self.m.encode_image(pixel_values)


class TextGraph(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m.encode_text(input_ids, attention_mask)


class ITMGraph(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, image_tokens, text_states, attention_mask):
        return self.m.itm(image_tokens, text_states, attention_mask)
