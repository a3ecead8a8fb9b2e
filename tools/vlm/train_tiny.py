"""Trains the tiny-scenes default model on generated scenes (ITC + ITM with hard negatives).

    PYTHONPATH=tools /usr/bin/python3 -m vlm.train_tiny --work build/tiny-scenes --out build/tiny-scenes/model.pt

Objectives, as ALBEF and mPLUG train retrieval: an image-text contrastive loss (ITC) on normalised
projections with a learned temperature, and an image-text matching loss (ITM) on the fusion
layers, whose negatives are (a) texts and images mined from the ITC similarities of the batch and
(b) the generator's explicit hard negatives (colour, shape, size, swap and relation flips). Twin
scenes (`scenes generate --twins`) are put in the same batch so that ITC and the mining see
scenes that differ only in binding. Fixed seeds; the data are generated from fixed seeds too.
"""
import argparse
import hashlib
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import scenes_data
from .tiny_model import Config, TinyScenes, any_word
from .wordpiece import WordPiece

VOCAB = os.path.join(os.path.dirname(__file__), "..", "..", "models", "tiny-scenes", "vocab.txt")
TRAIN_SEED_RANDOM, TRAIN_SEED_TWINS = 1001, 1002  # eval seeds (tools/vlm/eval_tiny.py) differ
TRAIN_SEED_QUERIES = 1003


def vocab_rows(tok, texts, size):
    """BERT id -> embedding row: specials and every id used by texts get their own row; others [UNK]."""
    used = set()
    for t in texts:
        used.update(tok.ids(t))
    keep = [tok.pad, tok.unk, tok.cls, tok.sep] + sorted(used - {tok.pad, tok.unk, tok.cls, tok.sep})
    rows = torch.full((size,), 1, dtype=torch.long)  # row 1 = [UNK]
    for r, i in enumerate(keep):
        rows[i] = r
    return rows


def load_sets(args, tok, image_size):
    os.makedirs(args.work, exist_ok=True)
    binary = scenes_data.scenes_binary()
    sfx = "" if args.captions == "short" else "-" + args.captions
    r = scenes_data.generate(os.path.join(args.work, "train-random" + sfx), args.n_random, TRAIN_SEED_RANDOM,
                             size=args.gen_size, binary=binary, captions=args.captions)
    t = scenes_data.generate(os.path.join(args.work, "train-twins" + sfx), args.n_twins, TRAIN_SEED_TWINS,
                             size=args.gen_size, twins=True, binary=binary, captions=args.captions)
    return scenes_data.SceneSet(r, image_size, tok), scenes_data.SceneSet(t, image_size, tok)


class Batcher:
    """Yields batches of (set, index) mixing random scenes and whole twin pairs, and with
    lone_groups, that many groups of lone_size random scenes of one lone object (the same colour,
    shape and size), which only their region and background tell apart. Drawn at random, a batch
    rarely holds two of them, and the ITC then has no reason to encode where a lone object stands
    or on what: on the random split (full captions), 613 of the stage-7 model's 1,148 text->image
    misses were a lone object's image beaten by another of the same object elsewhere."""

    def __init__(self, rand_set, twin_set, batch, twin_pairs, rng, lone_groups=0, lone_size=3):
        self.r, self.t, self.batch, self.pairs, self.rng = rand_set, twin_set, batch, twin_pairs, rng
        self.twin_first = [i for i in range(len(twin_set)) if twin_set.twin[i] > i]
        self.groups, self.size = lone_groups, lone_size
        by_key = {}
        for i, sc in enumerate(rand_set.scope):
            if sc is not None:
                by_key.setdefault(int(rand_set.key[i]), []).append(i)
        self.lone = [v for v in by_key.values() if len(v) >= 2]

    def next(self):
        firsts = self.rng.sample(self.twin_first, self.pairs)
        tw = [j for i in firsts for j in (i, int(self.t.twin[i]))]
        if not self.groups:
            return tw, self.rng.sample(range(len(self.r)), self.batch - len(tw))
        rd = []
        for g in self.rng.sample(self.lone, min(self.groups, len(self.lone))):
            rd += self.rng.sample(g, min(self.size, len(g)))
        taken = set(rd)
        while len(rd) < self.batch - len(tw):
            i = self.rng.randrange(len(self.r))
            if i not in taken:
                taken.add(i)
                rd.append(i)
        return tw, rd


def pick_negatives(pool, n, rng, weights):
    """n of an image's explicit negatives [(text, kind)], drawn without replacement by kind weight."""
    pool = list(pool)
    out = []
    while pool and len(out) < n:
        w = [weights.get(k, 1.0) for _, k in pool]
        i = rng.choices(range(len(pool)), w)[0]
        out.append(pool.pop(i))
    while len(out) < n:
        out.append(out[len(out) % max(1, len(out))] if out else ("", "none"))
    return out


def source_caption(s, i, text):
    """The true caption of image i an edited caption was made from: the same length in tokens,
    fewest differing tokens. Returns it and the differing positions ([max_len] bool), or None."""
    ids, mask = s.encode([text])
    best = None
    for c in s.captions[i]:
        cid, cmask = s.encode([c])
        if (cmask == mask).all():
            d = (cid[0] != ids[0]) & (mask[0] > 0)
            if best is None or d.sum() < best[1].sum():
                best = (c, d)
    return best


def spread_to_phrases(s, i, text, labels):
    """Replaced-word labels [max_len] widened to whole object phrases: where any word of "a small
    blue circle" was edited, every word of it is wrong. With a colour swap, "blue" alone is the
    edit, but "circle" is as wrong (the circle is red), and labelling it correct teaches a check to
    ignore the rest of its phrase, which is where binding lives."""
    out = labels.copy()
    for w, toks, attrs, _ in s._words(text, s.meta[i]["scene"]["objects"]):
        if w in scenes_data.SHAPES:
            phrase = [t for t in toks + attrs if t < len(out)]
            if (labels[phrase] > 0).any():
                out[phrase] = 1
    return out


def edit_targets(s, i, text, kind, grid, rtd, relations, phrases=False):
    """What the edited caption text of image i (a hard negative of this kind; "none" for a true
    caption standing in) needs from the true caption it was made from (source_caption), found
    once: with rtd, the replaced-word labels [max_len] int64 (1 where the tokens differ, 0
    elsewhere, -1 everywhere when there is no source); with relations, the source's relation
    targets (its relation words stand where the edit's do). With phrases, the labels are widened
    to whole object phrases (spread_to_phrases) and the relation targets include their word-level
    roles. Returns (labels, (ref, loc[, ref_words, loc_words])), None for what was not asked."""
    src = source_caption(s, i, text) if kind != "none" else None
    labels = rel = None
    if rtd:
        labels = (src[1].astype(np.int64) if src is not None and src[1].any() else
                  np.full(s.tok.max_len, -1, np.int64))
        if phrases and labels[0] >= 0:
            labels = spread_to_phrases(s, i, text, labels)
    if relations:
        if kind == "none":
            rel = s.relation_targets(i, text, grid, phrases)
        elif src is None:
            z = np.zeros((s.tok.max_len, grid * grid), np.float32)
            zw = np.zeros((s.tok.max_len, s.tok.max_len), np.float32)
            rel = (z, z, zw, zw) if phrases else (z, z)
        else:
            rel = s.relation_targets(i, src[0], grid, phrases)
    return labels, rel


def gather(sets, tw, rd, rng, n_neg, weights=None, grid=0, ground_neg=False, rtd=False, ground_rel=False,
           phrases=False):
    """Pixels, one true caption, n_neg explicit negatives, scene keys and patch labels per image;
    with grid > 0 also the caption's token -> object grounding targets [B, max_len, grid*grid]
    (with ground_neg, then those of the negatives too, [(1 + n_neg) * B, ...]); with rtd, the
    negatives' replaced-word labels [n_neg * B, max_len] (edit_targets). With ground_rel, the
    grounding is a pair: head 0's targets with the relation words' reference objects added, and
    head 1's, the objects they locate (edit_targets for the negatives). phrases widens the labels
    to whole object phrases and adds the relation words' word-level roles (reference, located)
    to the grounding tuple."""
    pix = np.concatenate([sets[0].pixels(tw), sets[1].pixels(rd)])
    lab = np.concatenate([sets[0].patch_labels[tw], sets[1].patch_labels[rd]])
    caps, negs, kinds, keys, ground, scope = [], [[] for _ in range(n_neg)], [[] for _ in range(n_neg)], [], [], []
    neg_ground, neg_rtd = [[] for _ in range(n_neg)], [[] for _ in range(n_neg)]
    for s, idx, off in ((sets[0], tw, 0), (sets[1], rd, 1_000_000)):
        for i in idx:
            caps.append(rng.choice(s.captions[i]))
            scope.append((s.scope[i], scenes_data.caption_scope(caps[-1])))
            if grid:
                ground.append(s.grounding(i, caps[-1], grid))
                if ground_rel:
                    ref, loc, *w = s.relation_targets(i, caps[-1], grid, phrases)
                    ground[-1] = (ground[-1] + ref, loc, *w)
            if weights:
                picks = pick_negatives(s.negatives[i], n_neg, rng, weights)
            else:
                pool = s.negatives[i] or [(c, "none") for c in s.captions[i]]
                picks = rng.sample(pool, n_neg) if len(pool) >= n_neg else [rng.choice(pool) for _ in range(n_neg)]
            for j, (t, k) in enumerate(picks):
                negs[j].append(t)
                kinds[j].append(k)
                neg_rel = bool(grid and ground_neg and ground_rel)
                labels, rel = edit_targets(s, i, t, k, grid, rtd, neg_rel, phrases)
                if grid and ground_neg:
                    g = s.grounding(i, t, grid)
                    neg_ground[j].append((g + rel[0], *rel[1:]) if neg_rel else g)
                if rtd:
                    neg_rtd[j].append(labels)
            keys.append(int(s.key[i]) + off)
    if grid and ground_neg:
        ground += [g for n in neg_ground for g in n]
    if grid and ground_rel:
        ground = tuple(np.stack(x) for x in zip(*ground))
    elif grid:
        ground = np.stack(ground)
    return (pix, lab, caps, [t for n in negs for t in n], keys, [k for n in kinds for k in n],
            ground if grid else None, np.stack([r for n in neg_rtd for r in n]) if rtd else None, scope)


def true_of(keys, scope):
    """[B, B] bool: caption j of the batch is true of image i. Equal scene keys, and where image i
    is a lone object, the region and background that caption j names (if any) are its own. With
    scope None, equal keys alone (stages 1-6 of the recipe were trained so: a lone object's full
    caption then counted as true of every image of the same object, and the ITC learned to ignore
    where it stands and on what)."""
    key = torch.tensor(keys)
    same = key[:, None] == key[None, :]
    for i, (sc, _) in enumerate(scope or []):
        if sc is None:
            continue
        for j in torch.nonzero(same[i]).flatten().tolist():
            reg, bg = scope[j][1]
            same[i, j] = (reg is None or reg == sc[0]) and (bg is None or bg == sc[1])
    return same


def sample_other(weights, same, gen):
    """For each row, samples a column with probability ~ weights, never one marked same."""
    w = weights.clone()
    w[same] = 0
    w = w + 1e-9 * (~same)
    return torch.multinomial(w, 1, generator=gen).squeeze(1)


RELATION_WORDS = "left right above below top bottom".split()
MASK_ID = 103  # BERT [MASK]; it maps onto the [UNK] row
CONTENT_WORDS = ("red orange yellow green cyan blue purple pink circle square triangle star cross ring "
                 "small large left right above below top bottom").split()


def batch_tokens(caps, negs, enc):
    """A batch's B true captions and n_neg * B negatives tokenized together, cut to the longest:
    (B, n_neg, ids, mask, L)."""
    B = len(caps)
    ids, mask = enc(caps + negs)
    L = int(mask.sum(1).max())
    return B, len(negs) // B, torch.from_numpy(ids[:, :L]), torch.from_numpy(mask[:, :L]), L


def step_loss(model, batch, enc, gen, mlm_ids=None, itc_hard=False, ground=0.0, rel_ids=None, p_rel=0.0, rtd=0.0,
              aux_w=0.5, aux_shape=1.0, lone_scope=False):
    """ITC + ITM (binary, balanced) + ITM ranking of each true caption over its hard negatives
    + the per-patch auxiliary loss. Returns the total, the parts for logging and, per explicit
    negative, its kind and whether the ITM scored it below the image's true caption.

    With itc_hard, the explicit negatives' text embeddings join the image->text ITC softmax as
    extra columns (NegCLIP): the embeddings must then tell a scene from its one-word edits.

    With ground > 0, head 0 of every fusion layer's cross-attention is pulled, for each word of
    a phrase that names one object of the scene, towards that object's patches (cross-entropy
    against the grounding target): left to the ITM loss alone, the fusion learns to find the
    object a word names only after a long plateau, and attribute binding and relations cannot be
    read before it has. When the batch carries the negatives' grounding too, their words are
    pulled onto the objects their shape nouns name, where the edit is visible.

    With rtd > 0 (and a model with the token head), every word of the true captions and of the
    explicit negatives is classified as replaced or not (the edit's words: the swapped colour, the
    flipped relation word): binding and relations are then taught at the word that carries them,
    not only through the [CLS] state.

    aux_w weights the per-patch loss and aux_shape its shape term within it: at the default
    weights the patch tokens of a stage-3 model told an object's shape on 36% of its patches
    (colour 88%), too little for a word to find "the triangle" among three objects.

    With lone_scope, a lone object's caption that names its region or background is a positive of
    only the images that match it (true_of); otherwise of every image with the same scene key."""
    pix, lab, caps, negs, keys, kinds, gt, rtd_lab, scope = batch
    B, n_neg, ids, mask, L = batch_tokens(caps, negs, enc)
    img_emb, img_tok = model.encode_image(torch.from_numpy(pix))
    txt_emb, txt_st = model.encode_text(ids, mask)
    t_emb, t_st, t_mask = txt_emb[:B], txt_st[:B], mask[:B]
    n_st, n_mask = txt_st[B:], mask[B:]

    same = true_of(keys, scope if lone_scope else None)  # [image, caption]
    itc, sim_i2t, sim_t2i = itc_loss(model, img_emb, t_emb, txt_emb[B:] if itc_hard else None, same)

    with torch.no_grad():
        neg_txt = sample_other(F.softmax(sim_i2t.float(), 1), same, gen)      # per image, a text
        neg_img = sample_other(F.softmax(sim_t2i.float(), 1), same.t(), gen)  # per text, an image
    it = torch.cat([img_tok, img_tok, img_tok[neg_img], img_tok.repeat(n_neg, 1, 1)])
    ts = torch.cat([t_st, t_st[neg_txt], t_st, n_st])
    tm = torch.cat([t_mask, t_mask[neg_txt], t_mask, n_mask])
    labels = torch.cat([torch.ones(B), torch.zeros((2 + n_neg) * B)]).long()
    fused, layer_probs = model.fusion.states(it, ts, tm, all_probs=True)
    logits, word_logits = model.fusion.logits(fused, tm)
    gl = torch.zeros(())
    if ground:
        heads = gt if isinstance(gt, tuple) else (gt,)  # head 0's targets, then head 1's (relations)
        for h, g in enumerate(heads):
            g = torch.from_numpy(g[:, :ts.shape[1]])  # [B,L,P] targets of the positive pairs (+ negatives)
            rows = torch.arange(B) if len(g) == B else torch.cat([torch.arange(B), torch.arange(3 * B, (3 + n_neg) * B)])
            on = g.sum(-1) > 0
            if on.any():
                n_p = g.shape[-1]
                gl = gl + sum(-(g[on] * torch.log(p[rows, h, :, -n_p:][on] + 1e-6)).sum(-1).mean()
                              for p in layer_probs) / len(layer_probs)
    rl = torch.zeros(())
    if rtd and word_logits is not None:
        lab_t = torch.cat([torch.zeros(B, L, dtype=torch.long), torch.from_numpy(rtd_lab[:, :L])])
        wl = torch.cat([word_logits[:B], word_logits[3 * B:]])
        valid = (lab_t >= 0) & (torch.cat([t_mask, n_mask]) > 0)
        valid[:, 0] = False
        rl = F.binary_cross_entropy_with_logits(wl[valid], lab_t[valid].float(), pos_weight=torch.tensor(4.0))
    itm = F.cross_entropy(logits, labels, weight=torch.tensor([1.0, float(2 + n_neg)]))
    # ranking: the true caption must beat each of its own hard negatives on the same image
    margin = logits[:, 1] - logits[:, 0]
    cand = torch.stack([margin[:B]] + [margin[(3 + j) * B:(4 + j) * B] for j in range(n_neg)], 1)
    rank = F.cross_entropy(cand, torch.zeros(B, dtype=torch.long))
    aux = patch_loss(model, img_tok, lab, aux_shape)
    acc_neg = (cand.argmax(1) == 0).float().mean().item()
    beaten = (cand[:, 1:] < cand[:, :1]).t().reshape(-1).tolist()  # same order as kinds
    mlm = torch.zeros(())
    if mlm_ids is not None:
        mlm = masked_lm(model, img_tok, ids[:B], t_mask, mlm_ids, gen, relation=rel_ids, p_rel=p_rel)
    return (itc + itm + rank + aux_w * aux + mlm + ground * gl + rtd * rl,
            (itc.item(), itm.item(), rank.item(), aux.item(), acc_neg, mlm.item(), gl.item(), rl.item()),
            list(zip(kinds, beaten)))


def itc_loss(model, img_emb, txt_emb, neg_emb, same):
    """Symmetric InfoNCE over a batch's images and true captions, same [image, caption] marking
    the captions true of each image (true_of), all of them targets; neg_emb (or None): explicit
    negatives' embeddings joining the image->text softmax as extra wrong columns (NegCLIP).
    Returns the loss and the scaled similarities (image->text, text->image)."""
    scale = model.logit_scale.exp().clamp(max=100)
    sim_i2t = scale * img_emb @ txt_emb.t()
    sim_t2i = sim_i2t.t()
    tgt = same.float() / same.float().sum(1, keepdim=True)
    tgt_t2i = same.t().float() / same.t().float().sum(1, keepdim=True)
    i2t, i2t_tgt = sim_i2t, tgt
    if neg_emb is not None:
        i2t = torch.cat([sim_i2t, scale * img_emb @ neg_emb.t()], 1)
        i2t_tgt = torch.cat([tgt, torch.zeros(len(img_emb), len(neg_emb))], 1)
    loss = (-(F.log_softmax(i2t, 1) * i2t_tgt).sum(1).mean() - (F.log_softmax(sim_t2i, 1) * tgt_t2i).sum(1).mean()) / 2
    return loss, sim_i2t, sim_t2i


@torch.no_grad()
def image_tokens(model, s, bs=256):
    """The frozen vision tower's final tokens of every image of a set, in fp16 (0.85 GB for the
    50,000 training images)."""
    out = []
    for i in range(0, len(s), bs):
        out.append(model.vision(torch.from_numpy(s.pixels(list(range(i, min(i + bs, len(s))))))).half())
    return torch.cat(out)


def cached_tokens(model, s, work):
    """The frozen vision tower's tokens of every image of a set (image_tokens), kept in work
    under a digest of the vision weights and the set: the vision tower is final after stage 2,
    so stages 4 and 5 compute them once (7.4 minutes for the 50,000 training images on 2 cores)."""
    h = hashlib.sha256(s.root.encode())
    for k, v in sorted(model.vision.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().contiguous().numpy().tobytes())
    path = os.path.join(work, f"vision-tokens-{os.path.basename(s.root)}-{h.hexdigest()[:12]}.pt")
    if os.path.exists(path):
        return torch.load(path)
    model.eval()
    toks = image_tokens(model, s)
    torch.save(toks, path + ".tmp")
    os.replace(path + ".tmp", path)
    return toks


def itc_phase(model, sets, batcher, args, weights, rng):
    """Trains the ITC heads alone (ItcHead over each tower, the projections and the temperature),
    every other weight frozen, for args.itc_steps steps at args.lr with a warm-up and a cosine
    decay. The towers are frozen, so the image tokens are computed once; each step encodes its
    captions and explicit negatives with the frozen text tower. Loss: itc_loss with the lone
    objects' scopes (true_of) and the explicit negatives in the image->text softmax; batches of
    twin pairs, lone-object groups and random scenes (Batcher). The ITM sees nothing new: its
    scores are the same before and after, only the candidates the ITC hands it change."""
    heads = [model.vision_itc, model.text_itc, model.vision_proj, model.text_proj]
    params = [p for h in heads for p in h.parameters()] + [model.logit_scale]
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    t0 = time.time()
    toks = [cached_tokens(model, s, args.work) for s in sets]
    model.train()
    print(f"itc: image tokens of {sum(len(t) for t in toks)} images in {time.time() - t0:.0f}s", flush=True)
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    n = args.itc_steps
    sched = warmup_cosine(opt, args.warmup, n)
    enc = sets[1].encode
    hist, t0 = [], time.time()
    for step in range(n):
        tw, rd = batcher.next()
        caps, negs, keys, scope = [], [], [], []
        for s, idx, off in ((sets[0], tw, 0), (sets[1], rd, 1_000_000)):
            for i in idx:
                caps.append(rng.choice(s.captions[i]))
                scope.append((s.scope[i], scenes_data.caption_scope(caps[-1])))
                negs += [t for t, _ in pick_negatives(s.negatives[i], args.negatives, rng, weights)]
                keys.append(int(s.key[i]) + off)
        B, _, ids, mask, _ = batch_tokens(caps, negs, enc)
        with torch.no_grad():
            st = model.text(ids, mask)
        it = torch.cat([toks[0][tw], toks[1][rd]]).float()
        img_emb = model.image_embeds(it)
        txt_emb = model.text_embeds(st, mask)
        same = true_of(keys, scope)
        loss, sim_i2t, _ = itc_loss(model, img_emb, txt_emb[:B], txt_emb[B:], same)
        optimizer_step(opt, sched, loss, params)
        with torch.no_grad():  # text->image R@1 within the batch: the image ranked first is one it is true of
            hit = same.t()[torch.arange(B), sim_i2t.t().argmax(1)].float().mean().item()
        hist.append((loss.item(), hit))
        if (step + 1) % args.save_every == 0 and step + 1 < n:
            save(args, model.cfg, model.text.rows, model, step + 1, time.time() - t0)
        if (step + 1) % args.log_every == 0 or step == 0:
            h = np.mean(hist[-args.log_every:], 0)
            el = time.time() - t0
            print(f"itc step {step + 1}/{n} itc {h[0]:.3f} batch-r1 {h[1]:.3f} temp {1 / model.logit_scale.exp().item():.4f} "
                  f"{el / (step + 1):.2f}s/step eta {el / (step + 1) * (n - step - 1) / 60:.1f}min", flush=True)


def patch_loss(model, img_tok, lab, aux_shape=1.0):
    """Every patch token predicts the colour, shape and size of what covers it (lab [B,3,P]);
    aux_shape weights the shape term."""
    ph = model.patch_head(img_tok[:, 1:])
    lab = torch.from_numpy(lab)
    return (F.cross_entropy(ph[..., :9].reshape(-1, 9), lab[:, 0].reshape(-1)) +
            aux_shape * F.cross_entropy(ph[..., 9:16].reshape(-1, 7), lab[:, 1].reshape(-1)) +
            F.cross_entropy(ph[..., 16:].reshape(-1, 3), lab[:, 2].reshape(-1))) / 3


def vision_phase(model, rset, steps, batch, lr, aux_shape, rng, log_every):
    """Trains the vision tower and the patch head alone on the per-patch loss. In the joint
    training the patch loss's gradient is a small part of a norm-clipped whole, and the patch
    tokens of a stage-3 model told an object's shape on 36% of its patches; on their own, 150
    steps took them to 55%."""
    params = list(model.vision.parameters()) + list(model.patch_head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.02)
    t0, hist = time.time(), []
    for step in range(steps):
        idx = rng.sample(range(len(rset)), batch)
        _, img_tok = model.encode_image(torch.from_numpy(rset.pixels(idx)))
        loss = patch_loss(model, img_tok, rset.patch_labels[idx], aux_shape)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hist.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == steps:
            print(f"vision step {step + 1}/{steps} patch loss {np.mean(hist[-log_every:]):.3f} "
                  f"{(time.time() - t0) / (step + 1):.2f}s/step", flush=True)


def verify_loss(model, batch, enc, gen, lone_scope=False, text_grad=False):
    """The verifier's losses on one batch, everything else frozen (no gradients reach it; with
    text_grad, they reach the text encoder, through the verifier and through the fused ITM
    logits, whose weights stay frozen).

    Pairs: each image with its true caption, each true caption with an image mined from the ITC
    similarities (ALBEF), and each image with its explicit hard negatives. Losses: the ITM
    cross-entropy of the fused logits plus the verifier's share, a ranking of each true caption
    over its own hard negatives, the replaced-word labels on the verifier's per-word logits (true
    captions: none replaced), and the grounding of its hops: the first of a phrase's words on the
    object the phrase names, the second of a relation word on the words of the phrases that name
    its reference object (head 0) and the object it locates (head 1)."""
    pix, lab, caps, negs, keys, kinds, gt, rtd_lab, scope = batch
    B, n_neg, ids, mask, L = batch_tokens(caps, negs, enc)
    with torch.no_grad():
        img_emb, img_tok = model.encode_image(torch.from_numpy(pix))
    with torch.set_grad_enabled(text_grad):
        txt_emb, txt_st = model.encode_text(ids, mask)
        same = true_of(keys, scope if lone_scope else None)
        sim = (img_emb @ txt_emb[:B].detach().t()).t() * model.logit_scale.exp()
        neg_img = sample_other(F.softmax(sim, 1), same.t(), gen)
        it = torch.cat([img_tok, img_tok[neg_img], img_tok.repeat(n_neg, 1, 1)])
        ts = torch.cat([txt_st[:B], txt_st[:B], txt_st[B:]])
        tm = torch.cat([mask[:B], mask[:B], mask[B:]])
        base = model.fusion.logits(model.fusion.states(it, ts, tm)[0], tm)[0]
    ver = model.fusion.verifier
    words, p1, hop = ver(it, ts, tm)
    logits = base + ver.itm(it, ts, tm, words)
    labels = torch.cat([torch.ones(B), torch.zeros((1 + n_neg) * B)]).long()
    itm = F.cross_entropy(logits, labels, weight=torch.tensor([1.0, float(1 + n_neg)]))
    margin = logits[:, 1] - logits[:, 0]
    cand = torch.stack([margin[:B]] + [margin[(2 + j) * B:(3 + j) * B] for j in range(n_neg)], 1)
    rank = F.cross_entropy(cand, torch.zeros(B, dtype=torch.long))
    rows = torch.cat([torch.arange(B), torch.arange(2 * B, (2 + n_neg) * B)])
    lab_t = torch.cat([torch.zeros(B, L, dtype=torch.long), torch.from_numpy(rtd_lab[:, :L])])
    valid = (lab_t >= 0) & (tm[rows] > 0)
    valid[:, 0] = False
    wl = F.binary_cross_entropy_with_logits(words[rows][valid], lab_t[valid].float(), pos_weight=torch.tensor(4.0))
    # gt: (phrase words' objects + relation words' reference objects, relation words' located
    # objects, the same two roles over the caption's tokens)
    ref = torch.from_numpy(gt[0][:, :L])
    is_rel = torch.from_numpy(gt[1][:, :L]).sum(-1) > 0
    obj = torch.where(is_rel[..., None], torch.zeros_like(ref), ref)  # phrase words only
    gl = torch.zeros(())
    for g, p in ((obj, p1[rows]), (torch.from_numpy(gt[2][:, :L, :L]), hop[rows, 0]),
                 (torch.from_numpy(gt[3][:, :L, :L]), hop[rows, 1])):
        on = g.sum(-1) > 0
        if on.any():
            gl = gl + (-(g[on] * torch.log(p[on] + 1e-6)).sum(-1)).mean()
    acc = (cand.argmax(1) == 0).float().mean().item()
    beaten = (cand[:, 1:] < cand[:, :1]).t().reshape(-1).tolist()
    return itm + rank + wl + gl, (itm.item(), rank.item(), wl.item(), gl.item(), acc), list(zip(kinds, beaten))


def warmup_cosine(opt, warmup, n):
    """The learning-rate schedule of every phase: a linear warm-up over `warmup` steps, then a
    cosine decay that reaches 0 at step n."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) *
                                             0.5 * (1 + math.cos(math.pi * min(1.0, s / n))))


def optimizer_step(opt, sched, loss, params):
    """One step of every phase: gradients of loss, clipped to norm 1 over params, then the
    optimiser's and the schedule's step."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()


def print_kinds(kind_hist):
    """Logs, per kind of explicit negative, how often the true caption beat it over the steps
    kind_hist covers (each a list of (kind, beaten))."""
    per = {}
    for k, b in (x for h in kind_hist for x in h):
        per.setdefault(k, []).append(b)
    print("  true caption beats its negative, by kind: " +
          " ".join(f"{k} {np.mean(v):.2f}" for k, v in sorted(per.items())), flush=True)


def verify_phase(model, sets, batcher, args, weights, rng, gen):
    """Trains the verifier (Verifier in tiny_model) for args.verify_steps steps, at args.lr with a
    warm-up and a cosine decay. With args.verify_text > 0 the text encoder trains with it, at
    args.lr times that, so that its states come to carry the caption's structure the verifier's
    second hop reads (which words name which object, which phrases a relation word joins); every
    other weight stays as it is."""
    ver = model.fusion.verifier
    ver.attr.load_state_dict(model.patch_head.state_dict())  # frozen: what the patches show
    params = [p for n, p in ver.named_parameters() if not n.startswith("attr.")]
    groups = [{"params": params}]
    text_grad = args.verify_text > 0
    if text_grad:  # gradients pass through the fusion, whose weights must not collect them
        text = list(model.text.parameters())
        for p in model.parameters():
            p.requires_grad_(False)
        params = params + text
        for p in params:
            p.requires_grad_(True)
        groups.append({"params": text, "lr": args.lr * args.verify_text})
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    n = args.verify_steps
    sched = warmup_cosine(opt, args.warmup, n)
    grid = model.cfg.image_size // model.cfg.patch
    hist, kind_hist, t0 = [], [], time.time()
    for step in range(n):
        tw, rd = batcher.next()
        batch = gather(sets, tw, rd, rng, args.negatives, weights, grid, True, True, True, phrases=True)
        loss, parts, beaten = verify_loss(model, batch, sets[1].encode, gen, args.lone_scope, text_grad)
        optimizer_step(opt, sched, loss, params)
        hist.append(parts)
        kind_hist.append(beaten)
        if (step + 1) % args.save_every == 0 and step + 1 < n:  # the last: after the calibration
            save(args, model.cfg, model.text.rows, model, step + 1, time.time() - t0)
        if (step + 1) % args.log_every == 0 or step == 0:
            h = np.mean(hist[-args.log_every:], 0)
            el = time.time() - t0
            print(f"verify step {step + 1}/{n} itm {h[0]:.3f} rank {h[1]:.3f} words {h[2]:.3f} ground {h[3]:.3f} "
                  f"caption-beats-negatives {h[4]:.3f} {el / (step + 1):.2f}s/step "
                  f"eta {el / (step + 1) * (n - step - 1) / 60:.1f}min", flush=True)
            print_kinds(kind_hist[-args.log_every:])


@torch.no_grad()
def calibrate_verifier(model, sets, n, seed=0):
    """Sets the verifier's threshold tau and the size of its mix (kept antisymmetric, [a, -a])
    by a grid search on n training images of each set, every other weight as it is.

    The verifier is trained with a balanced ITM loss, which ranks well (a true caption over its
    own edits) but leaves a threshold that is not what a user thresholds on: the worst word of a
    long true caption carries some doubt, and at the learned tau too many true captions of three
    objects fell below p_match 0.5. Here every true caption and explicit negative of the images is
    scored once (the ITM head's margin and the worst word's logit), and the pair (tau, a) that
    maximises the balanced accuracy at p_match 0.5 wins: the mean of the true captions' accuracy
    and the mean over the negative kinds of theirs (each kind weighs the same). Returns a report."""
    ver = model.fusion.verifier
    rng = random.Random(seed)
    margins, worst, kinds = [], [], []
    for s in sets:
        for i in rng.sample(range(len(s)), min(n, len(s))):
            texts = list(s.captions[i]) + [t for t, _ in s.negatives[i]]
            ks = ["true"] * len(s.captions[i]) + [k for _, k in s.negatives[i]]
            ids, mask = s.encode(texts)
            L = int(mask.sum(1).max())
            ids, mask = torch.from_numpy(ids[:, :L]), torch.from_numpy(mask[:, :L])
            _, it = model.encode_image(torch.from_numpy(s.pixels([i])))
            _, st = model.encode_text(ids, mask)
            it = it.expand(len(texts), -1, -1)
            base = model.fusion.logits(model.fusion.states(it, st, mask)[0], mask)[0]
            words = ver(it, st, mask)[0]
            margins.append(base[:, 1] - base[:, 0])
            worst.append(0.25 * any_word(words * 4.0, mask))
            kinds += ks
    m, w = torch.cat(margins), torch.cat(worst)
    groups = {k: torch.tensor([x == k for x in kinds]) for k in sorted(set(kinds))}
    best = None
    for tau in torch.arange(-2.0, 12.01, 0.1):
        sp = F.softplus(w - tau)
        for a in torch.logspace(-2, 2, 81):
            ok = (m - 2 * a * sp) >= 0  # p_match >= 0.5
            acc = {k: (ok[g] if k == "true" else ~ok[g]).float().mean().item() for k, g in groups.items()}
            neg = [v for k, v in acc.items() if k != "true"]
            score = 0.5 * acc["true"] + 0.5 * sum(neg) / len(neg)
            if best is None or score > best[0]:
                best = (score, float(tau), float(a), acc)
    score, tau, a, acc = best
    ver.tau.fill_(tau)
    ver.mix.copy_(torch.tensor([a, -a]))
    return {"tau": round(tau, 2), "a": round(a, 4), "balanced_accuracy": round(score, 4),
            "accuracy": {k: round(v, 4) for k, v in acc.items()}, "pairs": len(kinds)}


def masked_lm(model, img_tok, ids, mask, content, gen, p=0.3, relation=None, p_rel=0.0):
    """Masks content words (colours, shapes, sizes, relations) of the true captions and predicts
    their embedding rows from the fused states of (image, masked caption). Relation words (ids in
    relation) are masked with probability p_rel instead: predicting a hidden "left" or "above"
    from where the two grounded objects are is the most direct lesson in reading relations."""
    is_content = torch.isin(ids, content) & (mask > 0)
    prob = torch.full(ids.shape, p)
    if relation is not None and p_rel > 0:
        prob[torch.isin(ids, relation)] = p_rel
    pick = is_content & (torch.rand(ids.shape, generator=gen) < prob)
    first = torch.argmax(is_content.int(), 1)  # at least one masked word per caption
    pick[torch.arange(ids.shape[0]), first] |= is_content[torch.arange(ids.shape[0]), first]
    masked = ids.masked_fill(pick, MASK_ID)
    _, st = model.encode_text(masked, mask)
    x, _ = model.fusion.states(img_tok, st, mask)
    target = model.text.rows[ids[pick]]
    return F.cross_entropy(model.mlm_head(x[pick]), target)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="build/tiny-scenes", help="folder for generated data (git-ignored)")
    ap.add_argument("--out", default="build/tiny-scenes/model.pt")
    ap.add_argument("--n-random", type=int, default=30000, help="random training scenes")
    ap.add_argument("--n-twins", type=int, default=10000, help="twin pairs (2x images)")
    ap.add_argument("--gen-size", type=int, default=160, help="rendered size before the bicubic resize")
    ap.add_argument("--captions", default="short", choices=("short", "full", "both"),
                    help="caption style of the training scenes (scenes generate --captions): full names a lone "
                    "object's region and background; both gives the short and the full captions")
    ap.add_argument("--steps", type=int, default=3600)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--twin-pairs", type=int, default=12, help="twin pairs per batch")
    ap.add_argument("--lone-groups", type=int, default=0, help="groups of 3 random scenes of one lone object "
                    "(the same colour, shape and size) per batch (Batcher)")
    ap.add_argument("--lone-scope", action="store_true", help="a lone object's caption that names a region or "
                    "background is true only of the images that match it (true_of), not of every image of the object")
    ap.add_argument("--negatives", type=int, default=2, help="explicit hard negatives per image and step")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--init", help="start from this checkpoint's weights (continued training)")
    ap.add_argument("--fusion-layers", type=int, help="fusion depth (default: the config's; with --init, "
                    "extra layers are appended as identities and trained)")
    ap.add_argument("--null-token", action="store_true", help="give the fusion cross-attention a learned sink")
    ap.add_argument("--mlm", action="store_true", help="add the image-conditioned masked-word loss")
    ap.add_argument("--conv-stem", type=int, default=0, help="channels of a full-resolution CNN stem before patchify (0: none)")
    ap.add_argument("--coord-pos", action="store_true", help="fusion image tokens carry a linear map of their (x, y)")
    ap.add_argument("--itc-hard", action="store_true", help="explicit negatives join the image->text ITC softmax (NegCLIP)")
    ap.add_argument("--kind-weights", default="", help="sampling weights of negative kinds, e.g. relation=4,swap_colour=4")
    ap.add_argument("--mlm-relation", type=float, default=0.0, help="with --mlm, mask relation words with this probability")
    ap.add_argument("--ground", type=float, default=0.0, help="weight of the cross-attention grounding loss (0: off)")
    ap.add_argument("--ground-neg", action="store_true", help="with --ground, ground the explicit negatives' words too")
    ap.add_argument("--ground-relations", action="store_true", help="with --ground, ground each relation word "
                    "on the two objects it relates (head 0: the reference, head 1: the located object)")
    ap.add_argument("--rtd", type=float, default=0.0, help="weight of the replaced-word loss (adds the ITM token head; 0: off)")
    ap.add_argument("--aux", type=float, default=0.5, help="weight of the per-patch colour/shape/size loss")
    ap.add_argument("--aux-shape", type=float, default=1.0, help="weight of its shape term, relative to colour and size")
    ap.add_argument("--vision-steps", type=int, default=0, help="first train the vision tower alone on the "
                    "per-patch loss for this many steps (weighted by --aux-shape)")
    ap.add_argument("--verify-steps", type=int, default=0, help="add the grounded word verifier to the ITM and "
                    "train it alone, everything else frozen, for this many steps (at --lr); no joint steps follow")
    ap.add_argument("--verify-text", type=float, default=0.0, help="with --verify-steps, also train the text "
                    "encoder, at this fraction of --lr (0: frozen)")
    ap.add_argument("--itc-steps", type=int, default=0, help="add ITC-only layers over each tower (ItcHead) to "
                    "the --init checkpoint and train them, the projections and the temperature alone, everything "
                    "else frozen, for this many steps (at --lr); no joint steps follow")
    ap.add_argument("--query-steps", type=int, default=0, help="train the --init checkpoint's text encoder, fusion "
                    "and ITC heads on search-box queries with their open-world truth as well as the captions "
                    "(vlm.train_queries), the vision tower frozen, for this many steps (at --lr); no joint steps follow")
    ap.add_argument("--query-pool", type=int, default=6000, help="with --query-steps, queries drawn over the random "
                    "training scenes (`scenes queries --edits`: each is followed by its one-aspect edits)")
    ap.add_argument("--query-negatives", type=int, default=3, help="with --query-steps, near misses per query")
    ap.add_argument("--query-foreign", type=int, default=0, help="with --query-steps, texts outside the scene "
                    "language per query, negatives of every image (vlm.train_queries.foreign_text)")
    ap.add_argument("--query-hard", type=int, default=1, help="with --query-steps, hard images per query (with more "
                    "than one, each query also ranks its own image over them)")
    ap.add_argument("--query-hard-kinds", default="", help="with --query-hard, the query kinds that get all of their "
                    "hard images, e.g. pair,relation; a query of another kind gets --query-hard-others of them and "
                    "random images it is false of in the other slots (default: every kind gets --query-hard)")
    ap.add_argument("--query-hard-others", type=int, default=0, help="with --query-hard-kinds, the hard images of "
                    "the kinds not named")
    ap.add_argument("--query-kind-weights", default="", help="with --query-steps, sampling weights of the query "
                    "kinds a batch's images are paired with, e.g. pair=3,relation=3 (a kind not named: 1)")
    ap.add_argument("--itc-layers", type=int, default=2, help="with --itc-steps, the layers of each ItcHead")
    ap.add_argument("--calibrate-images", type=int, default=500, help="after --verify-steps, set the verifier's "
                    "threshold on this many training images of each set (calibrate_verifier)")
    ap.add_argument("--stop-after", type=int, help="stop (and save) after this many steps of the --steps schedule")
    ap.add_argument("--save-every", type=int, default=500, help="write the checkpoint every N steps")
    ap.add_argument("--smoke", action="store_true", help="a reduced-width model, for tests of the tooling")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    cfg = Config(width=32, heads=2, vision_layers=1, text_layers=1, fusion_layers=1, embed_dim=16) if args.smoke else Config()
    if args.fusion_layers:
        cfg.fusion_layers = args.fusion_layers
    cfg.null_token = args.null_token
    if args.conv_stem:
        cfg.conv_stem = args.conv_stem if not args.smoke else 8
    cfg.coord_pos = args.coord_pos
    cfg.token_head = args.rtd > 0
    cfg.verifier = args.verify_steps > 0
    if args.itc_steps:  # a later stage of a finished model: its architecture, plus the ITC heads
        if not args.init:
            raise SystemExit("--itc-steps needs --init (the model whose ITC heads to train)")
        cfg = Config(**torch.load(args.init, map_location="cpu")["config"])
        cfg.itc_layers = args.itc_layers
    if args.query_steps:  # a later stage of a finished model: its architecture
        if not args.init:
            raise SystemExit("--query-steps needs --init (the model to teach queries)")
        cfg = Config(**torch.load(args.init, map_location="cpu")["config"])
    weights = {k: float(v) for k, v in (kv.split("=") for kv in args.kind_weights.split(",") if kv)}
    args.query_hard_kinds = {k for k in args.query_hard_kinds.split(",") if k}
    args.query_kind_weights = {k: float(v) for k, v in (kv.split("=") for kv in args.query_kind_weights.split(",") if kv)}
    tok = WordPiece(VOCAB, cfg.max_len)
    t0 = time.time()
    rset, tset = load_sets(args, tok, cfg.image_size)
    texts = [c for s in (rset, tset) for cs in s.captions for c in cs]
    texts += [n for s in (rset, tset) for ns in s.negatives for n, _ in ns]
    pool = None
    if args.query_steps:
        from .queries import QueryPool
        path = scenes_data.queries(os.path.join(args.work, f"train-queries-{args.query_pool}.json"),
                                   os.path.join(rset.root, "captions.json"), args.query_pool, TRAIN_SEED_QUERIES)
        pool = QueryPool(path, [m["imgid"] for m in rset.meta])
        texts += pool.texts
    rows = vocab_rows(tok, texts, cfg.bert_vocab)
    print(f"data: {len(rset)} random + {len(tset)} twin images, {int(rows.max()) + 1} embedding rows, "
          f"{time.time() - t0:.0f}s", flush=True)

    model = TinyScenes(cfg, rows)
    if args.init:
        ck = torch.load(args.init, map_location="cpu")
        if not torch.equal(ck["rows"], rows):
            if not args.query_steps:
                raise SystemExit(f"--init {args.init}: its vocabulary rows differ from this data's")
            ck["state"] = grow_rows(ck["state"], ck["rows"], rows)
        missing, unexpected = model.load_state_dict(ck["state"], strict=False)
        grown = {k.split(".")[2] for k in missing if k.startswith("fusion.blocks.")}
        if unexpected or any(not k.startswith(("fusion.", "mlm_head.", "vision_itc.", "text_itc.")) for k in missing) \
                or (args.query_steps and any(not k.startswith("mlm_head.") for k in missing)):
            raise SystemExit(f"--init {args.init}: missing {missing}, unexpected {unexpected}")
        for i in sorted(grown):  # new fusion layers start as identities: zero output projections
            blk = model.fusion.blocks[int(i)]
            for lin in (blk.attn.o, blk.cross.o, blk.mlp.fc2):
                torch.nn.init.zeros_(lin.weight)
                torch.nn.init.zeros_(lin.bias)
        print(f"initialised from {args.init}; new fusion layers: {sorted(grown)}", flush=True)
    print(f"parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M", flush=True)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "pos" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "pos" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.02}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    sched = warmup_cosine(opt, args.warmup, args.steps)
    for s in (rset, tset):
        s.make_patch_labels(cfg.image_size // cfg.patch)
    if args.vision_steps:
        model.train()
        vision_phase(model, rset, args.vision_steps, args.batch, args.lr, args.aux_shape, rng, args.log_every)
    batcher = Batcher(rset, tset, args.batch, args.twin_pairs, rng, args.lone_groups)
    if args.itc_steps:
        model.train()
        itc_phase(model, (tset, rset), batcher, args, weights, rng)
        save(args, cfg, rows, model, args.itc_steps, 0.0)
        print(json.dumps({"out": args.out, "itc_steps": args.itc_steps}))
        return
    if args.query_steps:
        from .train_queries import query_phase
        query_phase(model, (tset, rset), pool, batcher, args, weights, rng, gen)
        save(args, cfg, rows, model, args.query_steps, 0.0)
        print(json.dumps({"out": args.out, "query_steps": args.query_steps}))
        return
    if args.verify_steps:
        model.train()
        verify_phase(model, (tset, rset), batcher, args, weights, rng, gen)
        model.eval()
        report = calibrate_verifier(model, (rset, tset), args.calibrate_images)
        print("calibrated: " + json.dumps(report), flush=True)
        save(args, cfg, rows, model, args.verify_steps, 0.0)
        print(json.dumps({"out": args.out, "verify_steps": args.verify_steps}))
        return
    mlm_ids = torch.tensor(sorted({i for w in CONTENT_WORDS for i in tok.ids(w)[1:-1]})) if args.mlm else None
    rel_ids = torch.tensor(sorted({i for w in RELATION_WORDS for i in tok.ids(w)[1:-1]}))
    enc = rset.encode
    hist, kind_hist, t0 = [], [], time.time()
    model.train()
    for step in range(args.steps):
        tw, rd = batcher.next()
        batch = gather((tset, rset), tw, rd, rng, args.negatives, weights,
                       cfg.image_size // cfg.patch if args.ground else 0, args.ground_neg, args.rtd > 0,
                       args.ground_relations)
        loss, parts, beaten = step_loss(model, batch, enc, gen, mlm_ids, args.itc_hard, args.ground,
                                        rel_ids, args.mlm_relation, args.rtd, args.aux, args.aux_shape,
                                        args.lone_scope)
        kind_hist.append(beaten)
        optimizer_step(opt, sched, loss, model.parameters())
        hist.append(parts)
        last = step + 1 == (args.stop_after or args.steps)
        if (step + 1) % args.save_every == 0 or last:
            save(args, cfg, rows, model, step + 1, time.time() - t0)
        if (step + 1) % args.log_every == 0 or step == 0:
            h = np.mean(hist[-args.log_every:], 0)
            el = time.time() - t0
            print(f"step {step + 1}/{args.steps} itc {h[0]:.3f} itm {h[1]:.3f} rank {h[2]:.3f} aux {h[3]:.3f} mlm {h[5]:.3f} ground {h[6]:.3f} rtd {h[7]:.3f} "
                  f"caption-beats-negatives {h[4]:.3f} "
                  f"lr {sched.get_last_lr()[0]:.2e} {el / (step + 1):.2f}s/step eta {el / (step + 1) * (args.steps - step - 1) / 60:.1f}min",
                  flush=True)
            print_kinds(kind_hist[-args.log_every:])
        if last:
            break
    print(json.dumps({"out": args.out, "train_seconds": round(time.time() - t0, 1), "steps": args.steps}))


def grow_rows(state, old, new):
    """A checkpoint's state for a larger vocabulary: every BERT id keeps the embedding it had
    (an id the old rows sent to [UNK] starts as the [UNK] embedding), so the model computes what
    it did until it trains; the training-only word predictor is dropped."""
    if (new[old != 1] == 1).any():
        raise SystemExit("--init: the new vocabulary rows drop a word the checkpoint knew")
    emb = state["text.emb.weight"]
    grown = torch.zeros(int(new.max()) + 1, emb.shape[1], dtype=emb.dtype)
    grown[new] = emb[old]
    out = {k: v for k, v in state.items() if not k.startswith("mlm_head.")}
    out["text.emb.weight"] = grown
    out["text.rows"] = new.clone()
    return out


def save(args, cfg, rows, model, step, seconds):
    """Writes the checkpoint atomically (temp file + rename)."""
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save({"config": cfg.to_dict(), "rows": rows, "state": model.state_dict(), "args": vars(args),
                "step": step, "train_seconds": seconds}, args.out + ".tmp")
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
