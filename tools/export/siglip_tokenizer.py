"""SigLIP's text input for the golden outputs of SigLIP bundles: transformers' SiglipTokenizer
over the bundle's spiece.model (lower-cased, punctuation removed, `</s>` appended, padded with
`</s>` to the text length), the reference the Go unigram tokenizer reproduces. The attention
mask marks the text and its `</s>`; SigLIP's text tower reads no mask (it was trained without
one and pools the last position), so the mask only tells real tokens from padding."""


class SiglipText:
    def __init__(self, model_file, max_length=64):
        from transformers import SiglipTokenizer
        self.tok = SiglipTokenizer(vocab_file=model_file, model_max_length=max_length)
        self.max_length = max_length
        self.eos, self.pad, self.unk = self.tok.eos_token_id, self.tok.pad_token_id, self.tok.unk_token_id

    def encode(self, text):
        """(ids, mask) of length max_length."""
        ids = self.tok(text, truncation=True, max_length=self.max_length)["input_ids"]
        n = len(ids)
        return ids + [self.pad] * (self.max_length - n), [1] * n + [0] * (self.max_length - n)
