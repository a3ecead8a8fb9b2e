"""Exporters that turn published retrieval checkpoints into Glimpse model bundles (docs/models.md).

One command per family; each reads the checkpoint file or the model folder as its hub publishes
it, and takes `--random-init` to build the real architecture without weights:

    PYTHONPATH=tools python -m export.mplug  --checkpoint MODELSCOPE_DIR --out DIR [--verify-upstream]
    PYTHONPATH=tools python -m export.blip   --checkpoint model_base_retrieval_flickr.pth | HF_DIR --out DIR
    PYTHONPATH=tools python -m export.clip   --checkpoint ViT-B-32.pt | HF_DIR --out DIR
    PYTHONPATH=tools python -m export.siglip --checkpoint HF_DIR --out DIR

The architectures are this package's own PyTorch modules whose parameter names follow the
upstream state dicts, so a checkpoint loads with a strict key check (`keys.py`): every expected
key must be present and every key of the file must be used, apart from documented groups
(momentum copies, queues, layers upstream stores but never runs). Every family is proven against
the upstream implementation itself by tools/parity, and `--verify-upstream` repeats that proof on a
user's own file before the bundle is written.
"""
import os

# protobuf in Python: with its C++ backend, Python's descriptor pool sits on the one Debian's
# libtorch fills with its own, older onnx.proto, and `import onnx` fails after `import torch`
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

