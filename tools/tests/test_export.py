"""The checkpoint exporters (tools/export): key checks, the family-specific key rules, architecture
inference, tokenizer, preprocessing modes and crop arithmetic.

End to end, every exporter is proven against its upstream implementation by tools/parity
(`make parity`; `make test` runs it at a reduced width): those layouts are saved by the upstream
classes themselves, not written here.
"""
import dataclasses
import json
import os
import shutil
import tempfile
import types
import unittest

import numpy as np
import torch

from export import blip, clip, images, keys, layers, mplug, siglip, source, writer
from export.clip_bpe import ClipBPE

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
GOLDENS = os.path.join(ROOT, "encoder", "tokenizer", "testdata", "goldens.json")
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

    def test_cleaning(self):
        """OpenAI's tokenizer unescapes HTML entities, the Hugging Face fast tokenizer does not."""
        openai, hf = ClipBPE(writer.CLIP_MERGES), ClipBPE(writer.CLIP_MERGES, clean="hf")
        self.assertEqual(openai.tokens("rock &amp; roll"), openai.tokens("rock & roll"))
        self.assertNotEqual(hf.tokens("rock &amp; roll"), hf.tokens("rock & roll"))
        self.assertEqual(hf.tokens("cafe\u0301"), hf.tokens("caf\u00e9"))  # NFC
        with self.assertRaises(ValueError):
            ClipBPE(writer.CLIP_MERGES, clean="nope")


class Preprocessing(unittest.TestCase):
    def test_crop_box(self):
        cases = [  # (w, h, s, rounding) -> Resize(s) + CenterCrop(s)
            ((451, 300, 224, images.HALF_EVEN), (336, 224, 56, 0)),
            ((300, 451, 224, images.HALF_EVEN), (224, 336, 0, 56)),
            ((640, 427, 336, images.HALF_EVEN), (503, 336, 84, 0)),  # 83.5 rounds half to even
            ((640, 427, 336, images.FLOOR), (503, 336, 83, 0)),      # transformers floors it
            ((224, 224, 224, images.HALF_EVEN), (224, 224, 0, 0)),
            ((1000, 872, 224, images.HALF_EVEN), (256, 224, 16, 0)),
        ]
        for (w, h, s, r), want in cases:
            with self.subTest(size=(w, h, s, r)):
                self.assertEqual(images.crop_box(w, h, s, r), want)

    def test_pixels_shape_and_range(self):
        for mode in (images.SQUASH, images.CENTER_CROP):
            p = images.pixels(os.path.join(images.PHOTOS, "horse.png"), 64, mode)
            self.assertEqual(p.shape, (3, 64, 64))
            self.assertTrue(-2.0 < p.min() < p.max() < 2.2)

    def test_alpha_and_exif_modes_differ_where_they_should(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        rgba, rot = os.path.join(tmp, "t.png"), os.path.join(tmp, "r.jpg")
        images.make_transparent(rgba)
        images.make_rotated(rot)
        px = {a: images.pixels(rgba, 64, images.SQUASH, alpha=a)
              for a in (images.COMPOSITE, images.DROP, images.DROP_AFTER_RESIZE)}
        # the transparent left part: white when composited, black when dropped
        self.assertGreater(px[images.COMPOSITE][:, :, :10].mean(), 1.5)
        self.assertLess(px[images.DROP][:, :, :10].mean(), -1.3)
        self.assertGreater(np.abs(px[images.DROP] - px[images.DROP_AFTER_RESIZE]).max(), 0.05)
        up = images.pixels(rot, 64, images.SQUASH, exif_transpose=True)
        side = images.pixels(rot, 64, images.SQUASH, exif_transpose=False)
        self.assertGreater(np.abs(up - side).mean(), 0.1)
        ref = images.pixels(os.path.join(images.PHOTOS, "rocket.jpg"), 64, images.SQUASH)
        self.assertLess(np.abs(up - ref).mean(), np.abs(side - ref).mean() / 4)


class KeyCheck(unittest.TestCase):
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


class MPlugRules(unittest.TestCase):
    """ModelScope's rules: 'model.' removed from every key, the fusion starts at
    num_hidden_layers - fusion_layers, connected attention every stride_layer layers."""

    def fake_source(self, stored, bert):
        model = tiny(mplug)
        sd = {}
        for k, v in model.state_dict().items():
            pre = "fusion_encoder.encoder.layer."
            if k.startswith(pre):
                i, rest = k[len(pre):].split(".", 1)
                for j in range(stored // len(model.fusion_encoder.encoder.layer)):  # stored copies
                    sd[f"{pre}{int(i) + j * len(model.fusion_encoder.encoder.layer)}.{rest}"] = v.clone()
            else:
                sd[k] = v.clone()
        return model, source.Source(path="x", weights="x", folder="x", configs={"bert": bert, "config.yaml": {}},
                                    tokenizer={}, state_dict=sd)

    def test_fusion_start_and_renumbering(self):
        model, src = self.fake_source(4, {"num_hidden_layers": 4, "fusion_layers": 2, "stride_layer": 2,
                                          "num_attention_heads": 2})
        cfg = mplug.infer_config(src, NO_ARGS)
        self.assertEqual((cfg.fusion_start, cfg.fusion_layers, cfg.stride), (2, 2, 2))
        sd = mplug.prepare(src.state_dict, cfg)
        fresh = mplug.build(cfg)
        rep = keys.load_checked(fresh, sd, mplug.ignore(cfg))
        self.assertEqual(rep["ignored"], {"fusion layers 0-1 (stored, never run: the fusion starts at layer 2)": 52})
        # stored layers 2 and 3 (copies of 0 and 1 here) run as 0 and 1
        want = model.state_dict()["fusion_encoder.encoder.layer.1.output.dense.weight"]
        self.assertTrue(torch.equal(fresh.state_dict()["fusion_encoder.encoder.layer.1.output.dense.weight"], want))

    def test_stored_count_must_match_config(self):
        _, src = self.fake_source(4, {"num_hidden_layers": 6, "fusion_layers": 2})
        with self.assertRaisesRegex(ValueError, "stores 4 fusion layers"):
            mplug.infer_config(src, NO_ARGS)

    def test_base_without_visn_fc_is_refused(self):
        _, src = self.fake_source(2, {"num_hidden_layers": 2, "fusion_layers": 2})
        src.state_dict = {k: v for k, v in src.state_dict.items() if not k.startswith("visn_fc")}
        with self.assertRaisesRegex(ValueError, "without visn_fc"):
            mplug.infer_config(src, NO_ARGS)

    def test_model_prefix_removed(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        path = os.path.join(tmp, "pytorch_model.bin")
        torch.save({"model.itm_head.bias": torch.zeros(2), "model.text_encoder.x": torch.ones(1)}, path)
        self.assertEqual(sorted(mplug.read_source(path).state_dict), ["itm_head.bias", "text_encoder.x"])

    def test_connected_attention_changes_the_output(self):
        torch.manual_seed(0)
        cfg = dataclasses.replace(mplug.PRESETS["tiny"], fusion_layers=3, stride=2)
        model = layers.random_init(mplug.build(cfg), 3).eval()
        img, txt = torch.randn(2, 577, 128), torch.randn(2, 6, 128)
        mask = torch.ones(2, 6, dtype=torch.long)
        with torch.no_grad():
            connected, _ = model.itm(img, txt, mask)
            model.fusion_encoder.encoder.stride = 100
            plain, _ = model.itm(img, txt, mask)
        self.assertGreater(float((connected - plain).abs().max()), 1e-3)


class HFKeyRules(unittest.TestCase):
    def test_clip_from_hf_joins_qkv_and_transposes_projections(self):
        w = {p: torch.randn(4, 4) for p in "qkv"}
        sd = {f"vision_model.encoder.layers.0.self_attn.{p}_proj.weight": w[p] for p in "qkv"}
        sd["visual_projection.weight"] = torch.randn(3, 4)
        out = clip.from_hf(sd)
        self.assertTrue(torch.equal(out["visual.transformer.resblocks.0.attn.in_proj_weight"],
                                    torch.cat([w["q"], w["k"], w["v"]], 0)))
        self.assertTrue(torch.equal(out["visual.proj"], sd["visual_projection.weight"].t()))
        with self.assertRaisesRegex(ValueError, "not all present"):
            clip.from_hf({"text_model.encoder.layers.0.self_attn.q_proj.bias": torch.zeros(4)})

    def test_blip_from_hf_key(self):
        cases = [
            ("vision_model.encoder.layers.3.self_attn.qkv.weight", "visual_encoder.blocks.3.attn.qkv.weight"),
            ("vision_model.encoder.layers.3.layer_norm2.bias", "visual_encoder.blocks.3.norm2.bias"),
            ("vision_model.post_layernorm.weight", "visual_encoder.norm.weight"),
            ("vision_model.embeddings.class_embedding", "visual_encoder.cls_token"),
            ("text_encoder.encoder.layer.0.attention.self.query.weight",
             "text_encoder.encoder.layer.0.attention.self.query.weight"),
        ]
        for hf, want in cases:
            self.assertEqual(blip.from_hf_key(hf), want)


class RandomInit(unittest.TestCase):
    def test_outputs_depend_on_the_input(self):
        model = tiny(mplug)
        pix = np.stack([images.pixels(os.path.join(images.PHOTOS, p), 336, images.SQUASH)
                        for p in ("chelsea.png", "rocket.jpg")])
        with torch.no_grad():
            e, _ = model.encode_image(torch.from_numpy(pix))
        self.assertLess(float(e[0] @ e[1]), 0.99)

    def test_siglip_pools_the_last_position(self):
        model = tiny(siglip)
        g = torch.Generator().manual_seed(5)
        ids = torch.randint(3, 600, (1, 64), generator=g)
        other = ids.clone()
        other[0, 10] = 4
        with torch.no_grad():
            a, _ = model.encode_text(ids, torch.ones_like(ids))
            b, _ = model.encode_text(other, torch.zeros_like(ids))  # the mask is not read
            c, _ = model.encode_text(ids, torch.zeros_like(ids))
        self.assertTrue(torch.equal(a, c))
        self.assertGreater(float((a - b).abs().max()), 1e-4)


if __name__ == "__main__":
    unittest.main()
