"""Checkpoint reading and the strict key check every exporter runs.

`read_checkpoint` accepts the containers the upstream releases use: a TorchScript archive (the
OpenAI CLIP `.pt` files), a safetensors file (the Hugging Face hub's `model.safetensors`), a
pickled state dict (ModelScope's `pytorch_model.bin`), or a dict holding it under `model`,
`state_dict` or `module` (Salesforce BLIP's `.pth`), with an optional `module.` prefix from
DataParallel. Tensors come back as float32 (CLIP ships fp16).

`load_checked` then loads a state dict into one of this package's modules and refuses to go on
unless every key the module expects is present with its shape and every key of the file is either
loaded or matches a documented ignore rule (training-only state such as momentum copies and
queues). The report it returns is printed by the exporters and stored in the manifest.
"""
import re

import torch


class KeyMismatch(Exception):
    """The checkpoint does not fit the architecture; `report` says how."""

    def __init__(self, report):
        self.report = report
        parts = []
        for field in ("missing", "unexpected", "shape_mismatch"):
            if report[field]:
                shown = ", ".join(report[field][:8]) + (" ..." if len(report[field]) > 8 else "")
                parts.append(f"{len(report[field])} {field.replace('_', ' ')}: {shown}")
        super().__init__("checkpoint does not match the architecture: " + "; ".join(parts))


def read_checkpoint(path):
    """Returns the float32 state dict stored at path (see the module docstring for the formats)."""
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        return normalise(load_file(path))
    try:
        sd = torch.jit.load(path, map_location="cpu").state_dict()
    except (RuntimeError, ValueError):
        sd = torch.load(path, map_location="cpu")
    return normalise(sd)


def normalise(sd):
    """Unwraps container dicts, strips a common `module.` prefix and converts tensors to float32."""
    for key in ("model", "state_dict", "module"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict) or not sd:
        raise ValueError("checkpoint holds no state dict")
    if all(k.startswith("module.") for k in sd):
        sd = {k[len("module."):]: v for k, v in sd.items()}
    out = {}
    for k, v in sd.items():
        if not torch.is_tensor(v):
            continue  # e.g. an epoch counter stored next to the weights
        out[k] = v.float() if v.is_floating_point() else v
    return out


class Ignore:
    """A documented group of checkpoint keys that the exported graphs do not use."""

    def __init__(self, group, pattern):
        self.group = group
        self.re = re.compile(pattern)

    def match(self, key):
        return self.re.search(key) is not None


# Training-only state shared by the ALBEF-style checkpoints (mPLUG, BLIP).
MOMENTUM = Ignore("momentum copies (training only)", r"^[A-Za-z_]+_m\.")
QUEUES = Ignore("contrastive queues (training only)", r"^(image_queue|text_queue|idx_queue|queue_ptr|ptr_queue)$")
TEMP = Ignore("ITC temperature (training only)", r"^temp$")
POSITION_IDS = Ignore("position_ids buffers (recomputed)", r"\.position_ids$")


def load_checked(module, sd, ignore=(), extra_ignore=()):
    """Loads sd into module strictly; see the module docstring. extra_ignore: user regexes
    (--ignore) reported as their own group. Returns the report; raises KeyMismatch."""
    rules = list(ignore) + [Ignore(f"--ignore {p}", p) for p in extra_ignore]
    expected = module.state_dict()
    report = {"checkpoint_keys": len(sd), "loaded": 0, "ignored": {}, "missing": [], "unexpected": [],
              "shape_mismatch": []}
    keep = {}
    for k in sorted(sd):
        v = sd[k]
        if k in expected:
            if tuple(v.shape) != tuple(expected[k].shape):
                report["shape_mismatch"].append(f"{k} {list(v.shape)} (want {list(expected[k].shape)})")
            else:
                keep[k] = v
            continue
        rule = next((r for r in rules if r.match(k)), None)
        if rule is None:
            report["unexpected"].append(k)
        else:
            report["ignored"][rule.group] = report["ignored"].get(rule.group, 0) + 1
    report["missing"] = sorted(k for k in expected if k not in sd)
    if report["missing"] or report["unexpected"] or report["shape_mismatch"]:
        raise KeyMismatch(report)
    module.load_state_dict(keep, strict=True)
    report["loaded"] = len(keep)
    return report


def count_layers(sd, prefix):
    """How many numbered layers `prefix N.` the state dict holds."""
    pat = re.compile(re.escape(prefix) + r"(\d+)\.")
    return len({m.group(1) for k in sd for m in [pat.match(k)] if m})
