"""mPLUG retrieval through ModelScope: the pipeline the seed's model card calls, and its model.

`load(model_dir)` builds `pipeline(Tasks.image_text_retrieval, model=model_dir)` exactly as the
model card of damo/mplug_image-text-retrieval_flickr30k_large_en does (a local folder in the
hub's layout: configuration.json, config.yaml, config_bert.json, vocab.txt, pytorch_model.bin).
Pixels and token ids come from the pipeline's own preprocessor (MPlugPreprocessor: EXIF
transpose, convert('RGB'), bicubic squash, CLIP mean/std; BertTokenizer from the folder, lower-
cased, 25 tokens). `scores` is the pipeline's output. The embeddings and logits come from the
pipeline's model object, computed the way MPlugForImageTextRetrieval.forward computes them: ITC
as in its training branch (vision_proj / text_proj of the CLS states, normalised), the ITM logits
as in its evaluation branch before the softmax (text encoder, fusion encoder over the image
tokens, itm_head on the fusion CLS).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from . import Reference, absent


class MPlugReference(Reference):
    name = "modelscope pipeline(Tasks.image_text_retrieval)"

    def __init__(self, model_dir):
        absent.install()
        from modelscope.pipelines import pipeline
        from modelscope.utils.constant import Tasks
        if not os.path.isdir(model_dir):
            raise ValueError(f"{model_dir}: the ModelScope reference needs the model folder (configuration.json, "
                             "config.yaml, config_bert.json, vocab.txt, pytorch_model.bin)")
        self.pipe = pipeline(Tasks.image_text_retrieval, model=model_dir)
        self.model = self.pipe.model.model  # MPlugForImageTextRetrieval
        self.pre = self.pipe.preprocessor   # MPlugPreprocessor
        self.max_length = self.pre.tokenizer_max_length
        self._probe_image = None

    def preprocess(self, path):
        return self.pre({"image": path, "question": ""})["image"][0].numpy()

    def tokenize(self, texts):
        if self._probe_image is None:  # the preprocessor wants an image with every text
            from PIL import Image
            self._probe_image = Image.new("RGB", (4, 4))
        ids, mask = [], []
        for t in texts:
            q = self.pre((self._probe_image, t))["question"]
            ids.append(q.input_ids[0].numpy())
            mask.append(q.attention_mask[0].numpy())
        return np.stack(ids).astype(np.int64), np.stack(mask).astype(np.int64)

    def _image_states(self, pix):
        m = self.model
        feat = m.visual_encoder.visual(torch.from_numpy(pix), skip_last_layer=True)
        return m.visn_layer_norm(m.visn_fc(feat))

    @torch.no_grad()
    def image_embeds(self, pix):
        return F.normalize(self.model.vision_proj(self._image_states(pix)[:, 0, :]), dim=-1).numpy()

    @torch.no_grad()
    def text_embeds(self, ids, mask):
        out = self.model.text_encoder(torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return F.normalize(self.model.text_proj(out.last_hidden_state[:, 0, :]), dim=-1).numpy()

    @torch.no_grad()
    def itm_logits(self, pix, ids, mask):
        m = self.model
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
        text = m.text_encoder(ids, attention_mask=mask).last_hidden_state
        image = self._image_states(pix)
        atts = torch.ones(image.shape[:-1], dtype=torch.long)
        _, out = m.fusion_encoder(encoder_embeds=text, attention_mask=mask, encoder_hidden_states=image,
                                  encoder_attention_mask=atts, return_dict=False)
        return m.itm_head(out[:, 0, :]).numpy()

    def scores(self, path, text):
        """The pipeline's own answer: {'scores': [p_no_match, p_match]}['scores']."""
        return [float(v) for v in self.pipe({"image": path, "question": text})["scores"]]


def load(path, **_):
    return MPlugReference(path)
