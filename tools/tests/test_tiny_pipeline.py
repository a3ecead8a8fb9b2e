"""Trains, evaluates and exports a reduced-width tiny-scenes model for a few steps, end to end.

This checks the documented commands (`make model`) at a tiny size: data generation through
lab/cmd/scenes, the training loop, the Flickr-protocol evaluation and the bundle export (ONNX graphs
checked by onnx.checker, golden.json, manifest hashes).
"""
import json
import os
import shutil
import tempfile
import unittest

import torch

from vlm import bundle, diagnose_binding, eval_tiny, export_tiny, scenes_data, train_tiny
from vlm.wordpiece import WordPiece


class TinyPipeline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_train_eval_export(self):
        # the six stages of `make model`, at a reduced width for a few steps
        work, ckpt = os.path.join(self.tmp, "work"), os.path.join(self.tmp, "model.pt")
        stage = [os.path.join(self.tmp, f"stage{i}.pt") for i in range(4)]
        common = ["--work", work, "--smoke", "--n-random", "40", "--n-twins", "10", "--gen-size", "64",
                  "--batch", "16", "--twin-pairs", "4", "--warmup", "1", "--log-every", "1",
                  "--conv-stem", "32", "--itc-hard", "--kind-weights", "relation=4,swap_colour=4", "--captions", "both",
                  "--fusion-layers", "2", "--null-token", "--coord-pos"]
        joint = ["--negatives", "2", "--lone-groups", "2", "--lone-scope", "--aux", "1", "--aux-shape", "3",
                 "--vision-steps", "2"]
        # stages 1 and 2: the vision tower alone on the per-patch loss, then everything jointly
        train_tiny.main(common + joint + ["--out", stage[1], "--steps", "6", "--stop-after", "3"])
        train_tiny.main(common + joint + ["--out", stage[2], "--init", stage[1], "--steps", "2"])
        # every caption of a lone object names (if anything) the region and background it stands in
        tok = WordPiece(train_tiny.VOCAB, 40)
        for name in ("train-random-both", "train-twins-both"):
            s = scenes_data.SceneSet(os.path.join(work, name), 16, tok)
            for i, sc in enumerate(s.scope):
                for c in s.captions[i] if sc else []:
                    reg, bg = scenes_data.caption_scope(c)
                    self.assertIn(reg, (None, sc[0]), c)
                    self.assertIn(bg, (None, sc[1]), c)
        # stage 3 adds the grounded word verifier (exported inside the ITM graph) and trains it with
        # the text encoder; the vision tower and the fusion layers stay as they are
        before = eval_tiny.load_model(stage[2])[0].state_dict()
        train_tiny.main(common + ["--out", stage[3], "--init", stage[2], "--negatives", "3", "--verify-steps", "2",
                                  "--verify-text", "0.3", "--calibrate-images", "5"])
        model, cfg = eval_tiny.load_model(stage[3])
        self.assertTrue(cfg.verifier)
        for name, p in before.items():
            same = torch.equal(p, model.state_dict()[name])
            self.assertEqual(same, not name.startswith("text.") or name == "text.rows", name)
        # stage 4 adds ITC-only layers over both towers, trained alone: the ITM is unchanged
        before = model
        stage4 = os.path.join(self.tmp, "stage4.pt")
        train_tiny.main(common + ["--out", stage4, "--init", stage[3], "--itc-steps", "3", "--itc-layers", "1",
                                  "--lone-groups", "1", "--negatives", "2", "--lr", "1e-2"])
        after, cfg = eval_tiny.load_model(stage4)
        self.assertEqual(cfg.itc_layers, 1)
        for name, p in before.state_dict().items():
            if not name.startswith(("vision_proj.", "text_proj.", "logit_scale")):
                self.assertTrue(torch.equal(p, after.state_dict()[name]), name)
        # stage 5 teaches search-box queries: the vocabulary grows by the queries' words ("only",
        # "no", "exactly"), every word the model knew keeps its embedding, the vision tower is frozen
        stage5 = os.path.join(self.tmp, "stage5.pt")
        queries = ["--query-pool", "30", "--negatives", "1", "--lone-groups", "1"]
        train_tiny.main(common + queries + ["--out", stage5, "--init", stage4, "--query-steps", "2"])
        final, _ = eval_tiny.load_model(stage5)
        old_rows, new_rows = after.text.rows, final.text.rows
        self.assertGreater(int(new_rows.max()), int(old_rows.max()))
        with open(os.path.join(work, "train-queries-30.json")) as f:
            words = {w for q in json.load(f)["queries"] for w in q["text"].split()}
        grown = [w for w in words if int(old_rows[tok.ids(w)[1]]) == 1]  # [UNK] before
        self.assertTrue(grown)
        for w in grown:
            self.assertNotEqual(int(new_rows[tok.ids(w)[1]]), 1, w)
        known = torch.nonzero(old_rows != 1).flatten()
        self.assertFalse(torch.equal(after.text.emb.weight[old_rows[known]], final.text.emb.weight[new_rows[known]]))
        for name, p in after.state_dict().items():
            if name.startswith("vision."):
                self.assertTrue(torch.equal(p, final.state_dict()[name]), name)
        # stage 6 continues from stage 5 (the same vocabulary) with more hard images per query
        train_tiny.main(common + queries + ["--out", ckpt, "--init", stage5, "--query-steps", "1", "--query-hard", "2",
                                            "--query-foreign", "1", "--query-hard-kinds", "pair,relation",
                                            "--query-hard-others", "1"])
        self.assertTrue(torch.equal(eval_tiny.load_model(ckpt)[0].text.rows, new_rows))

        # the joint losses the recipe does not use (vlm.diagnose_binding and the README's history
        # rely on them): masked words, grounding, replaced-word detection, and a frozen-text verifier
        binding = os.path.join(self.tmp, "binding.pt")
        train_tiny.main(common + ["--out", binding, "--init", stage[1], "--steps", "3", "--negatives", "3", "--mlm",
                                  "--mlm-relation", "0.6", "--ground", "1", "--rtd", "1", "--ground-neg",
                                  "--ground-relations"])
        train_tiny.main(common + ["--out", binding, "--init", binding, "--rtd", "1", "--verify-steps", "1",
                                  "--calibrate-images", "3"])
        self.assertTrue(eval_tiny.load_model(binding)[1].token_head)

        # the binding diagnostics run on the same checkpoint and training split
        split = os.path.join(work, "train-random-both")
        small = ["--data", split, "--model", ckpt, "--steps", "2", "--log-every", "1", "--batch", "2",
                 "--heldout", "2", "--threads", "1"]
        diagnose_binding.main(["readout", "--reinit"] + small)
        diagnose_binding.main(["relation", "--offset", "1", "--token", "1", "--mlp-head"] + small)
        diagnose_binding.main(["rule", "--data", split, "--steps", "5"])
        diagnose_binding.main(["probe", "--model", ckpt, "--data", split, "--threads", "1"])

        res_path = os.path.join(self.tmp, "eval.json")
        eval_tiny.main(["--model", ckpt, "--work", work, "--n", "20", "--json", res_path])
        with open(res_path) as f:
            res = json.load(f)
        for split in ("random", "twins"):
            self.assertEqual(res[split]["images"], 20)
            self.assertEqual(res[split]["texts"], 100)
            for key in ("itc", "rerank_k16_itm", "rerank_k128_itm+itc"):
                self.assertEqual(set(res[split][key]), {"tr1", "tr5", "tr10", "ir1", "ir5", "ir10", "r_mean"})
                self.assertTrue(all(0 <= v <= 100 for v in res[split][key].values()))
            self.assertIn("relation", res[split]["itm_accuracy"])

        out = os.path.join(self.tmp, "bundle")
        export_tiny.main(["--model", ckpt, "--out", out, "--eval-json", res_path])
        with open(os.path.join(out, "model.json")) as f:
            m = json.load(f)
        for name in ("vision.onnx", "text.onnx", "itm.onnx", "vocab.txt", "golden.json"):
            self.assertIn(name, m["files"])
        for name, digest in m["files"].items():
            self.assertEqual(bundle.sha256(os.path.join(out, name)), digest, name)
        with open(os.path.join(out, "golden.json")) as f:
            g = json.load(f)
        self.assertEqual(len(g["images"]), 3)
        self.assertEqual(len(g["images"][0]["image_embeds"]), m["embedding_dim"])
        self.assertEqual(len(g["pairs"]), len(g["images"]) * len(g["texts"]))




class Queries(unittest.TestCase):
    """The training pool of queries reads the Go generator's truth and never decides it."""

    def test_pool(self):
        import random
        tmp = tempfile.mkdtemp()
        try:
            root = scenes_data.generate(os.path.join(tmp, "g"), 60, 5, size=32)
            path = scenes_data.queries(os.path.join(tmp, "q.json"), os.path.join(root, "captions.json"), 40, 9)
            with open(os.path.join(root, "captions.json")) as f:
                meta = json.load(f)["images"]
            with open(path) as f:
                raw = json.load(f)["queries"]
            from vlm.queries import QueryPool
            pool = QueryPool(path, [m["imgid"] for m in meta])
            self.assertEqual(len(pool), len(raw))
            self.assertGreater(len(pool), 40)  # the edits follow the drawn queries
            pos = {m["imgid"]: i for i, m in enumerate(meta)}
            for q, r in enumerate(raw):
                want = sorted(pos[g] for g in r["true_of"])
                self.assertEqual(pool.truth[q].tolist(), want)
                self.assertEqual(pool.holds(q, list(range(len(meta)))).nonzero()[0].tolist(), want)
            rng = random.Random(1)
            for i in range(len(meta)):
                for q in pool.true_of_image(i):
                    self.assertIn(i, pool.truth[q].tolist())
                q = pool.positive(i, rng)
                if q is None:
                    continue
                self.assertTrue(pool.holds(q, [i])[0])
                for j in pool.negatives(i, q, 3, rng):
                    self.assertFalse(pool.holds(j, [i])[0], pool.texts[j])
                near = set(raw[q].get("edits", []))
                if raw[q].get("edit_of") is None and any(not pool.holds(j, [i])[0] for j in near):
                    self.assertTrue(near & set(pool.negatives(i, q, 1, rng)), pool.texts[q])
            # kind weights: a kind weighted up is drawn more often, a kind weighted 0 never
            def draw(weights):
                counts = {}
                for i in range(len(meta)):
                    for _ in range(20):
                        q = pool.positive(i, rng, weights)
                        if q is not None:
                            counts[pool.kinds[q]] = counts.get(pool.kinds[q], 0) + 1
                            self.assertTrue(pool.holds(q, [i])[0])
                return counts
            plain, weighted = draw(None), draw({"pair": 20.0, "colour": 0.0})
            self.assertNotIn("colour", weighted)
            self.assertIn("colour", plain)
            self.assertGreater(weighted.get("pair", 0), 3 * plain.get("pair", 0), (plain, weighted))
            with self.assertRaises(ValueError):
                QueryPool(path, [m["imgid"] for m in meta][:-1])
        finally:
            shutil.rmtree(tmp)


class TrueOf(unittest.TestCase):
    def test_lone_captions_name_their_scope(self):
        a, b = ("on the left", "plain grey"), ("at the top", "noisy beige")
        caps = ["a single small red circle",                                      # true of both
                "a small red circle on the left on a plain grey background",     # of a only
                "a small red circle at the top",                                 # of b only
                "a small blue square left of a large red ring"]                  # another scene
        scope = [(a, scenes_data.caption_scope(caps[0])), (a, scenes_data.caption_scope(caps[1])),
                 (b, scenes_data.caption_scope(caps[2])), (None, scenes_data.caption_scope(caps[3]))]
        same = train_tiny.true_of([7, 7, 7, 9], scope).tolist()
        self.assertEqual(same, [[True, True, False, False],
                                [True, True, False, False],
                                [True, False, True, False],
                                [False, False, False, True]])

    def test_region_phrases(self):
        self.assertEqual(scenes_data.caption_scope("at the top left, a small red circle"), ("at the top left", None))
        self.assertEqual(scenes_data.caption_scope("one red star, small, on a gradient light grey background"),
                         (None, "gradient light grey"))
        self.assertEqual(scenes_data.region(0.9, 0.1), "at the top right")
        self.assertEqual(scenes_data.region(0.5, 0.5), "in the centre")


class PickNegatives(unittest.TestCase):
    def test_weights_and_no_repeats(self):
        import random
        pool = [("a", "colour"), ("b", "relation"), ("c", "size")]
        rng = random.Random(0)
        first = [train_tiny.pick_negatives(pool, 1, rng, {"relation": 50})[0][1] for _ in range(200)]
        self.assertGreater(first.count("relation"), 180)
        picks = train_tiny.pick_negatives(pool, 3, rng, {"relation": 50})
        self.assertEqual(sorted(t for t, _ in picks), ["a", "b", "c"])
        short = train_tiny.pick_negatives(pool[:1], 3, rng, {})
        self.assertEqual(len(short), 3)


if __name__ == "__main__":
    unittest.main()
