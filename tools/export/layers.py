"""Transformer building blocks whose parameter names follow the upstream checkpoints.

Three layouts are needed:

- BERT (HuggingFace naming, used by mPLUG's and BLIP's text and fusion encoders):
  `embeddings.{word,position,token_type}_embeddings`, `encoder.layer.N.attention.self.{query,key,value}`,
  `attention.output.{dense,LayerNorm}`, `crossattention.*`, `intermediate.dense`, `output.{dense,LayerNorm}`.
  Post-LayerNorm, exact (erf) GELU, LayerNorm eps 1e-12, additive mask -10000.
- OpenAI CLIP (`transformer.resblocks.N.{attn.in_proj_weight,attn.out_proj,ln_1,mlp.c_fc,mlp.c_proj,ln_2}`):
  pre-LayerNorm, QuickGELU, eps 1e-5; also mPLUG's vision tower.
- timm ViT as BLIP ships it (`blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}`): pre-LayerNorm,
  exact GELU, eps 1e-6.

Everything is written for tracing to ONNX: explicit attention (no fused kernels), shapes taken
from the inputs so that the batch and text-length axes stay dynamic.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_NEG = -10000.0


def attend(q, k, v, heads, width, bias=None):
    """Multi-head attention of q [B,Lq,C] over k, v [B,Lk,C] (C = width, a Python int so that the
    head size is a constant of the graph). Returns (out [B,Lq,C], probs [B,H,Lq,Lk])."""
    d = width // heads
    b = q.shape[0]
    q = q.reshape(b, -1, heads, d).transpose(1, 2)
    k = k.reshape(b, -1, heads, d).transpose(1, 2)
    v = v.reshape(b, -1, heads, d).transpose(1, 2)
    att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    if bias is not None:
        att = att + bias
    p = att.softmax(-1)
    out = torch.matmul(p, v).transpose(1, 2).reshape(b, -1, width)
    return out, p


def mask_bias(mask):
    """Attention mask [B,L] of 0/1 -> additive bias [B,1,1,L] (BERT's -10000 for padding)."""
    return (1.0 - mask[:, None, None, :].to(torch.float32)) * MASK_NEG


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


# --- BERT ---------------------------------------------------------------------------------------


class BertEmbeddings(nn.Module):
    def __init__(self, vocab, width, max_pos, type_vocab):
        """type_vocab 0: no token-type embeddings (BLIP's text encoder has none)."""
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, width)
        self.position_embeddings = nn.Embedding(max_pos, width)
        if type_vocab:
            self.token_type_embeddings = nn.Embedding(type_vocab, width)
        self.LayerNorm = nn.LayerNorm(width, eps=1e-12)

    def forward(self, ids):
        x = self.word_embeddings(ids) + self.position_embeddings.weight[: ids.shape[1]].unsqueeze(0)
        if hasattr(self, "token_type_embeddings"):
            x = x + self.token_type_embeddings.weight[0]  # token_type_ids are all 0
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, width, heads, ctx_width=None):
        super().__init__()
        self.heads, self.width = heads, width
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(ctx_width or width, width)
        self.value = nn.Linear(ctx_width or width, width)

    def forward(self, x, ctx, bias=None):
        return attend(self.query(x), self.key(ctx), self.value(ctx), self.heads, self.width, bias)


class BertSelfOutput(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.dense = nn.Linear(width, width)
        self.LayerNorm = nn.LayerNorm(width, eps=1e-12)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class BertAttention(nn.Module):
    def __init__(self, width, heads, ctx_width=None):
        super().__init__()
        self.self = BertSelfAttention(width, heads, ctx_width)
        self.output = BertSelfOutput(width)

    def forward(self, x, ctx, bias=None):
        h, p = self.self(x, ctx, bias)
        return self.output(h, x), p


class BertIntermediate(nn.Module):
    def __init__(self, width, inner):
        super().__init__()
        self.dense = nn.Linear(width, inner)

    def forward(self, x):
        return F.gelu(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, inner, width):
        super().__init__()
        self.dense = nn.Linear(inner, width)
        self.LayerNorm = nn.LayerNorm(width, eps=1e-12)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class BertLayer(nn.Module):
    """Self-attention, optional cross-attention to a context (the image tokens), feed-forward."""

    def __init__(self, width, heads, inner, cross=False, ctx_width=None):
        super().__init__()
        self.attention = BertAttention(width, heads)
        if cross:
            self.crossattention = BertAttention(width, heads, ctx_width)
        self.intermediate = BertIntermediate(width, inner)
        self.output = BertOutput(inner, width)

    def forward(self, x, bias, ctx=None):
        x, _ = self.attention(x, x, bias)
        probs = None
        if ctx is not None:
            x, probs = self.crossattention(x, ctx)  # the image attention mask is all ones
        return self.output(self.intermediate(x), x), probs


class BertEncoder(nn.Module):
    def __init__(self, layers, width, heads, inner, cross=False, ctx_width=None):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(width, heads, inner, cross, ctx_width) for _ in range(layers))

    def forward(self, x, mask, ctx=None):
        """Returns the last hidden state and the last layer's cross-attention probabilities (or None)."""
        bias = mask_bias(mask)
        probs = None
        for layer in self.layer:
            x, probs = layer(x, bias, ctx)
        return x, probs


# --- OpenAI CLIP ----------------------------------------------------------------------------------


class ClipAttention(nn.Module):
    """nn.MultiheadAttention's parameters (in_proj_weight, in_proj_bias, out_proj), batch-first."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.width = heads, width
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, bias=None):
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        out, _ = attend(q, k, v, self.heads, self.width, bias)
        return self.out_proj(out)


ACTIVATIONS = {"quick_gelu": quick_gelu, "gelu": F.gelu}


class ClipMLP(nn.Module):
    def __init__(self, width, act="quick_gelu"):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)
        self.c_proj = nn.Linear(4 * width, width)
        self.act = ACTIVATIONS[act]

    def forward(self, x):
        return self.c_proj(self.act(self.c_fc(x)))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads, act="quick_gelu"):
        super().__init__()
        self.attn = ClipAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = ClipMLP(width, act)
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x, bias=None):
        x = x + self.attn(self.ln_1(x), bias)
        return x + self.mlp(self.ln_2(x))


class ClipTransformer(nn.Module):
    def __init__(self, width, layers, heads, act="quick_gelu"):
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(width, heads, act) for _ in range(layers))

    def forward(self, x, bias=None):
        for blk in self.resblocks:
            x = blk(x, bias)
        return x


class ClipVisionTransformer(nn.Module):
    """CLIP's ViT: conv patches (no bias), class embedding, positions, ln_pre, blocks, ln_post, proj.

    `tokens` returns ln_post of every token [B,N,W] (mPLUG's skip_last_layer output). proj [W,out_dim]
    is applied by the CLIP graphs; out_dim None leaves it out (mPLUG).
    """

    def __init__(self, image_size, patch, width, layers, heads, out_dim, act="quick_gelu"):
        super().__init__()
        grid = image_size // patch
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(torch.zeros(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = ClipTransformer(width, layers, heads, act)
        self.ln_post = nn.LayerNorm(width)
        if out_dim:
            self.proj = nn.Parameter(torch.zeros(width, out_dim))

    def tokens(self, pixels):
        x = self.conv1(pixels).flatten(2).transpose(1, 2)
        cls = self.class_embedding.reshape(1, 1, -1).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], 1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x)


# --- timm ViT (BLIP) ------------------------------------------------------------------------------


class PatchEmbed(nn.Module):
    def __init__(self, patch, width):
        super().__init__()
        self.proj = nn.Conv2d(3, width, patch, patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VitAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.width = heads, width
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        out, _ = attend(q, k, v, self.heads, self.width)
        return self.proj(out)


class VitMlp(nn.Module):
    def __init__(self, width, inner):
        super().__init__()
        self.fc1 = nn.Linear(width, inner)
        self.fc2 = nn.Linear(inner, width)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class VitBlock(nn.Module):
    def __init__(self, width, heads, inner, eps=1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=eps)
        self.attn = VitAttention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=eps)
        self.mlp = VitMlp(width, inner)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TimmVisionTransformer(nn.Module):
    """BLIP's ViT: patch_embed, cls_token, pos_embed, blocks, final norm (all tokens). eps: the
    LayerNorms' (1e-6 in BLIP's own ViT, 1e-5 in the Hugging Face port's config)."""

    def __init__(self, image_size, patch, width, layers, heads, eps=1e-6):
        super().__init__()
        grid = image_size // patch
        self.patch_embed = PatchEmbed(patch, width)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, width))
        self.blocks = nn.ModuleList(VitBlock(width, heads, 4 * width, eps) for _ in range(layers))
        self.norm = nn.LayerNorm(width, eps=eps)

    def forward(self, pixels):
        x = self.patch_embed(pixels)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


# --- initialisation -------------------------------------------------------------------------------


def random_init(module, seed):
    """Deterministic random weights for --random-init, scaled so that outputs depend on the input.

    Matrices get std 1/sqrt(fan_in) (attention is then far from uniform and the image or text
    signal reaches the CLS outputs; at the published 0.02 every input gives nearly the same
    embedding and a cosine check could not tell two images apart). Biases, LayerNorm gains and
    offsets are random too, so that a dropped or swapped term changes the outputs.
    """
    g = torch.Generator().manual_seed(seed)

    def fill(p, std, mean=0.0):
        with torch.no_grad():
            p.copy_(mean + std * torch.randn(p.shape, generator=g))

    done = set()
    for name, m in sorted(module.named_modules()):
        own = list(m.named_parameters(recurse=False))
        for pname, p in own:
            if isinstance(m, nn.LayerNorm):
                fill(p, 0.1, 1.0 if pname == "weight" else 0.0)
            elif isinstance(m, nn.Embedding):
                fill(p, 1.0)
            elif pname in ("weight", "in_proj_weight") and p.dim() >= 2:
                fill(p, (p[0].numel()) ** -0.5)  # Linear [out,in], Conv2d [out,in,k,k]
            elif pname in ("proj", "text_projection"):
                fill(p, p.shape[0] ** -0.5)  # used as x @ P
            elif pname == "logit_scale":
                with torch.no_grad():
                    p.fill_(math.log(1 / 0.07))
            elif pname.endswith("bias"):
                fill(p, 0.02)
            else:  # class and position embeddings
                fill(p, 0.1)
            done.add(id(p))
    assert all(id(p) in done for p in module.parameters())
    return module
