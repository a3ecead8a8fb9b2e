"""The Python WordPiece tokenizer reproduces every BERT token-id golden vector."""
import json
import os
import unittest

from vlm.wordpiece import WordPiece

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
GOLDENS = os.path.join(ROOT, "encoder", "tokenizer", "testdata", "goldens.json")
VOCAB = os.path.join(ROOT, "models", "tiny-scenes", "vocab.txt")


class WordPieceGoldens(unittest.TestCase):
    def test_goldens(self):
        with open(GOLDENS) as f:
            g = json.load(f)["bert-base-uncased"]
        wp = WordPiece(VOCAB, max_len=1 << 20)
        for case in g["cases"]:
            with self.subTest(text=case["text"][:40]):
                self.assertEqual(wp.ids(case["text"]), case["ids"])
                if "pieces" in case:
                    self.assertEqual(wp.pieces(case["text"]), case["pieces"])

    def test_padding_and_truncation(self):
        wp = WordPiece(VOCAB, max_len=8)
        ids, mask = wp.encode("a small red circle to the left of a large blue square")
        self.assertEqual(len(ids), 8)
        self.assertEqual(ids[0], wp.cls)
        self.assertEqual(ids[-1], wp.sep)
        self.assertEqual(mask, [1] * 8)
        ids, mask = wp.encode("")
        self.assertEqual(ids[:3], [wp.cls, wp.sep, wp.pad])
        self.assertEqual(sum(mask), 2)


if __name__ == "__main__":
    unittest.main()
