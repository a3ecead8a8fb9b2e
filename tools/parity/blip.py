"""BLIP retrieval in its two published layouts, built with transformers' BlipForImageTextRetrieval.

- Hugging Face (Salesforce/blip-itm-base-*): `save_pretrained` of the model (model.safetensors,
  config.json) and of a BlipProcessor (preprocessor_config.json and the BERT tokenizer files,
  `[DEC]` and `[ENC]` added as BLIP adds them, ids 30522 and 30523).
- Salesforce's `.pth`: `{"model": state_dict}` in BLIP's own key names, each one the key that
  transformers' conversion script (`rename_key`) maps onto the model's (checked key by key), with
  what BLIP's retrieval model also saves: momentum copies, queues, the temperature and the text
  embeddings' position_ids buffer. Its ViT LayerNorm eps is BLIP's 1e-6.
"""
import os

import torch

from export import blip as blip_export
from export import layers
from upstream import upstream_function

from .mplug import write_vocab

REAL = dict(vision=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12),
            text=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                      encoder_hidden_size=768), embed=256, queue=57600)
REDUCED = dict(vision=dict(hidden_size=128, intermediate_size=512, num_hidden_layers=2, num_attention_heads=2),
               text=dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2,
                         encoder_hidden_size=128), embed=64, queue=64)


def build(width, seed, eps):
    from transformers import BlipConfig, BlipForImageTextRetrieval
    s = REAL if width == "real" else REDUCED
    cfg = BlipConfig(vision_config=dict(s["vision"], image_size=384, patch_size=16, layer_norm_eps=eps),
                     text_config=dict(s["text"], vocab_size=30524), image_text_hidden_size=s["embed"])
    torch.manual_seed(seed)
    return layers.random_init(BlipForImageTextRetrieval(cfg), seed).eval(), s


def write_hf(out, width, seed):
    from transformers import BertTokenizerFast, BlipImageProcessor, BlipProcessor
    model, _ = build(width, seed, eps=1e-5)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    vocab = os.path.join(out, "vocab.txt")
    write_vocab(vocab, twist=width == "reduced")
    tok = BertTokenizerFast(vocab_file=vocab, do_lower_case=True)
    tok.add_special_tokens({"bos_token": "[DEC]", "additional_special_tokens": ["[ENC]"]})
    BlipProcessor(BlipImageProcessor(size={"height": 384, "width": 384}), tok).save_pretrained(out)
    return out


def write_salesforce(out, width, seed):
    rename_key = upstream_function("transformers.models.blip.convert_blip_original_pytorch_to_hf", "rename_key")
    model, s = build(width, seed, eps=1e-6)
    sd = {}
    for k, v in model.state_dict().items():
        orig = blip_export.from_hf_key(k)
        if rename_key(orig) != k:
            raise AssertionError(f"transformers' rename_key maps {orig} to {rename_key(orig)}, not {k}")
        sd[orig] = v.clone()
    momentum = {}
    for k, v in sd.items():
        for p in ("visual_encoder", "text_encoder", "vision_proj", "text_proj"):
            if k.startswith(p + "."):
                momentum[p + "_m" + k[len(p):]] = v.clone()
    sd.update(momentum)
    e, q = s["embed"], s["queue"]
    sd.update({"image_queue": torch.randn(e, q), "text_queue": torch.randn(e, q), "idx_queue": torch.full((1, q), -100),
               "ptr_queue": torch.zeros(1, dtype=torch.long), "temp": torch.tensor(0.07),
               "text_encoder.embeddings.position_ids": torch.arange(512)[None]})
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model_base_retrieval_flickr.pth")
    torch.save({"model": sd}, path)
    return path


def cases():
    return [
        ("blip-base-hf", "hugging face (BlipForImageTextRetrieval.save_pretrained)", write_hf),
        ("blip-base-salesforce", "salesforce .pth (BLIP's keys, momentum copies, queues)", write_salesforce),
    ]

