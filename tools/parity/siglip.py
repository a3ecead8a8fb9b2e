"""SigLIP in the Hugging Face layout (google/siglip-*), built with transformers' SiglipModel:
`save_pretrained` of the model and of a SiglipProcessor (SiglipImageProcessor at the model's size,
SiglipTokenizer over a unigram spiece.model). The real vocabulary cannot be downloaded here, so the
spiece.model is the repository's SentencePiece unigram fixture (trained by the sentencepiece
package with SigLIP's special tokens); the model's embedding table keeps the published 32,000 rows
at real size."""
import os
import shutil

import torch

from export import layers, siglip

REAL = dict(vision=dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16),
            text=dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
                      vocab_size=32000))
REDUCED = dict(vision=dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2),
               text=dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2,
                         vocab_size=32000))


def write_hf(out, width, seed):
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor, SiglipTokenizer
    s = REAL if width == "real" else REDUCED
    cfg = SiglipConfig(vision_config=dict(s["vision"], image_size=384, patch_size=14),
                       text_config=dict(s["text"], max_position_embeddings=64))
    torch.manual_seed(seed)
    model = layers.random_init(SiglipModel(cfg), seed).eval()
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    spiece = os.path.join(out, "spiece.model")
    shutil.copy(siglip.SPIECE, spiece)
    tok = SiglipTokenizer(vocab_file=spiece, model_max_length=64)
    SiglipProcessor(SiglipImageProcessor(size={"height": 384, "width": 384}), tok).save_pretrained(out)
    return out


def cases():
    return [("siglip-so400m-hf", "hugging face (SiglipModel.save_pretrained)", write_hf)]
