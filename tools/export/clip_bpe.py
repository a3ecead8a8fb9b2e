"""OpenAI CLIP's byte-level BPE tokenizer, for the golden token ids of CLIP bundles.

The vocabulary is built from `bpe_simple_vocab_16e6.txt.gz`: 256 byte symbols, the same with the
end-of-word marker `</w>`, the first 48,894 merges, then `<|startoftext|>` (49406) and
`<|endoftext|>` (49407). Text is HTML-unescaped twice, whitespace-collapsed and lower-cased, then
split into words (letters runs, single digits, runs of other symbols, and the contractions 's 't 're
've 'm 'll 'd) before BPE. The reference also runs ftfy's text repair first; this implementation does
not (the golden texts avoid anything ftfy would change), while the Go tokenizer approximates it.
Checked against the shared token-id goldens in tools/tests.
"""
import gzip
import html
import re
import unicodedata

NUM_MERGES = 49152 - 256 - 2
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
SPECIAL = ("<|startoftext|>", "<|endoftext|>")


def byte_symbols():
    """Byte -> printable symbol, and the vocabulary order of the 256 bytes."""
    keep = [b for b in range(256) if ord("!") <= b <= ord("~") or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    sym = {b: chr(b) for b in keep}
    rest = [b for b in range(256) if b not in sym]
    for i, b in enumerate(rest):
        sym[b] = chr(256 + i)
    return sym, keep + rest


def _letter(ch):
    return unicodedata.category(ch).startswith("L")


def _number(ch):
    return unicodedata.category(ch).startswith("N")


def words(text):
    """The pre-tokenisation of cleaned, lower-cased text."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        hit = next((s for s in SPECIAL + CONTRACTIONS if text.startswith(s, i)), None)
        if hit:
            out.append(hit)
            i += len(hit)
        elif _letter(ch):
            j = i + 1
            while j < n and _letter(text[j]):
                j += 1
            out.append(text[i:j])
            i = j
        elif _number(ch):
            out.append(ch)
            i += 1
        else:
            j = i + 1
            while j < n and not (text[j].isspace() or _letter(text[j]) or _number(text[j])):
                j += 1
            out.append(text[i:j])
            i = j
    return out


class ClipBPE:
    """Encodes text to CLIP ids: start, tokens, end, then zeros up to context_length."""

    def __init__(self, merges_gz, context_length=77, clean="openai"):
        """clean: "openai" (HTML entities unescaped twice, as OpenAI's and open_clip's tokenizers
        do) or "hf" (NFC, as the Hugging Face fast CLIP tokenizer does; no unescaping)."""
        if clean not in ("openai", "hf"):
            raise ValueError(f"unknown CLIP text cleaning {clean!r}")
        self.clean = clean
        with gzip.open(merges_gz, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")[1: NUM_MERGES + 1]
        merges = [tuple(line.split()) for line in lines]
        self.sym, order = byte_symbols()
        vocab = [self.sym[b] for b in order]
        vocab += [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges] + list(SPECIAL)
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.rank = {m: i for i, m in enumerate(merges)}
        self.start, self.end, self.pad = self.ids[SPECIAL[0]], self.ids[SPECIAL[1]], 0
        self.context_length = context_length
        self.cache = {}

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pairs = {(a, b) for a, b in zip(parts, parts[1:])}
            best = min(pairs, key=lambda p: self.rank.get(p, 1 << 30))
            if best not in self.rank:
                break
            merged, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self.cache[word] = parts
        return parts

    def tokens(self, text):
        if self.clean == "openai":
            text = html.unescape(html.unescape(text)).strip()
        else:
            text = unicodedata.normalize("NFC", text)
        text = re.sub(r"\s+", " ", text).strip().lower()
        out = []
        for w in words(text):
            if w in SPECIAL:
                out.append(self.ids[w])
                continue
            mapped = "".join(self.sym[b] for b in w.encode("utf-8"))
            out.extend(self.ids[p] for p in self.bpe(mapped))
        return out

    def encode(self, text):
        """(ids, mask), both of length context_length; over-long text keeps the end token."""
        body = self.tokens(text)[: self.context_length - 2]
        ids = [self.start] + body + [self.end]
        n = len(ids)
        return ids + [self.pad] * (self.context_length - n), [1] * n + [0] * (self.context_length - n)
