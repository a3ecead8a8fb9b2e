"""The checkpoint exporters (tools/export): key checks, architecture inference, tokenizer, crop
arithmetic, and every family end to end at a reduced width, verified by the Go runtime.

The end-to-end test is `make export-check` (export.check) run into a temporary folder; it needs
`go` on PATH and ONNX Runtime (`make setup`), as `make test` provides.
"""
import contextlib
import dataclasses
import io
import json
import os
import shutil
import tempfile
import types
import unittest

import torch

from export import blip, check, clip, images, keys, layers, mplug, synthetic, writer
from export.clip_bpe import ClipBPE

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
GOLDENS = os.path.join(ROOT, "encoder", "tokenizer", "testdata", "goldens.json")
FAMILIES = (mplug, clip, blip)
NO_ARGS = types.SimpleNamespace(max_length=None)


def tiny(fam, seed=7):
    return layers.random_init(fam.build(fam.PRESETS["tiny"]), seed).eval()


class ClipTokenizer(unittest.TestCase):
    def test_goldens(self):
        with open(GOLDENS) as f:
            g = json.load(f)["clip-bpe"]
        tok = ClipBPE(writer.CLIP_MERGES, context_length=g["context_length"])
        self.assertEqual((tok.start, tok.end), (g["sot"], g["eot"]))
        self.assertEqual(len(tok.ids), g["vocab_size"])
        for case in g["cases"]:
            with self.subTest(text=case["text"]):
                ids, mask = tok.encode(case["text"])
                self.assertEqual(ids[: sum(mask)], case["ids"])

    def test_truncation_keeps_end_token(self):
        tok = ClipBPE(writer.CLIP_MERGES, context_length=8)
        ids, mask = tok.encode("one two three four five six seven eight nine ten")
        self.assertEqual(len(ids), 8)
        self.assertEqual((ids[0], ids[-1], sum(mask)), (tok.start, tok.end, 8))
        ids, mask = tok.encode("")
        self.assertEqual(ids[:3], [tok.start, tok.end, 0])


class CenterCrop(unittest.TestCase):
    def test_crop_box(self):
        cases = [  # (w, h, s) -> torchvision Resize(s) + CenterCrop(s)
            ((451, 300, 224), (336, 224, 56, 0)),
            ((300, 451, 224), (224, 336, 0, 56)),
            ((640, 427, 336), (503, 336, 84, 0)),  # 83.5 rounds half to even
            ((224, 224, 224), (224, 224, 0, 0)),
            ((1000, 872, 224), (256, 224, 16, 0)),
        ]
        for (w, h, s), want in cases:
            with self.subTest(size=(w, h, s)):
                self.assertEqual(images.crop_box(w, h, s), want)

    def test_pixels_shape_and_range(self):
        for mode in (images.SQUASH, images.CENTER_CROP):
            p = images.pixels(os.path.join(images.PHOTOS, "horse.png"), 64, mode)
            self.assertEqual(p.shape, (3, 64, 64))
            self.assertTrue(-2.0 < p.min() < p.max() < 2.2)


class KeyCheck(unittest.TestCase):
    def test_report_on_synthetic_checkpoints(self):
        """Each family's release layout loads with every weight used and only training state left out."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        for fam in FAMILIES:
            with self.subTest(family=fam.FAMILY):
                model = tiny(fam)
                path = os.path.join(tmp, fam.FAMILY + ".ckpt")
                want_loaded, want_ignored = synthetic.write(fam, model, path)
                sd = keys.read_checkpoint(path)
                cfg = fam.infer_config(sd, NO_ARGS)
                self.assertEqual(dataclasses.asdict(cfg), dataclasses.asdict(fam.PRESETS["tiny"]))
                fresh = fam.build(cfg)
                rep = keys.load_checked(fresh, sd, fam.IGNORE)
                self.assertEqual(rep["loaded"], want_loaded)
                self.assertEqual(rep["ignored"], want_ignored)
                self.assertEqual(rep["checkpoint_keys"], want_loaded + sum(want_ignored.values()))
                tol = 1e-2 if fam is clip else 0.0  # CLIP's release stores fp16
                for k, v in model.state_dict().items():
                    self.assertLessEqual(float((fresh.state_dict()[k] - v).abs().max()), tol * float(v.abs().max()), k)

    def test_mismatches_are_named(self):
        model = tiny(mplug)
        good = model.state_dict()
        cases = [
            ("missing", {k: v for k, v in good.items() if k != "itm_head.bias"}, "missing", "itm_head.bias"),
            ("left over", dict(good, **{"text_decoder.cls.bias": torch.zeros(3)}), "unexpected",
             "text_decoder.cls.bias"),
            ("wrong shape", dict(good, **{"vision_proj.weight": torch.zeros(3, 3)}), "shape_mismatch",
             "vision_proj.weight"),
        ]
        for name, sd, field, key in cases:
            with self.subTest(name):
                with self.assertRaises(keys.KeyMismatch) as cm:
                    keys.load_checked(mplug.build(mplug.PRESETS["tiny"]), sd, mplug.IGNORE)
                self.assertTrue(any(e.startswith(key) for e in cm.exception.report[field]), cm.exception.report)
                self.assertIn(key, str(cm.exception))

    def test_user_ignore_group(self):
        sd = dict(tiny(blip).state_dict(), **{"extra.head.weight": torch.zeros(2)})
        rep = keys.load_checked(blip.build(blip.PRESETS["tiny"]), sd, blip.IGNORE, extra_ignore=[r"^extra\."])
        self.assertEqual(rep["ignored"], {r"--ignore ^extra\.": 1})

    def test_containers(self):
        sd = {"a.weight": torch.ones(2, dtype=torch.float16), "step": torch.tensor(3)}
        cases = [
            ("plain", sd),
            ("model key", {"model": sd, "epoch": 1}),
            ("state_dict key", {"state_dict": sd}),
            ("module prefix", {"module." + k: v for k, v in sd.items()}),
        ]
        for name, raw in cases:
            with self.subTest(name):
                out = keys.normalise(raw)
                self.assertEqual(set(out), {"a.weight", "step"})
                self.assertEqual(out["a.weight"].dtype, torch.float32)
                self.assertEqual(out["step"].dtype, torch.int64)


class RandomInit(unittest.TestCase):
    def test_outputs_depend_on_the_input(self):
        model = tiny(mplug)
        with torch.no_grad():
            e, _ = model.encode_image(torch.randn(2, 3, 336, 336))
        self.assertLess(float(e[0] @ e[1]), 0.99)


@unittest.skipIf(shutil.which("go") is None, "go is not on PATH: the Go verification cannot run")
class ExportCheck(unittest.TestCase):
    def test_every_family_end_to_end(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        with contextlib.redirect_stdout(io.StringIO()):
            res = check.main(["--out", tmp])
        for fam in FAMILIES:
            r = res[fam.FAMILY]
            self.assertTrue(r["ok"], r["problems"])
            self.assertGreaterEqual(r["random_init"]["min_cosine"], 0.999)
            self.assertTrue(r["random_init"]["input_ids_exact"])
            with open(os.path.join(tmp, fam.FAMILY + "-tiny-random", "model.json")) as f:
                m = json.load(f)
            self.assertEqual("itm" in m["graphs"], fam is not clip)
            self.assertEqual(m["image"]["resize"], images.CENTER_CROP if fam is clip else images.SQUASH)


if __name__ == "__main__":
    unittest.main()
