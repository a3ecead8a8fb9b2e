"""CLIP ViT-B/32 and ViT-L/14@336 in their two published layouts.

- OpenAI's release: open_clip's CLIP with quick_gelu (its 'openai' models keep OpenAI's state-dict
  names), the archive's three metadata entries (input_resolution, context_length, vocab_size)
  added, weights in fp16 (`convert_weights_to_lp`) as OpenAI shipped them, scripted and saved
  with torch.jit: a TorchScript archive that open_clip's `load_openai_model` reads.
- Hugging Face (openai/clip-vit-*): `CLIPModel.save_pretrained` (config.json with the hub's
  quick_gelu and legacy token ids, model.safetensors) and `CLIPProcessor.save_pretrained` with a
  CLIPImageProcessor of the model's size and the fast tokenizer converted from vocab.json and
  merges.txt, which are written from open_clip's copy of OpenAI's BPE file (the vocabulary as
  OpenAI's SimpleTokenizer builds it, the merges in rank order).
"""
import json
import os

import torch

from export import layers

SIZES = {  # name -> (image size, patch, real (vision width, layers, text width, layers, embed))
    "ViT-B/32": (224, 32, (768, 12, 512, 12, 512)),
    "ViT-L/14@336": (336, 14, (1024, 24, 768, 12, 768)),
}
REDUCED = (128, 2, 128, 2, 64)
# open_clip names OpenAI's two special tokens differently (same ids 49406, 49407); the hub's
# vocab.json uses OpenAI's names.
OPENAI_SPECIAL = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}


def dims(arch, width):
    size, patch, real = SIZES[arch]
    vw, vl, tw, tl, embed = real if width == "real" else REDUCED
    return size, patch, vw, vl, tw, tl, embed


def write_openai(arch):
    def write(out, width, seed):
        from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg, convert_weights_to_lp
        size, patch, vw, vl, tw, tl, embed = dims(arch, width)
        torch.manual_seed(seed)
        model = CLIP(embed, CLIPVisionCfg(layers=vl, width=vw, patch_size=patch, image_size=size),
                     CLIPTextCfg(context_length=77, vocab_size=49408, width=tw, heads=tw // 64, layers=tl),
                     quick_gelu=True)
        layers.random_init(model, seed).eval()
        for name, value in (("input_resolution", size), ("context_length", 77), ("vocab_size", 49408)):
            if hasattr(model, name):
                delattr(model, name)  # open_clip keeps context_length as a plain int
            model.register_buffer(name, torch.tensor(value))
        convert_weights_to_lp(model, dtype=torch.float16)
        mask = model.attn_mask  # a plain attribute in OpenAI's archives, not state: keep it out of the state dict
        del model._buffers["attn_mask"]
        model.attn_mask = mask
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, arch.replace("/", "-").replace("@", "-") + ".pt")
        torch.jit.save(torch.jit.script(model), path)
        return path
    return write


def write_hf(arch):
    def write(out, width, seed):
        from open_clip.tokenizer import SimpleTokenizer
        from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer, \
            CLIPTokenizerFast
        size, patch, vw, vl, tw, tl, embed = dims(arch, width)
        cfg = CLIPConfig(
            text_config=dict(hidden_size=tw, intermediate_size=4 * tw, num_hidden_layers=tl, num_attention_heads=tw // 64,
                             max_position_embeddings=77, vocab_size=49408, hidden_act="quick_gelu",
                             bos_token_id=0, eos_token_id=2, pad_token_id=1),
            vision_config=dict(hidden_size=vw, intermediate_size=4 * vw, num_hidden_layers=vl,
                               num_attention_heads=vw // 64, image_size=size, patch_size=patch,
                               hidden_act="quick_gelu"),
            projection_dim=embed)
        torch.manual_seed(seed)
        model = layers.random_init(CLIPModel(cfg), seed).eval()
        os.makedirs(out, exist_ok=True)
        model.save_pretrained(out)
        st = SimpleTokenizer()
        vocab = {OPENAI_SPECIAL.get(k, k): v for k, v in st.encoder.items()}
        with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        merges = sorted(st.bpe_ranks.items(), key=lambda kv: kv[1])
        with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for (a, b), _ in merges))
        slow = CLIPTokenizer(os.path.join(out, "vocab.json"), os.path.join(out, "merges.txt"), model_max_length=77)
        slow.save_pretrained(out)
        fast = CLIPTokenizerFast.from_pretrained(out)
        images = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
        CLIPProcessor(image_processor=images, tokenizer=fast).save_pretrained(out)
        return out
    return write


def cases():
    return [
        ("clip-vit-b-32-openai", "openai torchscript archive (fp16)", write_openai("ViT-B/32")),
        ("clip-vit-b-32-hf", "hugging face (CLIPModel.save_pretrained)", write_hf("ViT-B/32")),
        ("clip-vit-l-14-336-openai", "openai torchscript archive (fp16)", write_openai("ViT-L/14@336")),
        ("clip-vit-l-14-336-hf", "hugging face (CLIPModel.save_pretrained)", write_hf("ViT-L/14@336")),
    ]
