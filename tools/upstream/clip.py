"""CLIP through its upstream packages: open_clip for OpenAI's archives, transformers for the
Hugging Face layout.

An OpenAI release (`ViT-B-32.pt`, a TorchScript archive) is loaded with
`open_clip.load_openai_model(path)`, open_clip's loader for exactly these files, and
driven as open_clip drives its 'openai' models: the image as PIL opens it (no EXIF orientation)
through `image_transform(image_size, is_train=False)` (Resize of the shorter side, bicubic,
CenterCrop, convert('RGB') after both, ToTensor, Normalize with OpenAI's mean and std), texts
through `open_clip.tokenize` (OpenAI's SimpleTokenizer: ftfy, HTML unescaped twice, 77 tokens),
embeddings from `encode_image` / `encode_text`, normalised.

A Hugging Face folder is loaded with `CLIPModel.from_pretrained` and `CLIPProcessor.from_pretrained`
(the fast tokenizer), images through `transformers.image_utils.load_image` (EXIF transpose,
convert('RGB')) and the processor, texts padded to 77; embeddings from `get_image_features` /
`get_text_features`, normalised.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from . import Reference


class OpenAIReference(Reference):
    has_itm = False

    def __init__(self, path):
        import open_clip
        from open_clip.transform import image_transform
        self.model = open_clip.load_openai_model(path, device="cpu").eval()
        size = self.model.visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else size
        self.transform = image_transform(size, is_train=False, mean=open_clip.OPENAI_DATASET_MEAN,
                                         std=open_clip.OPENAI_DATASET_STD)
        self.max_length = self.model.context_length
        self.tokenize_fn = open_clip.tokenize
        self.name = f"open_clip {open_clip.__version__} load_openai_model (OpenAI archive)"

    def preprocess(self, path):
        from PIL import Image
        with Image.open(path) as im:
            im.load()
            return self.transform(im).numpy()

    def tokenize(self, texts):
        ids = self.tokenize_fn(texts, context_length=self.max_length).numpy().astype(np.int64)
        eot = (ids == ids.max(1, keepdims=True)).argmax(1)  # the end token has the largest id
        return ids, (np.arange(ids.shape[1])[None] <= eot[:, None]).astype(np.int64)

    @torch.no_grad()
    def image_embeds(self, pix):
        return F.normalize(self.model.encode_image(torch.from_numpy(pix)), dim=-1).numpy()

    @torch.no_grad()
    def text_embeds(self, ids, mask):
        return F.normalize(self.model.encode_text(torch.from_numpy(ids)), dim=-1).numpy()


class HFReference(Reference):
    has_itm = False

    def __init__(self, path):
        from transformers import CLIPModel, CLIPProcessor
        self.model = CLIPModel.from_pretrained(path).eval()
        self.processor = CLIPProcessor.from_pretrained(path)
        self.max_length = self.model.config.text_config.max_position_embeddings
        self.name = "transformers CLIPModel + CLIPProcessor (Hugging Face folder)"

    def preprocess(self, path):
        from transformers.image_utils import load_image
        return self.processor(images=load_image(path), return_tensors="np")["pixel_values"][0].astype(np.float32)

    def tokenize(self, texts):
        enc = self.processor.tokenizer(texts, padding="max_length", truncation=True, max_length=self.max_length,
                                       return_tensors="np")
        return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)

    @torch.no_grad()
    def image_embeds(self, pix):
        return F.normalize(self.model.get_image_features(pixel_values=torch.from_numpy(pix)), dim=-1).numpy()

    @torch.no_grad()
    def text_embeds(self, ids, mask):
        out = self.model.get_text_features(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return F.normalize(out, dim=-1).numpy()


def load(path, **_):
    return HFReference(path) if os.path.isdir(path) else OpenAIReference(path)
