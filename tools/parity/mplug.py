"""mPLUG retrieval as the ModelScope hub publishes it, built with ModelScope's own model class.

The folder holds what damo/mplug_image-text-retrieval_flickr30k_large_en holds:
`configuration.json` (task image-text-retrieval, model type mplug), `config.yaml` (the
retrieval config of the large Flickr30k model: image_res 336, ViT-L-14, embed_dim 256, ...),
`config_bert.json` (AliceMind's mPLUG/configs/config_bert.json: 12 layers, text_encoder_layers 6,
fusion_layers 6, stride_layer 6; the stride-3 case uses config_bert_stride3.json's stride 3),
`vocab.txt` and `pytorch_model.bin`: the state dict of MPlugForImageTextRetrieval, momentum
copies and queues included, saved with torch.save, optionally with every key under `model.` as
ModelScope's MPlugForAllTasks wrapper saves it.
"""
import json
import os

import torch

from export import layers, writer
from upstream import absent

CONFIG_YAML = {  # the hub's config.yaml of the large Flickr30k retrieval model
    "bert_config": "config_bert.json", "image_res": 336, "batch_size_train": 32, "vision_width": 1024,
    "distill": True, "clip_name": "ViT-L-14", "batch_size_test": 64, "k_test": 256, "alpha": 0.4,
    "warm_up": True, "eos": "[SEP]", "queue_size": 65536, "momentum": 0.995, "embed_dim": 256, "temp": 0.07,
    "task": "image-text-retrieval",
    "clip_embed_dim": 768, "clip_image_resolution": 224, "clip_vision_layers": 24, "clip_vision_width": 1024,
    "clip_vision_patch_size": 14, "clip_context_length": 77, "clip_vocab_size": 49408,
    "clip_transformer_width": 768, "clip_transformer_heads": 12, "clip_transformer_layers": 12,
}
CONFIG_BERT = {  # AliceMind mPLUG/configs/config_bert.json
    "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
    "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
    "num_hidden_layers": 12, "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": 30522, "encoder_width": 768,
    "add_cross_attention": False, "use_cache": False, "gradient_checkpointing": True, "text_encoder_layers": 6,
    "fusion_layers": 6, "text_decode_layers": 12, "stride_layer": 6,
}
CONFIGURATION = {"framework": "pytorch", "task": "image-text-retrieval", "model": {"type": "mplug"},
                 "pipeline": {"type": "image-text-retrieval"}, "preprocessor": {"type": "mplug-tasks-preprocessor"}}
# Reduced width: ModelScope fixes the ViT-L width at 1024 (its position table), so the vision
# tower keeps its width and loses depth; BERT shrinks to 128 wide.
REDUCED_YAML = {"queue_size": 64, "embed_dim": 64, "clip_vision_layers": 2, "clip_embed_dim": 64,
                "clip_transformer_width": 64, "clip_transformer_heads": 1, "clip_transformer_layers": 1}
REDUCED_BERT = {"hidden_size": 128, "num_attention_heads": 2, "intermediate_size": 256, "encoder_width": 128,
                "text_encoder_layers": 2, "text_decode_layers": 2}


def write_layout(out, width, seed, stride=6, prefixed=False, twist_vocab=False):
    """Saves a seeded MPlugForImageTextRetrieval in the hub's layout into out; returns out.
    stride: config_bert's stride_layer (3: connected attention). The reduced width runs 2 (stride
    6) or 4 (stride 3, connected at fusion layer 2) fusion layers out of 2 more stored ones."""
    absent.install()
    import yaml
    from modelscope.models.multi_modal.mplug.modeling_mplug import MPlugConfig, MPlugForImageTextRetrieval
    os.makedirs(out, exist_ok=True)
    yml, bert = dict(CONFIG_YAML), dict(CONFIG_BERT, stride_layer=stride)
    if width == "reduced":
        yml.update(REDUCED_YAML)
        fusion = 2 if stride >= 6 else 4
        bert.update(REDUCED_BERT, fusion_layers=fusion, num_hidden_layers=fusion + 2, stride_layer=min(stride, 2))
    with open(os.path.join(out, "config.yaml"), "w") as f:
        yaml.safe_dump(yml, f, sort_keys=False)
    with open(os.path.join(out, "config_bert.json"), "w") as f:
        json.dump(bert, f, indent=2)
    with open(os.path.join(out, "configuration.json"), "w") as f:
        json.dump(CONFIGURATION, f, indent=2)
    write_vocab(os.path.join(out, "vocab.txt"), twist_vocab)
    cfg = MPlugConfig.from_yaml_file(os.path.join(out, "config.yaml"))
    cfg.model_dir = out
    torch.manual_seed(seed)
    model = layers.random_init(MPlugForImageTextRetrieval(cfg), seed)
    sd = model.state_dict()
    if prefixed:
        sd = {"model." + k: v for k, v in sd.items()}
    torch.save(sd, os.path.join(out, "pytorch_model.bin"))
    return out


# Two common words whose lines trade places in a twisted vocabulary: an exporter that ships its
# own copy instead of the folder's then gets different ids from upstream's tokenizer.
TWIST = ("cat", "dog")


def write_vocab(path, twist=False):
    """The BERT uncased vocabulary, with TWIST's lines exchanged when twist is set."""
    with open(writer.BERT_VOCAB, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if twist:
        a, b = lines.index(TWIST[0]), lines.index(TWIST[1])
        lines[a], lines[b] = lines[b], lines[a]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def cases():
    """(name, layout, writer) for the runs of this family."""
    return [
        ("mplug-large", "modelscope", lambda out, width, seed: write_layout(out, width, seed, twist_vocab=True)),
        ("mplug-large-prefixed", "modelscope, keys under model.",
         lambda out, width, seed: write_layout(out, width, seed + 1, prefixed=True)),
        ("mplug-stride3", "modelscope, config_bert_stride3 (connected attention)",
         lambda out, width, seed: write_layout(out, width, seed + 2, stride=3)),
    ]
