"""What a user hands an exporter: a checkpoint file, or a model folder as its hub publishes it.

`open_source(path, weights, configs, tokenizer)` accepts either:
- a file: the weights alone (an OpenAI CLIP `.pt` archive, a Salesforce BLIP `.pth`, a bare
  `pytorch_model.bin`); the family then uses its upstream defaults for everything a folder
  would say;
- a folder: the weights are the first of `weights` present in it (e.g. `model.safetensors`,
  `pytorch_model.bin`), the configuration files named in `configs` are parsed (JSON or YAML) when
  present, and the tokenizer files named in `tokenizer` are located, so the bundle ships the
  model's own vocabulary.
"""
import dataclasses
import json
import os

from . import keys


@dataclasses.dataclass
class Source:
    path: str                 # what the user named
    weights: str              # the weights file read
    folder: str | None        # the model folder, when a folder was given
    configs: dict             # file name -> parsed content, for the configs found in the folder
    tokenizer: dict           # file name -> path, for the tokenizer files found in the folder
    state_dict: dict = None   # float32 tensors (keys.read_checkpoint)

    def config(self, name, default=None):
        return self.configs.get(name, default)


def parse_config(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith((".yaml", ".yml")):
            import yaml
            return yaml.safe_load(f)
        return json.load(f)


def open_source(path, weights=(), configs=(), tokenizer=(), read=keys.read_checkpoint):
    """Reads path (file or folder; see the module docstring). Raises FileNotFoundError naming
    what is missing."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or folder")
    if not os.path.isdir(path):
        return Source(path=path, weights=path, folder=None, configs={}, tokenizer={}, state_dict=read(path))
    found = [w for w in weights if os.path.isfile(os.path.join(path, w))]
    if not found:
        raise FileNotFoundError(f"{path}: a model folder needs one of {', '.join(weights)}")
    cfgs = {c: parse_config(os.path.join(path, c)) for c in configs if os.path.isfile(os.path.join(path, c))}
    toks = {t: os.path.join(path, t) for t in tokenizer if os.path.isfile(os.path.join(path, t))}
    w = os.path.join(path, found[0])
    return Source(path=path, weights=w, folder=path, configs=cfgs, tokenizer=toks, state_dict=read(w))
