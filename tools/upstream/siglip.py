"""SigLIP through transformers: `SiglipModel.from_pretrained` and `SiglipProcessor.from_pretrained`
on the Hugging Face folder, driven as the zero-shot pipeline and the model card drive it: images
through `transformers.image_utils.load_image` (EXIF transpose, convert('RGB')) and
SiglipImageProcessor, texts through SiglipTokenizer with `padding="max_length"` (64) and no
attention mask, embeddings from `get_image_features` / `get_text_features`, normalised."""
import numpy as np
import torch
import torch.nn.functional as F

from . import Reference


class SiglipReference(Reference):
    has_itm = False

    def __init__(self, path):
        from transformers import SiglipModel, SiglipProcessor
        self.model = SiglipModel.from_pretrained(path).eval()
        self.processor = SiglipProcessor.from_pretrained(path)
        self.max_length = self.model.config.text_config.max_position_embeddings
        self.name = "transformers SiglipModel + SiglipProcessor (Hugging Face folder)"

    def preprocess(self, path):
        from transformers.image_utils import load_image
        return self.processor(images=load_image(path), return_tensors="np")["pixel_values"][0].astype(np.float32)

    def tokenize(self, texts):
        tok = self.processor.tokenizer
        ids = tok(texts, padding="max_length", truncation=True, max_length=self.max_length,
                  return_tensors="np")["input_ids"].astype(np.int64)
        n = [len(tok(t, truncation=True, max_length=self.max_length)["input_ids"]) for t in texts]
        return ids, (np.arange(ids.shape[1])[None] < np.array(n)[:, None]).astype(np.int64)

    @torch.no_grad()
    def image_embeds(self, pix):
        return F.normalize(self.model.get_image_features(pixel_values=torch.from_numpy(pix)), dim=-1).numpy()

    @torch.no_grad()
    def text_embeds(self, ids, mask):
        return F.normalize(self.model.get_text_features(input_ids=torch.from_numpy(ids)), dim=-1).numpy()


def load(path, **_):
    return SiglipReference(path)
