"""BERT uncased WordPiece tokenizer (BasicTokenizer + WordpieceTokenizer).

A small, dependency-free reimplementation of the reference algorithm, used by the training and
export tools so that Python and the Go runtime (encoder/tokenizer) produce the same ids. It is
checked against the shared token-id goldens in tools/tests.
"""
import unicodedata


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    """Encodes text to BERT ids: [CLS] pieces [SEP], then [PAD] up to max_len."""

    def __init__(self, vocab_path, max_len=40):
        with open(vocab_path, encoding="utf-8") as f:
            self.vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
        self.inv = {i: t for t, i in self.vocab.items()}
        self.max_len = max_len
        self.cls, self.sep = self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.pad, self.unk = self.vocab["[PAD]"], self.vocab["[UNK]"]

    def basic(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(" " + ch + " ")
            else:
                out.append(ch)
        words = []
        for tok in "".join(out).strip().split():
            tok = unicodedata.normalize("NFD", tok.lower())
            tok = "".join(c for c in tok if unicodedata.category(c) != "Mn")
            cur = ""
            for ch in tok:
                if _is_punctuation(ch):
                    if cur:
                        words.append(cur)
                        cur = ""
                    words.append(ch)
                else:
                    cur += ch
            if cur:
                words.append(cur)
        return words

    def pieces(self, text):
        res = []
        for word in self.basic(text):
            if len(word) > 100:
                res.append("[UNK]")
                continue
            start, sub = 0, []
            while start < len(word):
                end, found = len(word), None
                while start < end:
                    s = word[start:end]
                    if start > 0:
                        s = "##" + s
                    if s in self.vocab:
                        found = s
                        break
                    end -= 1
                if found is None:
                    sub = ["[UNK]"]
                    break
                sub.append(found)
                start = end
            res.extend(sub)
        return res

    def ids(self, text):
        """Ids with [CLS]/[SEP], no padding, truncated to max_len keeping [SEP]."""
        p = [self.vocab[t] for t in self.pieces(text)][: self.max_len - 2]
        return [self.cls] + p + [self.sep]

    def encode(self, text):
        ids = self.ids(text)
        mask = [1] * len(ids) + [0] * (self.max_len - len(ids))
        return ids + [self.pad] * (self.max_len - len(ids)), mask
