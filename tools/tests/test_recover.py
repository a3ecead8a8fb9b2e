"""vlm.recover: the shipped default bundle's weights, read back from its graphs, export the same
graphs byte for byte, and the recovered model scores the bundle's golden pairs."""
import json
import os
import shutil
import tempfile
import unittest

import torch

from vlm import recover
from vlm.eval_tiny import load_model

BUNDLE = os.path.join(os.path.dirname(__file__), "..", "..", "models", "tiny-scenes")


class Recover(unittest.TestCase):
    def test_shipped_bundle(self):
        tmp = tempfile.mkdtemp()
        try:
            out = os.path.join(tmp, "recovered.pt")
            recover.main(["--bundle", BUNDLE, "--out", out])  # exits unless the re-export is identical
            model, cfg = load_model(out)
            with open(os.path.join(BUNDLE, "golden.json")) as f:
                golden = json.load(f)
            texts = golden["texts"]
            ids = torch.tensor([t["input_ids"] for t in texts])
            mask = torch.tensor([t["attention_mask"] for t in texts])
            with torch.no_grad():
                emb, states = model.encode_text(ids, mask)
            for t, e in zip(texts, emb):
                self.assertLess(max(abs(a - b) for a, b in zip(t["text_embeds"], e.tolist())), 1e-5, t["text"])
        finally:
            shutil.rmtree(tmp)

    def test_refuses_a_bundle_it_cannot_read(self):
        tmp = tempfile.mkdtemp()
        try:
            with open(os.path.join(BUNDLE, "model.json")) as f:
                cfg = recover.Config(**json.load(f)["training"]["config"])
            cfg.fusion_layers += 1  # a configuration the graphs were not exported from
            with self.assertRaises(Exception):
                recover.recover(BUNDLE, cfg)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
