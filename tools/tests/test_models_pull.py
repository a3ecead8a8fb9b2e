"""`models pull` end to end, against a local mirror of the hubs (hub/hubtest/cmd/hubmirror) that
serves the upstream models' own published layouts: BLIP as transformers' save_pretrained writes
it (Hugging Face), mPLUG retrieval as ModelScope publishes it, and CLIP ViT-B/32 as immich
publishes it in ONNX (Hugging Face), each built with seeded random weights at reduced width (the
parity harness's writers). The PyTorch checkpoints are exported with the family's exporter and
--verify-upstream (the export against the upstream package); the ONNX export is converted in Go,
and the installed bundle must then reproduce open_clip's own outputs for the same weights
(`searcher verify-model --golden`). Then `indexer add --model NAME`, `searcher query --model NAME`
and `models verify NAME` run on the installed name, and a second pull downloads nothing."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from parity import blip, immich, mplug

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED = 20261207
CASES = (  # (catalogue name, hub, repository, layout writer, whether an ITM head reranks)
    ("blip-itm-base-coco", "huggingface", "Salesforce/blip-itm-base-coco", blip.write_hf, True),
    ("mplug-retrieval-large", "modelscope", "damo/mplug_image-text-retrieval_flickr30k_large_en",
     lambda out, width, seed: mplug.write_layout(out, width, seed), True),
    ("clip-vit-b-32", "huggingface", "immich-app/ViT-B-32__openai",
     lambda out, width, seed: immich.write_immich(out, width, seed, arch="ViT-B-32"), False),
)
PHOTOS = os.path.join(ROOT, "encoder", "testdata", "photos")


class ModelsPull(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.bin = os.path.join(cls.tmp, "bin")
        for cmd in ("models", "indexer", "searcher", "server"):
            subprocess.run(["go", "build", "-o", os.path.join(cls.bin, cmd), "./cmd/" + cmd], cwd=ROOT, check=True)
        subprocess.run(["go", "build", "-o", os.path.join(cls.bin, "hubmirror"), "./hub/hubtest/cmd/hubmirror"],
                       cwd=ROOT, check=True)
        repos = os.path.join(cls.tmp, "repos")
        for _, _, repo, write, _ in CASES:
            write(os.path.join(repos, repo), "reduced", SEED)
        # open_clip's own outputs for the immich export's weights, on every test photo
        cls.clip_golden = os.path.join(cls.tmp, "clip-reference", "golden.json")
        os.makedirs(os.path.dirname(cls.clip_golden))
        photos = sorted(os.path.join(PHOTOS, f) for f in os.listdir(PHOTOS) if f.endswith((".png", ".jpg")))
        for p in photos:
            shutil.copy(p, os.path.dirname(cls.clip_golden))
        from parity import inputs
        immich.reference_golden(cls.clip_golden, "reduced", SEED, "ViT-B-32", photos, inputs.TEXTS)
        cls.mirror = subprocess.Popen([os.path.join(cls.bin, "hubmirror"), "-dir", repos], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        cls.url = cls.mirror.stdout.readline().strip()
        if not cls.url.startswith("http://"):
            cls.mirror.kill()
            raise RuntimeError("hubmirror did not start: " + cls.mirror.stderr.read())
        cls.env = dict(os.environ, GLIMPSE_MODELS=os.path.join(cls.tmp, "store"), GLIMPSE_PYTHON=sys.executable,
                       HF_ENDPOINT=cls.url, MODELSCOPE_ENDPOINT=cls.url, GLIMPSE_MODEL="")
        cls.photos = os.path.join(cls.tmp, "photos")
        os.makedirs(cls.photos)
        for name in ("astronaut.png", "horse.png", "rocket.jpg"):
            shutil.copy(os.path.join(PHOTOS, name), cls.photos)

    @classmethod
    def tearDownClass(cls):
        cls.mirror.terminate()
        cls.mirror.communicate(timeout=10)
        shutil.rmtree(cls.tmp)

    def run_bin(self, *args, check=True):
        r = subprocess.run([os.path.join(self.bin, args[0]), *args[1:]], env=self.env, capture_output=True, text=True,
                           cwd=ROOT)
        if check and r.returncode != 0:
            self.fail(f"{' '.join(args)}: exit {r.returncode}\n{r.stderr[-4000:]}")
        return r

    def serve_model(self, data, name):
        """Starts `server --model NAME` on the library and returns the model /readyz names."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        srv = subprocess.Popen([os.path.join(self.bin, "server"), "--data", data, "--model", name, "--addr",
                                f"127.0.0.1:{port}"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                        return json.load(r)["model"]["name"]
                except OSError:
                    if srv.poll() is not None:
                        self.fail("server --model " + name + " exited: " + srv.stderr.read()[-2000:])
                    time.sleep(0.2)
            self.fail("server --model " + name + " did not answer /readyz")
        finally:
            srv.terminate()
            srv.communicate(timeout=30)

    def test_pull(self):
        for name, hub, _, _, rerank in CASES:
            with self.subTest(name):
                r = self.run_bin("models", "pull", name)
                self.assertIn("installed " + name, r.stdout)
                self.assertIn("all", r.stderr)  # the Go runtime's verification: "all N checks passed"
                listing = json.loads(self.run_bin("models", "list", "--json").stdout)
                got = {m["name"]: m for m in listing["models"]}
                self.assertEqual(got[name]["state"], "installed")
                self.assertEqual(got[name]["rerank"], rerank)
                self.assertTrue(got[name]["source"].startswith(hub + ":"))
                self.assertFalse(os.path.exists(os.path.join(self.env["GLIMPSE_MODELS"], ".downloads", name)))
                self.run_bin("models", "verify", name)
                if name == "clip-vit-b-32":  # converted in Go: against open_clip itself
                    v = json.loads(self.run_bin("searcher", "verify-model", "--json", "--golden", self.clip_golden,
                                                name).stdout)
                    self.assertTrue(v["ok"], v)
                    self.assertTrue(v["input_ids_exact"])
                    self.assertGreater(v["min_cosine"], 0.9999)
                    print(f"\n{name} against open_clip: min cosine {v['min_cosine']}, max embedding diff "
                          f"{v['max_embed_abs']}, max pixel diff {v['max_pixel_abs']}", file=sys.stderr)

                data = os.path.join(self.tmp, "data-" + name)
                self.run_bin("indexer", "add", "--data", data, "--model", name, self.photos)
                status = json.loads(self.run_bin("indexer", "status", "--data", data, "--model", name, "--json").stdout)
                self.assertEqual(status["model"], name)
                self.assertEqual(status["images"], 3)
                q = json.loads(self.run_bin("searcher", "query", "--data", data, "--model", name, "--min-score", "0",
                                            "--json", "a horse").stdout)
                self.assertEqual(len(q["hits"]), 3)

                self.assertEqual(self.serve_model(data, name), name)

                again = self.run_bin("models", "pull", name)
                self.assertIn("is installed", again.stdout)
                self.assertNotIn("MB downloaded", again.stderr)


if __name__ == "__main__":
    unittest.main()
