"""The query stage of the tiny-scenes recipe: teaching a finished model the open-world meaning of
what people type into a search box.

Every caption the earlier stages trained on describes its whole scene, and a caption that names
two of three objects was a negative: the model learned that a text is a complete description, so
"a red circle" matched lone red circles only. Here the text encoder, the fusion (its verifier
included) and the ITC heads train on search-box queries (`scenes queries --edits` over the
training gallery) whose truth comes from the generator's Query.TrueOf: a query is a positive of
every image it is true of, "only", "a single", "nothing else" and counts ask for completeness,
and "no" and "without" for absence. The captions and their hard negatives stay in every batch,
so that what the model knew about whole captions and binding is kept. The vision tower is
frozen: its tokens are computed once.

Per batch (twin pairs, lone-object groups and random scenes, as before):
- Hard images: for each random image's query, an image of the random set it is false of where
  a query near it holds (a broader form: "a red circle" beside other objects for "only a red
  circle", the red circle without the blue square for "a red circle and a blue square"; an
  edit: another colour). They join the batch's images as extra rows.
- ITC: each image against the batch's captions (true_of: equal scenes, a lone object's scope)
  and queries (their truth; a query's truth over the twin gallery is not known, so those pairs
  are left out of both softmaxes), all true texts targets; the captions' explicit negatives join
  the image->text softmax (NegCLIP).
- ITM: each image with its caption and each random image with a query true of it (positives);
  the caption's explicit negatives and the query's near misses that are false of the image
  (edits: another colour or shape, the relation reversed, the colours swapped, "only" of a
  scene with more objects, another count) and the query's hard image (negatives); a caption
  and a query mined from the ITC similarities, and an image mined for each. A mined caption is never one that could be a
  partial description of the image (it names fewer objects than the image holds).
- A ranking of each true text over its own hard negatives.
"""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import scenes_data
from .train_tiny import (batch_tokens, cached_tokens, optimizer_step, pick_negatives, print_kinds, sample_other, save,
                         true_of, warmup_cosine)

INIT_TEMPERATURE = 0.02  # the ITC temperature the stage starts from (a checkpoint's own is not kept)


def trainable(model):
    """The parameters this stage trains: the text encoder, the fusion (the verifier's frozen copy
    of the per-patch head excepted), the ITC heads, the projections and the temperature."""
    out = []
    for name, p in model.named_parameters():
        train = (name.startswith(("text.", "fusion.", "vision_itc.", "text_itc.", "vision_proj.", "text_proj."))
                 or name == "logit_scale") and not name.startswith("fusion.verifier.attr.")
        p.requires_grad_(train)
        if train:
            out.append(p)
    return out


def query_batch(sets, pool, tw, rd, rng, args, weights, foreign=()):
    """The texts of a batch and what is known of them. Returns a dict: caps (one true caption
    per image), cneg (args.negatives explicit negatives per image, image-major), keys, scope and
    nobj per image; qpos (a pool query per random image), qneg (args.query_negatives near misses
    per random image, image-major) as pool indices; hard (args.query_hard per random image,
    image-major: images of the random set its query is false of, where a query near it holds,
    QueryPool.hard_image; for a kind outside args.query_hard_kinds, when given, only
    args.query_hard_others of them, the other slots random images it is false of); foreign (args.query_foreign per random image: foreign_text, false of
    every image)."""
    tset, rset = sets
    b = {"caps": [], "cneg": [], "ckind": [], "keys": [], "scope": [], "nobj": [], "qpos": [], "qneg": []}
    for s, idx, off in ((tset, tw, 0), (rset, rd, 1_000_000)):
        for i in idx:
            c = rng.choice(s.captions[i])
            b["caps"].append(c)
            b["scope"].append((s.scope[i], scenes_data.caption_scope(c)))
            for t, k in pick_negatives(s.negatives[i], args.negatives, rng, weights):
                b["cneg"].append(t)
                b["ckind"].append(k)
            b["keys"].append(int(s.key[i]) + off)
            b["nobj"].append(len(s.meta[i]["scene"]["objects"]))
    b["hard"], b["foreign"] = [], []
    for i in rd:
        q = pool.positive(i, rng, args.query_kind_weights)
        negs = pool.negatives(i, q, args.query_negatives, rng)
        while len(negs) < args.query_negatives:
            negs.append(negs[-1])
        b["qpos"].append(q)
        b["qneg"] += negs
        hard = args.query_hard
        if args.query_hard_kinds and pool.kinds[q] not in args.query_hard_kinds:
            hard = min(hard, args.query_hard_others)
        for k in range(args.query_hard):
            h = pool.hard_image(q, rng) if k < hard else None
            while h is None or pool.holds(q, [h])[0]:
                h = rng.randrange(len(rset))
            b["hard"].append(h)
        for _ in range(args.query_foreign):
            b["foreign"].append(foreign_text(pool.texts[q], foreign, rng))
    return b


def foreign_text(text, words, rng):
    """A text outside the scene language, false of every scene: the query's shape nouns replaced
    by words the model has no row for ("a red elephant left of a blue kettle"), or one to three
    such words alone ("zebra quilt")."""
    if rng.random() < 0.5:
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
    shapes = set(scenes_data.SHAPES)
    out = [rng.choice(words) if w in shapes else w for w in text.split()]
    if out == text.split():  # no shape noun ("something red"): one more word
        out.append(rng.choice(words))
    return " ".join(out)


def foreign_words(tok, rows):
    """Whole words of the BERT vocabulary the model maps onto [UNK] (for foreign_text)."""
    return sorted(w for w, i in tok.vocab.items() if w.isalpha() and w.islower() and len(w) > 2 and int(rows[i]) == 1)


def query_loss(model, toks, pool, tw, rd, b, enc, gen):
    """ITC + ITM + ranking on one batch (module docstring). Returns the loss, its parts and, per
    near-miss query, (kind of the positive, whether the positive beat it)."""
    B, R = len(tw) + len(rd), len(rd)
    n, m, nh = len(b["cneg"]) // B, len(b["qneg"]) // R, len(b["hard"]) // R
    qidx = b["qpos"] + b["qneg"]
    Q = len(qidx)
    F_ = len(b["foreign"])
    texts = b["caps"] + b["cneg"] + [pool.texts[j] for j in qidx] + b["foreign"]
    _, _, ids, mask, _ = batch_tokens(texts, [], enc)
    it = torch.cat([toks[0][tw], toks[1][rd], toks[1][b["hard"]]]).float()  # rows: the batch, then the hard images
    img_emb = model.image_embeds(it)
    st = model.text(ids, mask)
    emb = model.text_embeds(st, mask)

    # truth: captions (scene keys, lone scopes) of the batch's images; queries of the random and
    # hard images (the twin gallery's truth is not known): [image row, text column] with validity
    rows = B + R * nh
    same = true_of(b["keys"], b["scope"])
    rand_rows = np.concatenate([np.asarray(rd), np.asarray(b["hard"])])
    qtrue = torch.zeros(rows, Q, dtype=torch.bool)
    for j, q in enumerate(qidx):
        qtrue[len(tw):, j] = torch.from_numpy(pool.holds(q, rand_rows))
    tgt = torch.zeros(rows, B + Q + B * n + F_)
    valid = torch.zeros(rows, B + Q + B * n + F_, dtype=torch.bool)
    tgt[:B, :B], valid[:B, :B] = same.float(), True
    tgt[:, B:B + Q], valid[len(tw):, B:B + Q] = qtrue.float(), True
    valid[:B, B + Q:] = True  # explicit caption negatives, foreign texts: wrong for every image (NegCLIP)

    scale = model.logit_scale.exp().clamp(max=100)
    # captions, queries, caption negatives, foreign texts
    cols = torch.cat([emb[:B], emb[B + B * n:B + B * n + Q], emb[B:B + B * n], emb[B + B * n + Q:]])
    sim = (scale * img_emb @ cols.t()).masked_fill(~valid, -1e4)
    has_i = tgt.sum(1) > 0
    itc_i2t = -(F.log_softmax(sim[has_i], 1) * tgt[has_i] / tgt[has_i].sum(1, keepdim=True)).sum(1).mean()
    has_t = tgt[:, :B + Q].sum(0) > 0
    t2i, ttgt = sim[:, :B + Q].t()[has_t], tgt[:, :B + Q].t()[has_t]
    itc_t2i = -(F.log_softmax(t2i, 1) * ttgt / ttgt.sum(1, keepdim=True)).sum(1).mean()
    itc = (itc_i2t + itc_t2i) / 2
    sim_c, sim_q = sim[:B, :B], sim[:, B:B + Q]

    with torch.no_grad():  # mined negatives, never a text true of the image (nor a possible partial one)
        nobj = torch.tensor(b["nobj"])
        maybe = same | (nobj[None, :] < nobj[:, None])  # [image, caption]
        cap_for_img = sample_other(F.softmax(sim_c.float(), 1), maybe, gen)
        img_for_cap = sample_other(F.softmax(sim_c.t().float(), 1), maybe.t(), gen)
        r = slice(len(tw), B)
        q_for_img = sample_other(F.softmax(sim_q[r].float(), 1), qtrue[r], gen)
        img_for_q = sample_other(F.softmax(sim_q[r, :R].t().float(), 1), qtrue[r, :R].t(), gen) + len(tw)

    ci = torch.arange(B)
    qi = torch.arange(len(tw), B)
    pairs_img = [ci, ci.repeat_interleave(n), ci, img_for_cap, qi, qi.repeat_interleave(m), qi, img_for_q,
                 B + torch.arange(R * nh)]
    pairs_txt = [ci, B + torch.arange(B * n), cap_for_img, ci, B + B * n + torch.arange(R),
                 B + B * n + R + torch.arange(R * m), B + B * n + q_for_img, B + B * n + torch.arange(R),
                 B + B * n + torch.arange(R).repeat_interleave(nh)]
    labels = [1, 0, 0, 0, 1, 0, 0, 0, 0]
    if F_:  # each random image with its foreign texts
        pairs_img.append(qi.repeat_interleave(F_ // R))
        pairs_txt.append(B + B * n + Q + torch.arange(F_))
        labels.append(0)
    pi, pt = torch.cat(pairs_img), torch.cat(pairs_txt)
    y = torch.cat([torch.full((len(a),), lab) for a, lab in zip(pairs_img, labels)])
    logits, _ = model.fusion(it[pi], st[pt], mask[pt])
    n_pos = float((y == 1).sum())
    itm = F.cross_entropy(logits, y, weight=torch.tensor([1.0, (len(y) - n_pos) / n_pos]))

    margin = logits[:, 1] - logits[:, 0]
    o = np.cumsum([0] + [len(a) for a in pairs_img])
    cap_cand = torch.cat([margin[o[0]:o[1], None], margin[o[1]:o[2]].view(B, n)], 1)
    q_cand = torch.cat([margin[o[4]:o[5], None], margin[o[5]:o[6]].view(R, m)], 1)
    rank = (F.cross_entropy(cap_cand, torch.zeros(B, dtype=torch.long)) +
            F.cross_entropy(q_cand, torch.zeros(R, dtype=torch.long))) / 2
    if nh > 1:  # each query's own image over its hard images, too
        img_cand = torch.cat([margin[o[4]:o[5], None], margin[o[8]:o[9]].view(R, nh)], 1)
        rank = rank + F.cross_entropy(img_cand, torch.zeros(R, dtype=torch.long)) / 2
    with torch.no_grad():
        p = logits.softmax(-1)[:, 1]
        acc = {"caption": (p[o[0]:o[1]] >= 0.5).float().mean().item(),
               "query": (p[o[4]:o[5]] >= 0.5).float().mean().item(),
               "query-neg": (p[o[5]:o[6]] < 0.5).float().mean().item(),
               "hard-image": (p[o[8]:o[9]] < 0.5).float().mean().item()}
        beaten = [(pool.kinds[b["qpos"][k]], bool(q_cand[k, 0] > q_cand[k, 1 + j])) for k in range(R) for j in range(m)]
    return itc + itm + rank, (itc.item(), itm.item(), rank.item(), acc["caption"], acc["query"], acc["query-neg"],
                              acc["hard-image"]), beaten


def query_phase(model, sets, pool, batcher, args, weights, rng, gen):
    """Trains for args.query_steps steps at args.lr (a warm-up, then a cosine decay), the vision
    tower frozen (its tokens computed once, in fp16)."""
    with torch.no_grad():
        model.logit_scale.fill_(math.log(1 / INIT_TEMPERATURE))
    params = trainable(model)
    t0 = time.time()
    toks = [cached_tokens(model, s, args.work) for s in sets]
    model.train()
    print(f"queries: image tokens of {sum(len(t) for t in toks)} images in {time.time() - t0:.0f}s; "
          f"{len(pool)} queries in the pool", flush=True)
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    n = args.query_steps
    sched = warmup_cosine(opt, args.warmup, n)
    enc = sets[1].encode
    foreign = foreign_words(sets[1].tok, model.text.rows) if args.query_foreign else ()
    hist, kind_hist, t0 = [], [], time.time()
    for step in range(n):
        tw, rd = batcher.next()
        b = query_batch(sets, pool, tw, rd, rng, args, weights, foreign)
        loss, parts, beaten = query_loss(model, toks, pool, tw, rd, b, enc, gen)
        optimizer_step(opt, sched, loss, params)
        hist.append(parts)
        kind_hist.append(beaten)
        if (step + 1) % args.save_every == 0 and step + 1 < n:
            save(args, model.cfg, model.text.rows, model, step + 1, time.time() - t0)
        if (step + 1) % args.log_every == 0 or step == 0:
            h = np.mean(hist[-args.log_every:], 0)
            el = time.time() - t0
            print(f"query step {step + 1}/{n} itc {h[0]:.3f} itm {h[1]:.3f} rank {h[2]:.3f} accepted: captions "
                  f"{h[3]:.3f} queries {h[4]:.3f}; near misses rejected {h[5]:.3f}, hard images {h[6]:.3f} temp "
                  f"{1 / model.logit_scale.exp().item():.4f} {el / (step + 1):.2f}s/step "
                  f"eta {el / (step + 1) * (n - step - 1) / 60:.1f}min", flush=True)
            print_kinds(kind_hist[-args.log_every:])
