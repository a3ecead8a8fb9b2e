"""export.precision: the default bundle's optimised and int8 variants load in Go and stay within
their stated tolerance of the float32 goldens; the products the scores hang on stay float."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import onnx

from export import precision

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BUNDLE = os.path.join(ROOT, "models", "tiny-scenes")


def float_products(path):
    """Names of the MatMul/Gemm nodes left in float, and the count of quantised products."""
    g = onnx.load(path).graph
    return ({n.name for n in g.node if n.op_type in ("MatMul", "Gemm")},
            sum(n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat") for n in g.node))


class Precision(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.searcher = os.path.join(cls.tmp, "searcher")
        subprocess.run(["go", "build", "-o", cls.searcher, "./cmd/searcher"], cwd=ROOT, check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def verify(self, bundle):
        r = subprocess.run([self.searcher, "verify-model", "--json", bundle], capture_output=True, text=True)
        return json.loads(r.stdout), r.returncode

    def test_variants_verify(self):
        for prec, want_cos in (("fp32", 0.9999), ("int8", 0.99)):
            with self.subTest(precision=prec):
                out = os.path.join(self.tmp, prec)
                summary = precision.convert(BUNDLE, out, prec, True, log=lambda m: None)
                rep, rc = self.verify(out)
                self.assertEqual(rc, 0, [c for c in rep["checks"] if not c["ok"]])
                self.assertTrue(rep["ok"])
                self.assertEqual(rep["precision"], prec)
                self.assertTrue(rep["optimised"])
                self.assertGreaterEqual(rep["min_cosine"], want_cos)
                self.assertEqual(rep["tolerance"]["embed_cosine"], want_cos)
                for g, info in summary["graphs"].items():
                    self.assertIn("SkipLayerNormalization", info["fused"], g)  # the optimiser did fuse
                with open(os.path.join(out, "model.json")) as f:
                    m = json.load(f)
                self.assertEqual(m["name"], "tiny-scenes" + ("-int8" if prec == "int8" else "-opt"))
                self.assertEqual(set(m["files"]), set(json.load(open(os.path.join(BUNDLE, "model.json")))["files"]))

    def test_int8_keeps_output_products_float(self):
        out = os.path.join(self.tmp, "int8-kept")
        summary = precision.convert(BUNDLE, out, "int8", False, log=lambda m: None)
        for g in ("vision", "text", "itm"):
            src = onnx.load(os.path.join(BUNDLE, f"{g}.onnx"))
            keep = precision.output_products(src)
            self.assertTrue(keep, g)
            left, quantised = float_products(os.path.join(out, f"{g}.onnx"))
            kept = {k for k in keep if k in left or k + "_MatMul" in left}  # a Gemm becomes NAME_MatMul + NAME_Add
            self.assertEqual(kept, set(keep), (g, left))
            self.assertGreater(quantised, 0, g)
            self.assertEqual(summary["graphs"][g]["kept_float"], len(keep))
            self.assertLess(summary["graphs"][g]["bytes"], summary["graphs"][g]["bytes_before"] / 1.5, g)

    def test_refusals(self):
        out = os.path.join(self.tmp, "again")
        precision.convert(BUNDLE, out, "int8", True, log=lambda m: None)
        with self.assertRaisesRegex(ValueError, "already an? int8 variant"):
            precision.convert(out, os.path.join(self.tmp, "twice"), "int8", True, log=lambda m: None)
        with self.assertRaisesRegex(ValueError, "the source bundle itself"):
            precision.convert(BUNDLE, os.path.join(self.tmp, "same"), "fp32", False, log=lambda m: None)
        with self.assertRaisesRegex(ValueError, "want one of"):
            precision.convert(BUNDLE, os.path.join(self.tmp, "x"), "int4", True, log=lambda m: None)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "twice")))


if __name__ == "__main__":
    unittest.main()
