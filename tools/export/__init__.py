"""Exporters that turn published retrieval checkpoints into Glimpse model bundles (docs/models.md).

One command per family, each with `--random-init` to build the real architecture without weights:

    PYTHONPATH=tools /usr/bin/python3 -m export.mplug --checkpoint pytorch_model.bin --out DIR
    PYTHONPATH=tools /usr/bin/python3 -m export.clip  --checkpoint ViT-B-32.pt --out DIR
    PYTHONPATH=tools /usr/bin/python3 -m export.blip  --checkpoint model_base_retrieval_flickr.pth --out DIR

The architectures are this package's own PyTorch modules whose parameter names follow the
upstream state dicts, so a checkpoint loads with a strict key check (`keys.py`): every expected
key must be present and every key of the file must be used, apart from documented training-only
state (momentum copies, queues). `check.py` exports reduced-width bundles of every family and
verifies them with the Go runtime (`make export-check`).
"""
