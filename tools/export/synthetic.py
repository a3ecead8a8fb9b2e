"""Synthetic upstream checkpoints, for testing the --checkpoint path without the real files.

`write(family_module, model, path)` saves a model's weights the way the family's release does,
with the training-only state the exporter must leave out:

- mPLUG (ModelScope `pytorch_model.bin`): a plain state dict with DataParallel's `module.` prefix,
  momentum copies, queues, temperature, BERT position_ids, and the unused CLIP text tower and
  visual projection under `visual_encoder.`;
- BLIP (`model_base_retrieval_*.pth`): `{"model": state_dict}` with momentum copies and queues;
- CLIP (the TorchScript `.pt` release): a traced module saved with torch.jit, fp16 weights, and the
  archive's `input_resolution` / `context_length` / `vocab_size` entries.

It returns the number of keys the exporter should load and, per ignore group, how many it should
leave out.
"""
import copy

import torch


def _momentum(sd, prefixes):
    return {p + "_m" + k[len(p):]: v.clone() for k, v in sd.items() for p in prefixes if k.startswith(p + ".")}


def write(fam, model, path):
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    loaded = len(sd)
    if fam.FAMILY == "mplug":
        extra = _momentum(sd, ["visual_encoder", "text_encoder", "fusion_encoder", "vision_proj", "text_proj"])
        extra.update({"image_queue": torch.randn(model.cfg.embed_dim, 8), "text_queue": torch.randn(model.cfg.embed_dim, 8),
                      "idx_queue": torch.zeros(1, 8), "queue_ptr": torch.zeros(1), "temp": torch.tensor(0.07),
                      "text_encoder.embeddings.position_ids": torch.arange(model.cfg.max_position)[None],
                      "visual_encoder.token_embedding.weight": torch.randn(16, 8),
                      "visual_encoder.transformer.resblocks.0.ln_1.weight": torch.randn(8),
                      "visual_encoder.ln_final.weight": torch.randn(8),
                      "visual_encoder.text_projection": torch.randn(8, 4),
                      "visual_encoder.positional_embedding": torch.randn(77, 8),
                      "visual_encoder.logit_scale": torch.tensor(4.6),
                      "visual_encoder.visual.proj": torch.randn(model.cfg.vision_width, 8)})
        groups = {"momentum copies (training only)": len([k for k in extra if "_m." in k]),
                  "contrastive queues (training only)": 4, "ITC temperature (training only)": 1,
                  "position_ids buffers (recomputed)": 1,
                  "CLIP text tower inside visual_encoder (not used by mPLUG)": 6,
                  "CLIP visual projection (mPLUG takes the tokens before it)": 1}
        sd.update(extra)
        torch.save({"module." + k: v for k, v in sd.items()}, path)
    elif fam.FAMILY == "blip":
        extra = _momentum(sd, ["visual_encoder", "text_encoder", "vision_proj", "text_proj"])
        extra.update({"image_queue": torch.randn(model.cfg.embed_dim, 8), "text_queue": torch.randn(model.cfg.embed_dim, 8),
                      "idx_queue": torch.zeros(1, 8), "ptr_queue": torch.zeros(1), "temp": torch.tensor(0.07),
                      "text_encoder.embeddings.position_ids": torch.arange(model.cfg.max_position)[None]})
        groups = {"momentum copies (training only)": len([k for k in extra if "_m." in k]),
                  "contrastive queues (training only)": 4, "ITC temperature (training only)": 1,
                  "position_ids buffers (recomputed)": 1}
        sd.update(extra)
        torch.save({"model": sd, "epoch": 5}, path)
    elif fam.FAMILY == "clip":
        m = copy.deepcopy(model)
        for name, value in (("input_resolution", model.cfg.image_size), ("context_length", model.cfg.context_length),
                            ("vocab_size", model.cfg.vocab)):
            m.register_buffer(name, torch.tensor(value))
        pix = torch.zeros(1, 3, model.cfg.image_size, model.cfg.image_size)
        traced = torch.jit.trace_module(m, {"encode_image": pix}, check_trace=False)
        torch.jit.save(traced.half(), path)  # the release's fp16 weights
        groups = {"TorchScript archive metadata": 3}
    else:
        raise ValueError(fam.FAMILY)
    return loaded, groups
