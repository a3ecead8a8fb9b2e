"""BLIP image-text matching through transformers' BlipForImageTextRetrieval.

A Hugging Face folder is loaded as its hub publishes it: `BlipForImageTextRetrieval.from_pretrained`
and `BlipProcessor.from_pretrained`; images through `transformers.image_utils.load_image` (EXIF
transpose, convert('RGB')) and the processor, texts through the folder's tokenizer padded to 35.

A Salesforce `.pth` file (BLIP's own release) is loaded the way transformers' conversion script
(models/blip/convert_blip_original_pytorch_to_hf.py) loads one: every key through its
`rename_key` into a BlipForImageTextRetrieval whose config is the base retrieval model's, with
the ViT's LayerNorm eps of BLIP's own ViT (1e-6; the port's default is 1e-5). The inputs are
prepared as BLIP's retrieval evaluation prepares them: `Image.open(p).convert('RGB')` (no EXIF
orientation) resized by BlipImageProcessor (bicubic 384 squash, CLIP mean/std: BLIP's
transform_test), and captions through BLIP's `pre_caption(caption, max_words=30)` before the
tokenizer.

Both score the evaluation's way: the ITM pass gets the ids with the first token replaced by
`[ENC]` (the last vocabulary row), the ITC embeddings are the normalised projections of the
vision CLS and of the unimodal text pass.
"""
import os
import re

import numpy as np
import torch
import torch.nn.functional as F

from . import Reference, upstream_function

HF, SALESFORCE = "hf", "salesforce"


def pre_caption(caption, max_words=30):
    """BLIP's data/utils.py pre_caption, as its retrieval datasets call it."""
    caption = re.sub(r"([.!\"()*#:;~])", " ", caption.lower())
    caption = re.sub(r"\s{2,}", " ", caption)
    caption = caption.rstrip("\n").strip(" ")
    words = caption.split(" ")
    if len(words) > max_words:
        caption = " ".join(words[:max_words])
    return caption


def salesforce_config(sd, eps=1e-6):
    """The BlipConfig of a BLIP retrieval state dict (widths and depths from its shapes)."""
    from transformers import BlipConfig
    conv = sd["visual_encoder.patch_embed.proj.weight"]
    grid = round((sd["visual_encoder.pos_embed"].shape[1] - 1) ** 0.5)
    words = sd["text_encoder.embeddings.word_embeddings.weight"]
    n_vis = len({k.split(".")[2] for k in sd if k.startswith("visual_encoder.blocks.")})
    n_txt = len({k.split(".")[3] for k in sd if k.startswith("text_encoder.encoder.layer.")})
    width = words.shape[1]
    return BlipConfig(
        vision_config=dict(hidden_size=conv.shape[0], intermediate_size=4 * conv.shape[0], num_hidden_layers=n_vis,
                           num_attention_heads=conv.shape[0] // 64, image_size=conv.shape[-1] * grid,
                           patch_size=conv.shape[-1], layer_norm_eps=eps),
        text_config=dict(vocab_size=words.shape[0], hidden_size=width, encoder_hidden_size=conv.shape[0],
                         intermediate_size=sd["text_encoder.encoder.layer.0.intermediate.dense.weight"].shape[0],
                         num_hidden_layers=n_txt, num_attention_heads=width // 64,
                         max_position_embeddings=sd["text_encoder.embeddings.position_embeddings.weight"].shape[0]),
        image_text_hidden_size=sd["vision_proj.weight"].shape[0])


def load_salesforce(path):
    """A BlipForImageTextRetrieval holding a Salesforce checkpoint, via transformers' rename_key."""
    from transformers import BlipForImageTextRetrieval
    rename_key = upstream_function("transformers.models.blip.convert_blip_original_pytorch_to_hf", "rename_key")
    raw = torch.load(path, map_location="cpu")
    sd = raw.get("model", raw)
    model = BlipForImageTextRetrieval(salesforce_config(sd)).eval()
    want = model.state_dict()
    converted = {rename_key(k): v.float() for k, v in sd.items()}
    missing = [k for k in want if k not in converted]
    if missing:
        raise ValueError(f"{path}: {len(missing)} keys of BlipForImageTextRetrieval missing after rename_key: "
                         f"{missing[:5]}")
    model.load_state_dict({k: converted[k] for k in want}, strict=True)
    return model


class BlipReference(Reference):
    def __init__(self, path, max_length=35):
        from transformers import BertTokenizer, BlipForImageTextRetrieval, BlipImageProcessor, BlipProcessor
        self.max_length = max_length
        if os.path.isdir(path):
            self.layout = HF
            self.model = BlipForImageTextRetrieval.from_pretrained(path).eval()
            self.processor = BlipProcessor.from_pretrained(path)
            self.tokenizer = self.processor.tokenizer
            self.name = "transformers BlipForImageTextRetrieval (Hugging Face folder)"
        else:
            self.layout = SALESFORCE
            self.model = load_salesforce(path)
            from export import writer
            self.tokenizer = BertTokenizer(writer.BERT_VOCAB)
            size = self.model.config.vision_config.image_size
            self.image_processor = BlipImageProcessor(size={"height": size, "width": size})
            self.name = "transformers BlipForImageTextRetrieval (Salesforce checkpoint through rename_key)"
        self.enc = self.model.config.text_config.vocab_size - 1

    def preprocess(self, path):
        from PIL import Image
        if self.layout == HF:
            from transformers.image_utils import load_image
            return self.processor(images=load_image(path), return_tensors="np")["pixel_values"][0].astype(np.float32)
        with Image.open(path) as im:
            rgb = im.convert("RGB")
        return self.image_processor(rgb, return_tensors="np")["pixel_values"][0].astype(np.float32)

    def tokenize(self, texts):
        if self.layout == SALESFORCE:
            texts = [pre_caption(t) for t in texts]
        enc = self.tokenizer(texts, padding="max_length", truncation=True, max_length=self.max_length,
                             return_tensors="np")
        return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)

    @torch.no_grad()
    def _vision(self, pix):
        return self.model.vision_model(pixel_values=torch.from_numpy(pix))[0]

    @torch.no_grad()
    def image_embeds(self, pix):
        return F.normalize(self.model.vision_proj(self._vision(pix)[:, 0, :]), dim=-1).numpy()

    @torch.no_grad()
    def text_embeds(self, ids, mask):
        out = self.model.text_encoder(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return F.normalize(self.model.text_proj(out[0][:, 0, :]), dim=-1).numpy()

    @torch.no_grad()
    def itm_logits(self, pix, ids, mask):
        ids = torch.from_numpy(ids).clone()
        ids[:, 0] = self.enc
        out = self.model(input_ids=ids, pixel_values=torch.from_numpy(pix), attention_mask=torch.from_numpy(mask),
                         use_itm_head=True)
        return out.itm_score.numpy()


def load(path, **kwargs):
    return BlipReference(path, **kwargs)
