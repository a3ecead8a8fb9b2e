"""Search-box queries with their truth over a gallery, as `scenes queries` writes them.

The truth of every query (the images it is true of) comes from the Go generator's Query.TrueOf,
the one definition of a query's meaning; nothing here decides whether a query holds. A training
pool is written with `--edits`: each drawn query is followed by its one-aspect edits (another
colour or shape, the relation reversed, two colours swapped, "only", another count), the near
misses a model has to reject, each with its own truth.
"""
import json

import numpy as np


class QueryPool:
    """A queries file over a gallery of n images (positions in its captions.json order):
    texts, kinds, the edit links, each query's truth as a sorted array of positions, and per
    image the queries true of it."""

    def __init__(self, path, imgids):
        """imgids: the gallery's image ids in captions.json order (SceneSet.meta[i]["imgid"])."""
        with open(path) as f:
            data = json.load(f)
        pos = {int(g): i for i, g in enumerate(imgids)}
        qs = data["queries"]
        if data.get("images") != len(imgids):
            raise ValueError(f"{path}: drawn over {data.get('images')} images, the gallery has {len(imgids)}")
        self.texts = [q["text"] for q in qs]
        self.kinds = [q["kind"] for q in qs]
        self.kind_names = sorted(set(self.kinds))
        self.kind_id = np.array([self.kind_names.index(k) for k in self.kinds], np.int32)
        self.edit_of = np.array([q.get("edit_of", -1) for q in qs], np.int64)
        self.truth = [np.array(sorted(pos[g] for g in q["true_of"]), np.int64) for q in qs]
        self.edits = [q.get("edits", []) for q in qs]
        owner = np.concatenate([np.full(len(t), j, np.int64) for j, t in enumerate(self.truth)])
        img = np.concatenate(self.truth)
        order = np.argsort(img, kind="stable")
        self._q = owner[order]
        self._start = np.searchsorted(img[order], np.arange(len(imgids) + 1))

    def __len__(self):
        return len(self.texts)

    def true_of_image(self, i):
        """The queries true of image i (an array of query indices)."""
        return self._q[self._start[i]:self._start[i + 1]]

    def holds(self, q, images):
        """[len(images)] bool: query q is true of each image."""
        t = self.truth[q]
        if len(t) == 0:
            return np.zeros(len(images), bool)
        idx = np.searchsorted(t, images)
        return (idx < len(t)) & (t[np.minimum(idx, len(t) - 1)] == np.asarray(images))

    def positive(self, i, rng, weights=None):
        """A query true of image i, its kind first drawn from the kinds it has (uniformly, or in
        proportion to weights: kind name -> weight, 1 for a kind not named), or None."""
        cand = self.true_of_image(i)
        if len(cand) == 0:
            return None
        kinds = np.unique(self.kind_id[cand])
        if weights:
            w = np.cumsum([weights.get(self.kind_names[k], 1.0) for k in kinds])
            k = kinds[min(int(np.searchsorted(w, rng.random() * w[-1], side="right")), len(kinds) - 1)]
        else:
            k = kinds[rng.randrange(len(kinds))]
        of = cand[self.kind_id[cand] == k]
        return int(of[rng.randrange(len(of))])

    def related(self, q):
        """The queries near q: its edits (broader forms included) and, for an edit, the query it
        was made from and that one's other edits."""
        src = int(self.edit_of[q]) if self.edit_of[q] >= 0 else q
        return sorted({src, *self.edits[src], *self.edits[q]} - {q})

    def hard_image(self, q, rng):
        """An image q is false of where a query near it holds (a broader form's extra images:
        "a red circle" with another object for "only a red circle"; another colour's), or None."""
        near = self.related(q)
        rng.shuffle(near)
        for r in near:
            cand = np.setdiff1d(self.truth[r], self.truth[q], assume_unique=True)
            if len(cand):
                return int(cand[rng.randrange(len(cand))])
        return None

    def negatives(self, i, q, n, rng, tries=200):
        """n queries false of image i: first the near misses of q (its edits; for an edit, the
        query it was made from and that one's other edits), then random queries of the pool."""
        near = self.related(q)
        rng.shuffle(near)
        out = [j for j in near if not self.holds(j, [i])[0]][:n]
        for _ in range(tries):
            if len(out) >= n:
                break
            j = rng.randrange(len(self))
            if j not in out and not self.holds(j, [i])[0]:
                out.append(j)
        return out
