"""hub/hubtest's mirror speaks the hubs' real protocols: the upstream clients (huggingface_hub's
hf_hub_download and snapshot_download, modelscope's snapshot_download) download from it, byte for
byte, and read its errors as the hub's.

The mirror (hub/hubtest/cmd/hubmirror) serves a folder of repositories and requires a token; its
CDN, under another host name, refuses requests that carry an Authorization header, so these tests
also show that the clients drop the token on the LFS redirect, as they do on the real hub. Each
client runs in a child process with a clean environment: both libraries read their endpoint and
switches from the environment when imported."""
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TOKEN = "hf_hubtest_token"
HF_REPO = "immich-app/ViT-B-32__openai"
MS_REPO = "damo/mplug_image-text-retrieval_tiny"


def fixture():
    """The mirrored repositories: {repo: {path: bytes}}, the same every run."""
    rng = random.Random(7)
    return {
        HF_REPO: {
            "config.json": b'{"clip_model": "ViT-B-32", "pretrained": "openai"}\n',
            "visual/model.onnx": rng.randbytes(300_000),  # LFS: redirected to the CDN
            "textual/model.onnx": rng.randbytes(200_000),
            "textual/tokenizer.json": json.dumps({"model": {"vocab": {f"t{i}": i for i in range(2000)}}}).encode(),
        },
        MS_REPO: {
            "configuration.json": b'{"framework": "pytorch", "task": "image-text-retrieval"}\n',
            "pytorch_model.bin": rng.randbytes(150_000),
            "resources/vocab.txt": "\n".join(f"w{i}" for i in range(500)).encode(),
        },
    }


def read_tree(d, skip=(".cache",)):
    out = {}
    for base, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if x not in skip]
        for f in files:
            p = os.path.join(base, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, d).replace(os.sep, "/")] = fh.read()
    return out


class HubMirror(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.repos = fixture()
        for repo, files in cls.repos.items():
            for path, data in files.items():
                p = os.path.join(cls.tmp, "repos", repo, path)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(data)
        binary = os.path.join(cls.tmp, "hubmirror")
        subprocess.run(["go", "build", "-o", binary, "./hub/hubtest/cmd/hubmirror"], cwd=ROOT, check=True)
        cls.mirror = subprocess.Popen([binary, "-dir", os.path.join(cls.tmp, "repos"), "-token", TOKEN],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        cls.url = cls.mirror.stdout.readline().strip()
        if not cls.url.startswith("http://"):
            cls.mirror.kill()
            raise RuntimeError("hubmirror did not start: " + cls.mirror.stderr.read())

    @classmethod
    def tearDownClass(cls):
        cls.mirror.terminate()
        cls.mirror.wait(10)
        shutil.rmtree(cls.tmp)

    def client(self, code, **args):
        """Runs code in a child Python whose hub clients point at the mirror; code reads its
        arguments from `args` and leaves its answer in `out` (JSON)."""
        home = tempfile.mkdtemp(dir=self.tmp)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HF_", "HUGGINGFACE_", "MODELSCOPE_")) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        env.update(HOME=home, HF_HOME=os.path.join(home, "hf"), HF_ENDPOINT=self.url, HF_HUB_OFFLINE="0",
                   HF_HUB_DISABLE_XET="1", HF_HUB_ENABLE_HF_TRANSFER="0", HF_HUB_DISABLE_TELEMETRY="1",
                   HF_HUB_DISABLE_PROGRESS_BARS="1", MODELSCOPE_ENDPOINT=self.url,
                   MODELSCOPE_CACHE=os.path.join(home, "modelscope"), MODELSCOPE_DOWNLOAD_INTRA_CLOUD="false",
                   NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        prog = "import json, sys\nargs = json.loads(sys.argv[1])\nout = None\n" + code + "\nprint(json.dumps(out))\n"
        args.update(token=TOKEN, tmp=home)
        r = subprocess.run([sys.executable, "-c", prog, json.dumps(args)], env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        return json.loads(r.stdout.strip().splitlines()[-1])

    def test_hf_hub_download(self):
        out = self.client("""
from huggingface_hub import hf_hub_download, get_hf_file_metadata, hf_hub_url
out = {}
for f in ("visual/model.onnx", "config.json"):
    p = hf_hub_download(args["repo"], f, token=args["token"])
    m = get_hf_file_metadata(hf_hub_url(args["repo"], f), token=args["token"])
    out[f] = dict(path=p, etag=m.etag, size=m.size, commit=m.commit_hash, location=m.location)
""", repo=HF_REPO)
        commits = set()
        for f, got in out.items():
            data = self.repos[HF_REPO][f]
            with self.subTest(file=f):
                with open(got["path"], "rb") as fh:
                    self.assertEqual(fh.read(), data)
                self.assertEqual(got["size"], len(data))
                if f.endswith(".onnx"):  # LFS: the etag is the sha256, the bytes on the CDN host
                    self.assertEqual(got["etag"], hashlib.sha256(data).hexdigest())
                    self.assertTrue(got["location"].startswith("http://localhost:"), got["location"])
                else:  # git: the etag is the blob id
                    self.assertEqual(got["etag"], hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())
                self.assertIn("/snapshots/" + got["commit"] + "/", got["path"])
                commits.add(got["commit"])
        self.assertEqual(len(commits), 1)
        self.assertRegex(commits.pop(), "^[0-9a-f]{40}$")

    def test_hf_snapshot_download(self):
        out = self.client("""
from huggingface_hub import snapshot_download
out = [snapshot_download(args["repo"], token=args["token"]),
       snapshot_download(args["repo"], local_dir=args["tmp"] + "/local", token=args["token"], allow_patterns=["textual/*"])]
""", repo=HF_REPO)
        self.assertEqual(read_tree(out[0]), self.repos[HF_REPO])
        self.assertEqual(read_tree(out[1]), {k: v for k, v in self.repos[HF_REPO].items() if k.startswith("textual/")})

    def test_hf_errors(self):
        out = self.client("""
from huggingface_hub import hf_hub_download, snapshot_download
out = {}
for name, call in (
        ("entry", lambda: hf_hub_download(args["repo"], "nope.bin", token=args["token"])),
        ("revision", lambda: hf_hub_download(args["repo"], "config.json", revision="v9", token=args["token"])),
        ("repo", lambda: snapshot_download("immich-app/nope", token=args["token"])),
        ("token", lambda: hf_hub_download(args["repo"], "config.json", token=False))):
    try:
        call()
        out[name] = None
    except Exception as e:
        out[name] = type(e).__name__
""", repo=HF_REPO)
        self.assertEqual(out, {"entry": "EntryNotFoundError", "revision": "RevisionNotFoundError",
                               "repo": "RepositoryNotFoundError", "token": "RepositoryNotFoundError"})

    def test_modelscope_snapshot_download(self):
        out = self.client("""
from modelscope import snapshot_download
out = [snapshot_download(args["repo"], local_dir=args["tmp"] + "/local", token=args["token"]),
       snapshot_download(args["repo"], token=args["token"], allow_patterns=["*.bin"])]
""", repo=MS_REPO)
        self.assertEqual(read_tree(out[0]), self.repos[MS_REPO])
        self.assertEqual(read_tree(out[1]), {"pytorch_model.bin": self.repos[MS_REPO]["pytorch_model.bin"]})

    def test_modelscope_missing(self):
        out = self.client("""
from modelscope import snapshot_download
try:
    snapshot_download("damo/nope", local_dir=args["tmp"] + "/x", token=args["token"])
    out = None
except Exception as e:
    out = [type(e).__name__, str(e)]
""")
        # modelscope's compat layer re-raises its NotExistError (E3020, an HTTP 404) as requests'
        self.assertIsNotNone(out)
        self.assertEqual(out[0], "HTTPError")
        self.assertIn("[E3020] [404] model damo/nope not exist", out[1])


if __name__ == "__main__":
    unittest.main()
