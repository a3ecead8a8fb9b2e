"""parity.immich: the immich-layout CLIP repository it writes runs, with onnxruntime, as immich runs
it, and reproduces open_clip's own outputs (reference_golden) on the same model.

At reduced width, seeded: the folder holds exactly immich's files; config.json and
preprocess_cfg.json are open_clip's descriptions of the exported model; visual/model.onnx (input
"image" float32 [1,3,224,224]) and textual/model.onnx (input "text" int32 [1,77]) give "embedding"
[1,D]. onnxruntime on open_clip's pixels and ids matches the golden's embeddings (cosine > 0.9999);
immich's own tokenization (tokenizers with tokenizer.json, padded with tokenizer_config.json's
pad_token, truncated to 77, after immich's clean_text) gives open_clip's ids up to the padding, and
the same embeddings, except on the texts where open_clip's cleaning (ftfy, HTML unescaping) or its
special-token names differ from the fast tokenizer's, which are listed in EXPECTED_ID_DIFFS. The
figures are printed (stderr).

    PYTHONPATH=tools OMP_WAIT_POLICY=PASSIVE PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python \\
        python -m unittest tests.test_immich_layout -v
"""
import glob
import json
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PHOTOS = sorted(glob.glob(os.path.join(ROOT, "encoder", "testdata", "photos", "*.png")) +
                glob.glob(os.path.join(ROOT, "encoder", "testdata", "photos", "*.jpg")))
SEED = 20261207

FILES = {"README.md", "config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/model.onnx",
         "textual/tokenizer.json", "textual/tokenizer_config.json", "textual/special_tokens_map.json",
         "textual/vocab.json", "textual/merges.txt"}

EXTRA_TEXTS = [
    "a photo of a dog",
    "Two dogs playing in the snow.",
    "don't stop believin' — it's 5 o'clock",
    "tab\tseparated\nnew lines  and   spaces",
    "numbers 1234567 and 3.14159",
    "déjà vu, Straße, İstanbul",
    "   leading and trailing spaces   ",
    "ΟΔΥΣΣΕΑΣ ΣΤΗΝ ΙΘΑΚΗ",
    "\u201ccurly quotes\u201d and \u2018single\u2019 ones",
    "\ufb01ne \ufb02owers",
    "\uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28 text",
    "Mojibake: caf\u00c3\u00a9 don\u00e2\u0080\u0099t",
    "&lt;b&gt;bold&lt;/b&gt; &amp;amp; escaped",
    "<|endoftext|> inside a caption",
    "<start_of_text> is open_clip's own name",
]

# Texts whose ids differ between open_clip's SimpleTokenizer and immich's (the fast tokenizer after
# clean_text), and why. Everything else must match up to the padding.
EXPECTED_ID_DIFFS = {
    "rock &amp; roll at the café — naïve   spacing, Ünïcödé, 東京の猫, emoji 🚀": "html.unescape",
    "\u201ccurly quotes\u201d and \u2018single\u2019 ones": "ftfy uncurls quotes",
    "\ufb01ne \ufb02owers": "ftfy expands ligatures",
    "\uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28 text": "ftfy folds full-width characters",
    "Mojibake: caf\u00c3\u00a9 don\u00e2\u0080\u0099t": "ftfy repairs mojibake",
    "&lt;b&gt;bold&lt;/b&gt; &amp;amp; escaped": "html.unescape (twice)",
    "<|endoftext|> inside a caption": "an added special token of the fast tokenizer",
    "<start_of_text> is open_clip's own name": "open_clip's special-token name",
    "ΟΔΥΣΣΕΑΣ ΣΤΗΝ ΙΘΑΚΗ": "str.lower's final sigma; tokenizers' Lowercase maps each character alone",
}


def cosine(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def immich_pixels(path, cfg):
    """immich_ml's OpenClipVisualEncoder.transform (no session-side normalisation): decode_pil
    (load, convert('RGB')), resize_pil (shorter side to size, the other int(ratio * size)),
    crop_pil (left = int(w/2 - size/2)), /255, (x - mean)/std as img * (1/std) - mean/std, CHW."""
    from PIL import Image
    size = cfg["size"][0] if isinstance(cfg["size"], list) else cfg["size"]
    resample = {r.name.lower(): r for r in Image.Resampling}[cfg["interpolation"].lower()]
    with Image.open(path) as im:
        im.load()
        im = im if im.mode == "RGB" else im.convert("RGB")
        if im.width < im.height:
            im = im.resize((size, int((im.height / im.width) * size)), resample=resample)
        else:
            im = im.resize((int((im.width / im.height) * size), size), resample=resample)
        left, upper = int(im.size[0] / 2 - size / 2), int(im.size[1] / 2 - size / 2)
        im = im.crop((left, upper, left + size, upper + size))
        x = np.asarray(im, dtype=np.float32) / 255.0
    mean, std = np.array(cfg["mean"], np.float32), np.array(cfg["std"], np.float32)
    x *= 1.0 / std
    x -= mean / std
    return x.transpose(2, 0, 1)


class ImmichLayout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from parity import immich, inputs
        cls.tmp = tempfile.mkdtemp()
        cls.repo = immich.write_immich(os.path.join(cls.tmp, "ViT-B-32__openai"), "reduced", SEED)
        cls.texts = list(inputs.TEXTS) + EXTRA_TEXTS
        cls.golden = immich.reference_golden(os.path.join(cls.tmp, "golden.json"), "reduced", SEED, "ViT-B-32",
                                             PHOTOS, cls.texts)
        cls.ref = immich.reference("reduced", SEED)
        cls.config = immich.model_config("ViT-B-32", "reduced")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def path(self, *p):
        return os.path.join(self.repo, *p)

    def session(self, part):
        import onnxruntime as ort
        return ort.InferenceSession(self.path(part, "model.onnx"), providers=["CPUExecutionProvider"])

    def test_files(self):
        got = {os.path.relpath(os.path.join(b, f), self.repo).replace(os.sep, "/")
               for b, _, fs in os.walk(self.repo) for f in fs}
        self.assertEqual(got, FILES)
        with open(self.path("config.json")) as f:
            self.assertEqual(json.load(f), self.config)
        with open(self.path("visual", "preprocess_cfg.json")) as f:
            pp = json.load(f)
        self.assertEqual(pp, {"size": [224, 224], "mode": "RGB", "mean": [0.48145466, 0.4578275, 0.40821073],
                              "std": [0.26862954, 0.26130258, 0.27577711], "interpolation": "bicubic",
                              "resize_mode": "shortest", "fill_color": 0})
        with open(self.path("textual", "tokenizer_config.json")) as f:
            self.assertEqual(json.load(f)["pad_token"], "<|endoftext|>")

    def test_graphs(self):
        import onnx
        from onnx import TensorProto
        from parity import immich
        embed = self.config["embed_dim"]
        for part, name, dtype, shape in (("visual", "image", TensorProto.FLOAT, [1, 3, 224, 224]),
                                         ("textual", "text", TensorProto.INT32, [1, 77])):
            m = onnx.load(self.path(part, "model.onnx"))
            onnx.checker.check_model(m)
            self.assertEqual([o.version for o in m.opset_import if o.domain in ("", "ai.onnx")], [immich.OPSET])
            desc = []
            for kind, vals, want in (("input", m.graph.input, [(name, dtype, shape)]),
                                     ("output", m.graph.output, [("embedding", TensorProto.FLOAT, [1, embed])])):
                got = [(v.name, v.type.tensor_type.elem_type, [d.dim_value if d.HasField("dim_value") else d.dim_param
                                                               for d in v.type.tensor_type.shape.dim]) for v in vals]
                self.assertEqual(got, want)
                desc += [f"{kind} {n} {TensorProto.DataType.Name(t).lower()} {s}" for n, t, s in got]
            print(f"\n{part}/model.onnx: opset {immich.OPSET}, " + ", ".join(desc), file=sys.stderr)

    def test_visual(self):
        s = self.session("visual")
        with open(self.path("visual", "preprocess_cfg.json")) as f:
            pp = json.load(f)
        worst, worst_immich, pix_diff = 1.0, 1.0, {}
        max_abs = 0.0
        for p, g in zip(PHOTOS, self.golden["images"]):
            want = np.array(g["image_embeds"])
            x = self.ref.preprocess(p)[None].astype(np.float32)
            got = s.run(None, {"image": x})[0][0]
            worst, max_abs = min(worst, cosine(got, want)), max(max_abs, float(np.abs(got - want).max()))
            xi = immich_pixels(p, pp)[None]
            pix_diff[os.path.basename(p)] = float(np.abs(xi - x).max())
            worst_immich = min(worst_immich, cosine(s.run(None, {"image": xi})[0][0], want))
        print(f"\nvisual: {len(PHOTOS)} photos, open_clip pixels -> onnxruntime vs golden: min cosine {worst:.8f}, "
              f"max |diff| {max_abs:.2e}; immich's preprocess vs open_clip's: max |pixel diff| per photo "
              f"{ {k: round(v, 7) for k, v in pix_diff.items()} }, min cosine {worst_immich:.8f}", file=sys.stderr)
        self.assertGreater(worst, 0.9999)

    def test_textual(self):
        from tokenizers import Tokenizer
        s = self.session("textual")
        with open(self.path("textual", "tokenizer_config.json")) as f:
            pad = json.load(f)["pad_token"]
        tok = Tokenizer.from_file(self.path("textual", "tokenizer.json"))
        tok.enable_padding(length=77, pad_token=pad, pad_id=tok.token_to_id(pad))
        tok.enable_truncation(max_length=77)
        worst_gold, max_abs, worst_immich, diffs = 1.0, 0.0, 1.0, {}
        for g in self.golden["texts"]:
            want = np.array(g["text_embeds"])
            ids = np.array([g["input_ids"]], np.int32)
            got = s.run(None, {"text": ids})[0][0]
            worst_gold, max_abs = min(worst_gold, cosine(got, want)), max(max_abs, float(np.abs(got - want).max()))
            mine = tok.encode(" ".join(g["text"].split())).ids  # immich's clean_text
            n = sum(g["attention_mask"])
            same = mine[:n] == g["input_ids"][:n] and all(i == tok.token_to_id(pad) for i in mine[n:])
            c = cosine(s.run(None, {"text": np.array([mine], np.int32)})[0][0], want)
            if same:
                worst_immich = min(worst_immich, c)
            else:
                diffs[g["text"]] = round(c, 6)
        print(f"\ntextual: {len(self.texts)} texts, open_clip ids -> onnxruntime vs golden: min cosine "
              f"{worst_gold:.8f}, max |diff| {max_abs:.2e}; immich's ids (padded with {pad} = "
              f"{tok.token_to_id(pad)}, open_clip pads with 0): equal up to the padding on "
              f"{len(self.texts) - len(diffs)}, min cosine {worst_immich:.8f}; differ on {len(diffs)}: "
              + "; ".join(f"{t[:40]!r} ({EXPECTED_ID_DIFFS.get(t, 'unexpected')}) cosine {c}"
                          for t, c in diffs.items()), file=sys.stderr)
        self.assertGreater(worst_gold, 0.9999)
        self.assertGreater(worst_immich, 0.9999)
        self.assertEqual(set(diffs), set(EXPECTED_ID_DIFFS))


if __name__ == "__main__":
    unittest.main()
