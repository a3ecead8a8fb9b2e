"""Diagnostics of attribute binding and relations in a tiny-scenes checkpoint (not used in training).

    PYTHONPATH=tools /usr/bin/python3 -m vlm.diagnose_binding readout  --model build/tiny-scenes/stage2.pt --data build/tiny-scenes/train-random-full --attr colour --reinit
    PYTHONPATH=tools /usr/bin/python3 -m vlm.diagnose_binding relation --model build/tiny-scenes/model.pt --data build/tiny-scenes/train-random-both --offset 1 --token 1 --mlp-head
    PYTHONPATH=tools /usr/bin/python3 -m vlm.diagnose_binding rule     --data build/tiny-scenes/train-random-both
    PYTHONPATH=tools /usr/bin/python3 -m vlm.diagnose_binding probe    --model build/tiny-scenes/model.pt --data build/tiny-scenes/eval-random

Each run freezes the vision encoder, trains the text encoder and the fusion on the ITM task of
telling a scene's true captions from their relation flips (the hardest kind of hard negative),
and prints, every 50 steps, the pair accuracy (true caption scored above its flip) on training
batches and on held-out scenes, plus the auxiliary read-outs asked for:

- readout: the fused state of each colour (or shape) word that names one object regresses that
  object's x and y. The MSE stays at the targets' variance (about 0.045) until the fusion finds
  the object a word names, then drops: how long that plateau lasts is the question.
- relation: on 2-object scenes, --offset asks each relation word's fused state for the offset of
  the first-mentioned object from the second (x and y, times 3), and --token trains a classifier
  on the relation words' fused states (linear, or a 2-layer MLP with --mlp-head) to tell a true
  relation word from one in a flipped caption.
- rule: no model. A small MLP given explicit features of each relation word (the true offset in
  mention order, the word, how many objects were named before it, whether the caption uses
  "with ... on its", whether it is a region phrasing) learns the same true/flipped distinction,
  which shows whether the labels follow a simple rule.
- probe: no training. The share of masked relation words the checkpoint predicts (its MLM head,
  first captions of 200 multi-object scenes), how it scores short queries ("a large pink
  ring") on 150 lone-object scenes, true and with a wrong colour, what the patch tokens know
  (colour, shape, size on the patches of objects) and how much of the grounding head's attention
  a word puts on the object it names, in scenes of 1, 2 and 3 objects; with a verifier
  (train_tiny --verify-steps), where its two hops point (probe_verifier).

The relation --offset read-out is trained on true captions only, so the relation word alone
predicts its sign ("left" means a negative x offset): a falling offset MSE does not show that
the fused state has read the image.
"""
import argparse
import json
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import scenes_data
from .eval_tiny import load_model
from .train_tiny import MASK_ID, RELATION_WORDS, VOCAB
from .wordpiece import WordPiece

def mentions(tok, text, objs):
    """Walks a caption's words: returns the objects it names, in order of first mention (an
    object counts when its shape word and the colour/size words before it pick it out alone),
    and, per word, (token positions, word, objects named so far)."""
    order, pending, words, pos = [], [], [], 1
    for w in tok.basic(text):
        n = len(tok.pieces(w))
        words.append((list(range(pos, pos + n)), w, len(order)))
        pos += n
        if w in scenes_data.COLOURS or w in scenes_data.SIZES:
            pending.append(w)
            continue
        if w in scenes_data.SHAPES:
            cand = [k for k, o in enumerate(objs)
                    if o["shape"] == w and all(o["color"] == a or o["size"] == a for a in pending)]
            if len(cand) == 1 and cand[0] not in order:
                order.append(cand[0])
        pending = []
    return order, words


class Task:
    """True captions against relation flips on the scenes of one generated split."""

    def __init__(self, args, two_objects):
        torch.manual_seed(args.seed)
        torch.set_num_threads(args.threads)
        self.model, self.cfg = load_model(args.model)
        self.tok = WordPiece(VOCAB, self.cfg.max_len)
        self.ds = scenes_data.SceneSet(args.data, self.cfg.image_size, self.tok)
        ds = self.ds
        self.idx = [i for i in range(len(ds))
                    if any(k == "relation" for _, k in ds.negatives[i])
                    and (not two_objects or len(ds.meta[i]["scene"]["objects"]) == 2)][:args.scenes]
        with torch.no_grad():
            self.img = torch.cat([self.model.encode_image(torch.from_numpy(ds.pixels(self.idx[s:s + 256])))[1]
                                  for s in range(0, len(self.idx), 256)])
        self.n_train = len(self.idx) - args.heldout
        self.bs = args.batch
        if self.n_train < self.bs or args.heldout < 1:
            raise SystemExit(f"{args.data}: {len(self.idx)} usable scenes, too few for --batch {self.bs} and --heldout {args.heldout}")
        self.rng = random.Random(args.seed)
        print(f"{len(self.idx)} scenes with relation flips ({args.heldout} held out)", flush=True)

    def objects(self, j):
        return self.ds.meta[self.idx[j]]["scene"]["objects"]

    def flips(self, j):
        return [t for t, k in self.ds.negatives[self.idx[j]] if k == "relation"]

    def encode(self, texts):
        ids, mask = self.ds.encode(texts)
        n = int(mask.sum(1).max())
        return torch.from_numpy(ids[:, :n]), torch.from_numpy(mask[:, :n])

    def batch(self):
        b = self.rng.sample(range(self.n_train), self.bs)
        pos = [self.rng.choice(self.ds.captions[self.idx[j]]) for j in b]
        neg = [self.rng.choice(self.flips(j)) for j in b]
        return b, pos, neg

    def fuse(self, b, texts):
        """Fused states [2B,L,C] of (image, true caption) then (image, flip), ids and mask."""
        ids, mask = self.encode(texts)
        _, st = self.model.encode_text(ids, mask)
        it = self.img[b]
        x, _ = self.model.fusion.states(torch.cat([it, it]), st, mask)
        return x, ids, mask

    def heldout(self):
        """Share of held-out scenes whose first true caption outscores its first flip."""
        m = self.model
        m.eval()
        with torch.no_grad():
            b = list(range(self.n_train, len(self.idx)))
            x, _, mask = self.fuse(b, [self.ds.captions[self.idx[j]][0] for j in b] + [self.flips(j)[0] for j in b])
            lg = m.fusion.logits(x, mask)[0]
            mg = lg[:, 1] - lg[:, 0]
        m.train()
        return (mg[:len(b)] > mg[len(b):]).float().mean().item()


def train(task, args, extra_params, extra_loss, names):
    B = task.bs
    """The ITM loop (binary + ranking loss); extra_loss(b, pos, x, ids, mask) -> list of (loss, metric)."""
    model = task.model
    for p in model.vision.parameters():
        p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad] + extra_params
    opt = torch.optim.AdamW(params, lr=args.lr)
    model.train()
    hist, t0 = [], time.time()
    print(f"step 0 heldout {task.heldout():.3f}", flush=True)
    for step in range(args.steps):
        b, pos, neg = task.batch()
        x, ids, mask = task.fuse(b, pos + neg)
        lg = model.fusion.logits(x, mask)[0]
        mg = lg[:, 1] - lg[:, 0]
        loss = F.cross_entropy(lg, torch.cat([torch.ones(B), torch.zeros(B)]).long())
        loss = loss + F.softplus(-(mg[:B] - mg[B:])).mean()
        extras = extra_loss(b, pos, x, ids, mask)
        for w, (l, _) in extras:
            loss = loss + w * l
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append([(mg[:B] > mg[B:]).float().mean().item()] + [m for _, (_, m) in extras])
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            h = np.mean(hist[-args.log_every:], 0)
            more = " ".join(f"{n} {v:.4f}" for n, v in zip(names, h[1:]))
            print(f"step {step + 1} train-pair-acc {h[0]:.3f} {more} heldout {task.heldout():.3f} "
                  f"{time.time() - t0:.0f}s", flush=True)


def run_readout(args):
    task = Task(args, two_objects=False)
    B = task.bs
    if args.reinit:
        from .tiny_model import Fusion
        task.model.fusion = Fusion(task.cfg)
    key, vocab = ("color", scenes_data.COLOURS) if args.attr == "colour" else ("shape", scenes_data.SHAPES)
    word_of = {task.tok.ids(w)[1]: w for w in vocab if len(task.tok.ids(w)) == 3}  # single-piece words
    head = nn.Linear(task.cfg.width, 2)

    def extra(b, pos, x, ids, mask):
        tgt = torch.full(ids[:B].shape + (2,), float("nan"))
        for r, j in enumerate(b):
            objs = task.objects(j)
            for c in range(ids.shape[1]):
                w = word_of.get(int(ids[r, c]))
                hit = [o for o in objs if w is not None and o[key] == w]
                if len(hit) == 1:
                    tgt[r, c] = torch.tensor([hit[0]["x"], hit[0]["y"]])
        ok = ~torch.isnan(tgt[..., 0])
        l = F.mse_loss(head(x[:B][ok]), tgt[ok]) if ok.any() else torch.zeros(())
        return [(args.weight, (l, l.item()))]

    train(task, args, list(head.parameters()), extra, ["xy-mse"])


def run_relation(args):
    task = Task(args, two_objects=True)
    B = task.bs
    rel = set(RELATION_WORDS)
    rel_ids = torch.tensor(sorted({task.tok.ids(w)[1] for w in RELATION_WORDS}))
    off_head = nn.Linear(task.cfg.width, 2)
    w = task.cfg.width
    tok_head = nn.Sequential(nn.Linear(w, 4 * w), nn.GELU(), nn.Linear(4 * w, 2)) if args.mlp_head else nn.Linear(w, 2)

    def extra(b, pos, x, ids, mask):
        out = []
        if args.offset:
            tgt = torch.full(ids[:B].shape + (2,), float("nan"))
            for r, (t, j) in enumerate(zip(pos, b)):
                objs = task.objects(j)
                order, words = mentions(task.tok, t, objs)
                if len(order) != 2:
                    continue
                a, c = objs[order[0]], objs[order[1]]
                for toks, word, _ in words:
                    for p in toks:
                        if word in rel and p < ids.shape[1]:
                            tgt[r, p] = torch.tensor([a["x"] - c["x"], a["y"] - c["y"]]) * 3
            ok = ~torch.isnan(tgt[..., 0])
            l = F.mse_loss(off_head(x[:B][ok]), tgt[ok]) if ok.any() else torch.zeros(())
            out.append((args.offset, (l, l.item())))
        if args.token:
            is_rel = torch.isin(ids, rel_ids) & (mask > 0)
            lab = torch.cat([torch.ones(B, ids.shape[1]), torch.zeros(B, ids.shape[1])]).long()
            lg = tok_head(x[is_rel])
            l = F.cross_entropy(lg, lab[is_rel])
            out.append((args.token, (l, (lg.argmax(-1) == lab[is_rel]).float().mean().item())))
        return out

    names = (["offset-mse"] if args.offset else []) + (["token-acc"] if args.token else [])
    train(task, args, list(off_head.parameters()) + list(tok_head.parameters()), extra, names)


def run_rule(args):
    torch.manual_seed(args.seed)
    tok = WordPiece(VOCAB, 40)
    with open(os.path.join(args.data, "captions.json")) as f:
        meta = json.load(f)["images"]  # the images themselves are not needed
    feats, labels = [], []
    for m in meta:
        objs = m["scene"]["objects"]
        if len(objs) != 2:
            continue
        texts = ([(s["raw"], 1) for s in m["sentences"][:2]] +
                 [(n["raw"], 0) for n in m.get("negatives", []) if n["kind"] == "relation"])
        for t, y in texts:
            order, words = mentions(tok, t, objs)
            if len(order) != 2:
                continue
            a, c = objs[order[0]], objs[order[1]]
            names = [w for _, w, _ in words]
            for _, w, before in words:
                if w in RELATION_WORDS:
                    feats.append([3 * (a["x"] - c["x"]), 3 * (a["y"] - c["y"])] +
                                 [float(w == r) for r in RELATION_WORDS] + [float(before == k) for k in (0, 1, 2)] +
                                 [float("with" in names), float(names[0] in ("on", "at"))])
                    labels.append(y)
    x, y = torch.tensor(feats), torch.tensor(labels)
    perm = torch.randperm(len(x))
    x, y = x[perm], y[perm]
    n = len(x) - min(5000, len(x) // 5)
    print(f"{len(x)} relation words ({len(x) - n} held out), {100 * y.float().mean():.1f}% from true captions")
    mlp = nn.Sequential(nn.Linear(x.shape[1], 64), nn.GELU(), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 2))
    opt = torch.optim.Adam(mlp.parameters(), 3e-3)
    for step in range(args.steps):
        b = torch.randint(0, n, (256,))
        loss = F.cross_entropy(mlp(x[b]), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 1000 == 0 or step + 1 == args.steps:
            with torch.no_grad():
                print(f"step {step + 1} heldout acc {(mlp(x[n:]).argmax(-1) == y[n:]).float().mean():.3f}", flush=True)


@torch.no_grad()
def run_probe(args):
    """Masked relation-word accuracy and short-query acceptance of a checkpoint on an eval split."""
    torch.set_num_threads(args.threads)
    model, cfg = load_model(args.model)
    tok = WordPiece(VOCAB, cfg.max_len)
    ds = scenes_data.SceneSet(args.data, cfg.image_size, tok)

    def enc(texts):
        ids, mask = ds.encode(texts)
        n = int(mask.sum(1).max())
        return torch.from_numpy(ids[:, :n]), torch.from_numpy(mask[:, :n])

    # 1. each relation word of the first caption of 200 multi-object scenes, masked and predicted
    idx = [i for i in range(len(ds)) if len(ds.meta[i]["scene"]["objects"]) >= 2][:200]
    single = [i for i in range(len(ds)) if len(ds.meta[i]["scene"]["objects"]) == 1][:150]
    if not idx or not single:
        raise SystemExit(f"{args.data}: needs scenes with one object and with several")
    _, it = model.encode_image(torch.from_numpy(ds.pixels(idx)))
    ids, mask = enc([ds.captions[i][0] for i in idx])
    pick = torch.isin(ids, torch.tensor(sorted({tok.ids(w)[1] for w in RELATION_WORDS})))
    _, st = model.encode_text(ids.masked_fill(pick, MASK_ID), mask)
    x, _ = model.fusion.states(it, st, mask)
    hit = (model.mlm_head(x[pick]).argmax(-1) == model.text.rows[ids[pick]]).float().mean().item()
    print(f"masked relation words: {100 * hit:.1f}% predicted ({int(pick.sum())} words, {len(idx)} scenes)")
    # 2. "a <size> <colour> <shape>" on 150 lone-object scenes, and the same with a wrong colour
    idx = single
    _, it = model.encode_image(torch.from_numpy(ds.pixels(idx)))
    cols = scenes_data.COLOURS
    for name, shift in (("true", 0), ("wrong colour", 3)):
        texts = [f"a {o['size']} {cols[(cols.index(o['color']) + shift) % len(cols)]} {o['shape']}"
                 for o in (ds.meta[i]["scene"]["objects"][0] for i in idx)]
        ids, mask = enc(texts)
        _, st = model.encode_text(ids, mask)
        p = model.itm(it, st, mask)[0].softmax(-1)[:, 1].numpy()
        print(f"short queries, {name}: {100 * np.mean(p > 0.5):.1f}% of {len(idx)} lone objects above 0.5, "
              f"median p_match {np.median(p):.4f}")
    # 3. what the image tokens know: the training-only patch head's colour, shape and size
    # accuracy on the patches an object covers (the per-patch labels of training)
    grid = cfg.image_size // cfg.patch
    ds.make_patch_labels(grid)
    idx = list(range(min(200, len(ds))))
    _, it = model.encode_image(torch.from_numpy(ds.pixels(idx)))
    ph = model.patch_head(it[:, 1:])
    lab = torch.from_numpy(ds.patch_labels[idx])
    obj = lab[:, 0] > 0
    acc = [(ph[..., sl].argmax(-1)[obj] == lab[:, k][obj]).float().mean().item()
           for k, sl in enumerate((slice(0, 9), slice(9, 16), slice(16, 19)))]
    print(f"patch tokens, on {int(obj.sum())} object patches of {len(idx)} scenes: colour {100 * acc[0]:.1f}%, "
          f"shape {100 * acc[1]:.1f}%, size {100 * acc[2]:.1f}%")
    # 4. grounding: how much of head 0's cross-attention (the head --ground trains) a word of a
    # phrase naming one object puts on that object's patches, by the scene's number of objects
    caps = [ds.captions[i][0] for i in idx]
    g = torch.from_numpy(np.stack([ds.grounding(i, c, grid) for i, c in zip(idx, caps)]))
    ids, mask = enc(caps)
    _, st = model.encode_text(ids, mask)
    _, probs = model.fusion.states(it, st, mask, all_probs=True)
    g = g[:, :ids.shape[1]]
    on = g.sum(-1) > 0
    target = g > g.amax(-1, keepdim=True) * 0.3  # the object's patches
    n_obj = torch.tensor([len(ds.meta[i]["scene"]["objects"]) for i in idx])[:, None].expand_as(on)
    for layer, p in enumerate(probs):
        mass = (p[:, 0, :, -grid * grid:] * target).sum(-1)
        by = " ".join(f"{k} objects {mass[on & (n_obj == k)].mean().item():.2f}" for k in (1, 2, 3)
                      if (on & (n_obj == k)).any())
        print(f"grounding, layer {layer} head 0: attention on the named object: {by}")
    if model.fusion.verifier is not None:
        probe_verifier(model, ds, idx, grid, enc)


@torch.no_grad()
def probe_verifier(model, ds, idx, grid, enc):
    """The verifier's two hops on the first captions of scenes idx: how much of a phrase word's
    first-hop attention falls on the object the phrase names (its patches, within half a patch of
    the object's disc), and how much of a relation word's second-hop attention falls on the words
    of the phrase it locates (head 1) and of its reference (head 0), by the scene's object count."""
    c = (np.arange(grid) + 0.5) / grid
    px, py = (a.reshape(-1) for a in np.meshgrid(c, c))
    caps = [ds.captions[i][0] for i in idx]
    ids, mask = enc(caps)
    _, it = model.encode_image(torch.from_numpy(ds.pixels(idx)))
    _, st = model.encode_text(ids, mask)
    _, p1, hop = model.fusion.verifier(it, st, mask)
    stats = {}
    for j, (i, text) in enumerate(zip(idx, caps)):
        objs = ds.meta[i]["scene"]["objects"]
        n = len(objs)
        for _, toks, attrs, obj in ds._words(text, objs):
            if obj is None:
                continue
            o = objs[obj]
            on = torch.from_numpy(np.hypot(px - o["x"], py - o["y"]) < o["r"] + 0.5 / grid)
            for t in toks + attrs:
                if t < ids.shape[1]:
                    stats.setdefault(("object", n), []).append(p1[j, t, on].sum().item())
        _, _, ref_w, loc_w = ds.relation_targets(i, text, grid, words=True)
        for t in np.nonzero(ref_w.sum(-1))[0]:
            if t < ids.shape[1]:
                stats.setdefault(("reference", n), []).append(hop[j, 0, t, :ids.shape[1]][torch.from_numpy(ref_w[t, :ids.shape[1]] > 0)].sum().item())
                stats.setdefault(("located", n), []).append(hop[j, 1, t, :ids.shape[1]][torch.from_numpy(loc_w[t, :ids.shape[1]] > 0)].sum().item())
    for what, label in (("object", "hop 1, a phrase word's attention on its object"),
                        ("reference", "hop 2, a relation word's head 0 on its reference phrase"),
                        ("located", "hop 2, a relation word's head 1 on the phrase it locates")):
        by = " ".join(f"{k} objects {np.mean(stats[(what, k)]):.2f}" for k in (1, 2, 3) if (what, k) in stats)
        print(f"verifier, {label}: {by}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="an evaluation split, e.g. build/tiny-scenes/eval-random")
    p.add_argument("--threads", type=int, default=2)
    for name, steps in (("readout", 400), ("relation", 300), ("rule", 3000)):
        p = sub.add_parser(name)
        p.add_argument("--data", required=True, help="a generated split (scenes generate), e.g. build/tiny-scenes/train-random-both")
        p.add_argument("--steps", type=int, default=steps)
        p.add_argument("--seed", type=int, default=0)
        if name == "rule":
            continue
        p.add_argument("--model", required=True, help="a train_tiny checkpoint")
        p.add_argument("--lr", type=float, default=3e-4 if name == "readout" else 2e-4)
        p.add_argument("--scenes", type=int, default=6000 if name == "readout" else 5000)
        p.add_argument("--heldout", type=int, default=256 if name == "readout" else 400)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--log-every", type=int, default=50)
        p.add_argument("--batch", type=int, default=64, help="scenes per step (each with a true caption and a flip)")
        if name == "readout":
            p.add_argument("--attr", choices=("colour", "shape"), default="colour")
            p.add_argument("--reinit", action="store_true", help="start the fusion from random weights")
            p.add_argument("--weight", type=float, default=10.0, help="weight of the x/y read-out loss")
        else:
            p.add_argument("--offset", type=float, default=0.0, help="weight of the relation-word offset read-out")
            p.add_argument("--token", type=float, default=0.0, help="weight of the relation-token classifier")
            p.add_argument("--mlp-head", action="store_true", help="the token classifier is a 2-layer MLP")
    args = ap.parse_args(argv)
    {"probe": run_probe, "readout": run_readout, "relation": run_relation, "rule": run_rule}[args.cmd](args)


if __name__ == "__main__":
    main()
