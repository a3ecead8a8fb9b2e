"""How a tiny-scenes checkpoint's ITM head treats search-box queries, per query kind: the match
probability of the images each query is true of, of its near images (where one of its edits or
broader forms holds and it does not) and of the rest, and the precision of the confident set
(p_match >= 0.5 over the whole gallery). Faster than `searcher eval --queries` and it needs no
export; the truth comes from a queries file written with `scenes queries --edits`.

    PYTHONPATH=tools python -m vlm.query_check --model build/tiny-scenes/model.pt --gallery G \
        --queries Q.json [--kinds pair,relation] [--per-kind 25]
"""
import argparse

import numpy as np
import torch

from .eval_tiny import load_model
from .queries import QueryPool
from .scenes_data import SceneSet
from .train_tiny import VOCAB
from .wordpiece import WordPiece


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="a tiny-scenes checkpoint (.pt)")
    ap.add_argument("--gallery", required=True, help="a `scenes generate` folder (captions.json, images)")
    ap.add_argument("--queries", required=True, help="queries over that gallery, `scenes queries --edits`")
    ap.add_argument("--kinds", default="pair,relation,region,background,colour-shape,full", help="query kinds")
    ap.add_argument("--per-kind", type=int, default=25, help="drawn queries of each kind (edits left out)")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    model, cfg = load_model(a.model)
    model.eval()
    tok = WordPiece(VOCAB, cfg.max_len)
    ds = SceneSet(a.gallery, cfg.image_size, tok)
    pool = QueryPool(a.queries, [m["imgid"] for m in ds.meta])
    N = len(ds)
    with torch.no_grad():
        it = []
        for s in range(0, N, 250):
            _, t = model.encode_image(torch.from_numpy(ds.pixels(list(range(s, min(s + 250, N))))))
            it.append(t)
        it = torch.cat(it)
        kinds = a.kinds.split(",")
        for k in kinds:
            qs = [q for q in range(len(pool)) if pool.kinds[q] == k and pool.edit_of[q] < 0][:a.per_kind]
            ids, mask = ds.encode([pool.texts[q] for q in qs])
            ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
            _, ts = model.encode_text(ids, mask)
            tp_p, near_p, far_p = [], [], []
            prec = []; fp_near = 0; fp_far = 0
            for j, q in enumerate(qs):
                L = int(mask[j].sum())
                ps = []
                for s in range(0, N, 500):
                    n = min(500, N - s)
                    lg, _ = model.itm(it[s:s+n], ts[j:j+1, :L].expand(n, -1, -1), mask[j:j+1, :L].expand(n, -1))
                    ps.append(lg.softmax(-1)[:, 1])
                p = torch.cat(ps).numpy()
                truth = np.zeros(N, bool); truth[pool.truth[q]] = True
                near = np.zeros(N, bool)
                for r in pool.related(q):
                    near[pool.truth[r]] = True
                near &= ~truth
                tp_p += list(p[truth]); near_p += list(p[near]); far_p += list(p[~truth & ~near])
                conf = p >= 0.5
                if conf.sum(): prec.append((conf & truth).sum() / conf.sum())
                fp_near += (conf & near).sum(); fp_far += (conf & ~truth & ~near).sum()
            q = lambda v: " ".join(f"{x:.3f}" for x in np.quantile(v, [0.05, 0.5, 0.95])) + f" acc>=.5 {np.mean(np.array(v) >= 0.5):.4f} n={len(v)}"
            print(f"== {k} ({len(qs)} queries) precision {np.mean(prec):.3f}; FPs near {fp_near} far {fp_far}")
            print("   truth ", q(tp_p)); print("   near  ", q(near_p)); print("   far   ", q(far_p))


if __name__ == "__main__":
    main()
