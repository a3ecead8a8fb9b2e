# Regenerate (models and goldens, deterministic) with sentencepiece 0.2.3 laid over the tooling's venv,
# which pins 0.2.0: 0.2.3's generated protobuf module refuses the protobuf 4.21 runtime the venv keeps:
#   pip install --no-deps --target /tmp/sp023 sentencepiece==0.2.3
#   PYTHONPATH=/tmp/sp023 $(scripts/setup-venv.sh --path) tools/goldens/siglip_tokenizer.py
# 0.2.0 trains slightly different models and breaks Viterbi ties in ties.model another way; the Go
# tokenizer follows 0.2.3. Texts without exact score ties encode the same under both.
"""Small SentencePiece unigram models and the SiglipTokenizer goldens of the Go Unigram tokenizer.

Trains three unigram models on a generated caption corpus (fixed seed, one thread) into
encoder/tokenizer/testdata/sentencepiece/, each with SigLIP's special-token layout (<pad> 0, </s> 1,
<unk> 2, no <s>; the tokenizer pads with </s>), then writes goldens.json there: for every text of a
broad set, the input_ids and attention_mask of

    SiglipTokenizer(vocab_file=..., model_max_length=64, do_lower_case=...)(
        texts, padding="max_length", truncation=True, max_length=64)

(transformers 4.46.3, the slow tokenizer, sentencepiece 0.2.3). The models:

  nfkc.model      nmt_nfkc, 1000 pieces; '<' and '>' are not in the corpus, so they are unknown (the
                  <unk> prefix SiglipTokenizer encodes in front of each text ends in an unknown piece)
  identity.model  identity normalization (no precompiled charsmap), byte fallback, user-defined symbols
                  "nyc" and "☃", no extra-whitespace removal, 600 pieces
  nfkc_cf.model   nmt_nfkc_cf (case folding in the charsmap), '<' and '>' known, 600 pieces; its goldens
                  use do_lower_case=False
  ties.model      identity.model edited: normal pieces scored -1 or -1.5 only (Viterbi ties everywhere,
                  broken as sentencepiece breaks them), every seventh one UNUSED and some USER_DEFINED
                  (scored by length: a user-defined piece beats a normal one of the same span)

A case with a 'repeat' field stands for its text repeated that many times. Texts whose 'hex' field is
set are raw bytes that are not valid UTF-8: the Go tokenizer receives those
bytes, HF receives bytes.decode("utf-8", "replace") (one U+FFFD per maximal ill-formed subpart).

sentencepiece 0.2.3's generated sentencepiece_model_pb2 needs protobuf >= 5; with an older protobuf the
tokenizer's model rewrite (add_dummy_prefix off) goes through transformers' own generated module of the
same proto instead.
"""
import hashlib
import json
import os
import random
import sys

import sentencepiece as spm

try:
    from sentencepiece import sentencepiece_model_pb2  # noqa: F401
except ImportError:
    from transformers.utils import sentencepiece_model_pb2_new

    sys.modules["sentencepiece.sentencepiece_model_pb2"] = sentencepiece_model_pb2_new

from transformers import SiglipTokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "encoder", "tokenizer", "testdata", "sentencepiece")
MAX_LEN = 64

# The seven captions of shared/photos/captions.json.
PHOTO_CAPTIONS = [
    "a smiling astronaut in a white spacesuit with an american flag behind her",
    "a black and white photo of a man standing behind a camera on a tripod",
    "a ginger tabby cat looking to the side",
    "a cup of coffee on a saucer with a spoon seen from above",
    "a black silhouette of a galloping horse",
    "many small galaxies scattered on a black sky",
    "a rocket lifting off from its launch pad with a plume of smoke",
]

SUBJECTS = """man woman child boy girl dog cat horse bird cow sheep elephant giraffe zebra bear
astronaut chef skier surfer cyclist runner player musician painter farmer fisherman tourist student
teacher doctor soldier dancer baby puppy kitten duck goose swan fox deer rabbit squirrel owl eagle
train bus truck car bicycle motorcycle boat airplane helicopter rocket tractor scooter skateboard
kite umbrella bench clock vase bottle cup plate bowl pizza sandwich cake banana apple orange broccoli
carrot laptop keyboard phone television camera tripod guitar piano violin drum book newspaper""".split()
ADJECTIVES = """red blue green yellow white black brown orange purple pink grey golden silver small
large tall short old young happy smiling sleepy wet dry dirty clean shiny wooden metal plastic striped
spotted fluffy crowded empty busy quiet snowy sunny rainy foggy dark bright colorful vintage modern
ancient broken famous tiny huge narrow wide""".split()
VERBS = """standing sitting running walking jumping sleeping eating drinking playing holding carrying
riding driving flying swimming looking waiting reading writing painting cooking climbing surfing
skiing dancing singing crossing watching pulling pushing throwing catching resting""".split()
PLACES = """beach street park field forest kitchen table road river lake mountain city market
station airport harbor garden bridge desert snow grass water sidewalk room office bedroom bathroom
restaurant stadium playground farm zoo museum library church castle tower""".split()
PREPS = "on in near behind under beside above across along through at by with".split()
EXTRA = """café naïve über straße façade jalapeño crème brûlée résumé piñata fiancée São Paulo München
Zürich Kraków Ålesund 東京 写真 猫 犬 山 川 花 😀 🐶 🍕 ❤️ 2024 1999 42 100 3.5 12:30 #1 50%""".split()


def corpus(seed, with_angles):
    rng = random.Random(seed)
    lines = list(PHOTO_CAPTIONS)
    for _ in range(6000):
        n = rng.randint(1, 3)
        parts = []
        for _ in range(n):
            s = f"{rng.choice(['a', 'the', 'two', 'three', 'some', 'an old'])} {rng.choice(ADJECTIVES)} " \
                f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(PREPS)} the {rng.choice(PLACES)}"
            if rng.random() < 0.3:
                s += " " + rng.choice(EXTRA)
            parts.append(s)
        line = ", ".join(parts)
        if rng.random() < 0.5:
            line = line[0].upper() + line[1:] + "."
        if rng.random() < 0.05:
            line = line.upper()
        if with_angles and rng.random() < 0.05:
            line += " <" + rng.choice(SUBJECTS) + ">"
        lines.append(line)
    return lines


MODELS = [
    dict(name="nfkc", seed=1, angles=False, lower=True,
         train=dict(vocab_size=1000, normalization_rule_name="nmt_nfkc")),
    dict(name="identity", seed=2, angles=False, lower=True,
         train=dict(vocab_size=600, normalization_rule_name="identity", byte_fallback=True,
                    user_defined_symbols=["nyc", "☃"], remove_extra_whitespaces=False)),
    dict(name="nfkc_cf", seed=3, angles=True, lower=False,
         train=dict(vocab_size=600, normalization_rule_name="nmt_nfkc_cf")),
]


def train(m):
    spm.set_random_generator_seed(m["seed"])
    path = os.path.join(OUT, m["name"])
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus(m["seed"], m["angles"])), model_prefix=path, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, num_threads=1,
        shuffle_input_sentence=False, hard_vocab_limit=False, minloglevel=2, **m["train"])
    os.remove(path + ".vocab")
    return path + ".model"


def ties_model():
    """identity.model with tied scores and unused pieces."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    with open(os.path.join(OUT, "identity.model"), "rb") as f:
        m.ParseFromString(f.read())
    normal = 0
    for p in m.pieces:
        if p.type != pb.ModelProto.SentencePiece.NORMAL:
            continue
        p.score = -1.0 if normal % 3 else -1.5
        if normal % 7 == 6:
            p.type = pb.ModelProto.SentencePiece.UNUSED
        elif normal % 11 == 5 and len(p.piece) >= 2:
            p.type = pb.ModelProto.SentencePiece.USER_DEFINED
        normal += 1
    path = os.path.join(OUT, "ties.model")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return path


def letters_unit(seed):
    """2,000 letters and spaces, English-like frequencies."""
    rng = random.Random(seed)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    return "".join(" " if rng.random() < 1 / 9 else letters[min(rng.randrange(26), rng.randrange(26))]
                   for _ in range(2000))


# Long texts (text, times): about 100 KB in one part, so that path scores pass sentencepiece's
# renormalization bound. Without the renormalization, the ids of letters_unit(24) x 40 past the
# 17,000th differ for nfkc.model and identity.model.
REPEATS = [("crossingsandwichdancerstationbus", 3000), ("a ginger tabby cat ", 5000), (letters_unit(24), 40)]


def fixed_texts():
    """(text, raw bytes or None) pairs: the hand-picked cases."""
    t = [
        "", " ", "   \t\n  ", "\u3000\u00a0\u2028", "!!!", "?!.,;:", "a photo of a cat",
        "A Photo Of A CAT", "a PHOTO of TWO dogs", "Hello, World!", "hello   world", "  leading and trailing  ",
        "tabs\tand\nnewlines\r\nhere", "a\u00a0non-breaking\u202fspace", "don't stop", "well-known state-of-the-art",
        "café naïve über", "cafe\u0301 (decomposed)", "\u00c5 composed", "A\u030a decomposed", "\u212b angstrom sign",
        "ﬁsh and ﬂowers", "ＦＵＬＬ ｗｉｄｔｈ ｌｅｔｔｅｒｓ", "①②③ circled", "x² and H₂O", "½ cup", "™ ℃ №",
        "東京の写真", "写真猫犬", "猫", "한국어 텍스트", "Ελληνικά ΟΔΟΣ", "İstanbul", "Straße STRASSE", "ǅ ǈ ǋ",
        "русский текст", "emoji 😀🐶🍕 time", "❤️ love", "👨‍👩‍👧 family", "🇫🇷 flag",
        "control\x00chars\x07here", "\x1b[31mred\x1b[0m", "zero\u200bwidth\u200djoin", "bom\ufeffhere",
        "soft\u00adhyphen", "digits 0123456789", "12:30 on 2024-01-01", "3.14159 and 2,718", "#1 50% $5 @home",
        "▁", "▁▁▁", "a▁b", "▁hello", "hello▁", "under_score", "</s>", "</s></s>", "hello </s>", "</s> hello",
        "a </s> b", "hello</s>world", "<unk>", "x <unk> y", "<unk>猫", "<pad>", "a <pad> b", "</S> upper",
        "<UNK>", "<s>", "<|endoftext|>", "[CLS] [SEP]", "<cat>", "a < b > c", ">猫", "猫 </s> 猫",
        "\u263a snowman \u2603 nyc NYC", "nycnyc ☃☃", "q", "zzzz xyzzy", "ΣΑΣ", "ﬀ ﬃ ﬄ ﬅ ﬆ",
        "Ⅻ ⅻ ㍿ ㌀", "ｶﾀｶﾅ half-width", "\u0301leading combining", "e\u0301\u0302\u0303 stacked",
        "≯ not greater", ">\u0338", "\ufffd replacement", "\U0001d400 math bold", "\ue000 private use",
        "wow" * 30, " ".join(["word"] * 80), "a photo of " * 20,
        # ties.model segments these differently when path scores are summed in double precision
        "violin RABBIT \U0006feaf", "guitar golden \uffb1 stra\u00dfe truck",
        "bright orange sleepy M\u00fcnchen \u259f goose ... garden DARK \u06a4",
        "DOG ! orange \uff7b  WOODEN ... \u2581 ' \u22e2  photo  \U000187ed",
    ]
    out = [(s, None) for s in t]
    for b in [b"caf\xe9", b"\xff\xfe", b"ok\xe2\x82", b"\xe2\x82ok", b"\xf0\x9f\x98", b"\xf0\x80\x80\x80",
              b"\xed\xa0\x80 surrogate", b"\xc0\xaf overlong", b"\xf4\x90\x80\x80 too big",
              b"a\x80b\xbfc", b"\xe0\x9f\x80", b"valid \xc3\xa9 then \xc3"]:
        out.append((b.decode("utf-8", "replace"), b))
    return out


ALPHABET = list("aeiou tnsrlcdhmpy ABCXYZ ") + [
    "\t", "\n", "\u3000", "\u00a0", "▁", "</s>", "<unk>", "<pad>", ".", ",", "!", "'", "-", "<", ">", "_",
    "é", "e\u0301", "Å", "A\u030a", "ﬁ", "Ｆ", "①", "²", "İ", "Σ", "ß", "猫", "写真", "😀", "❤️", "\x00",
    "\x1b", "\u200b", "\ufeff", "1", "42", " the ", " photo ", "nyc", "☃", "\u0338", "ｶ", "\u0301",
]


def random_texts(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24)))
        raw = None
        if rng.random() < 0.1:
            raw = s.encode("utf-8")
            i = rng.randint(0, len(raw))
            raw = raw[:i] + bytes([rng.choice([0x80, 0xbf, 0xc3, 0xe2, 0xed, 0xf0, 0xff])]) + raw[i:]
            s = raw.decode("utf-8", "replace")
        out.append((s, raw))
    return out


def piece_texts(path, n, seed):
    """Texts made of the model's own pieces, half of them user-defined ones, so that these compete."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    with open(path, "rb") as f:
        m.ParseFromString(f.read())
    kind = pb.ModelProto.SentencePiece
    normal = [p.piece.replace("\u2581", " ") for p in m.pieces if p.type in (kind.NORMAL, kind.UNUSED)]
    user = [p.piece.replace("\u2581", " ") for p in m.pieces if p.type == kind.USER_DEFINED]
    rng = random.Random(seed)
    return [("".join(rng.choice(user if user and rng.random() < 0.5 else normal) for _ in range(rng.randint(1, 8))), None)
            for _ in range(n)]


def eos_at_limit(tok):
    """A text whose 63rd token is </s>: truncation keeps it last and adds no second </s>."""
    for n in range(1, MAX_LEN * 2):
        text = "cat " * n + "</s> dog dog dog dog"
        if len(tok.tokenize(text)) > MAX_LEN and tok.tokenize(text)[MAX_LEN - 2] == "</s>":
            return text
    raise SystemExit("no text puts </s> at the truncation point")


def main():
    os.makedirs(OUT, exist_ok=True)
    doc = {
        "about": "SiglipTokenizer (transformers 4.46.3, slow, sentencepiece 0.2.3) outputs for small unigram "
                 "models; generated by tools/goldens/siglip_tokenizer.py. 'hex', when set, is the raw (invalid "
                 "UTF-8) input; HF was given its decode('utf-8', 'replace'), 'text'. 'repeat', when set, is how many "
                 "times 'text' is repeated to make the input; those cases also have 'all_ids_sha256', the sha256 of "
                 "all the ids of tokenize() (no truncation, no </s>) joined by commas.",
        "max_length": MAX_LEN,
        "models": [],
    }
    for m in MODELS + [dict(name="ties", seed=4, lower=True, train=dict(normalization_rule_name="identity"))]:
        path = train(m) if m["name"] != "ties" else ties_model()
        with open(path, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        tok = SiglipTokenizer(vocab_file=path, model_max_length=MAX_LEN, do_lower_case=m["lower"])
        cases = fixed_texts() + [(eos_at_limit(tok), None)] + random_texts(150, m["seed"] + 100) + \
            piece_texts(path, 60, m["seed"] + 200)
        texts = [c[0] for c in cases] + [t * n for t, n in REPEATS]
        enc = tok(texts, padding="max_length", truncation=True, max_length=MAX_LEN)
        out_cases = []
        for (text, raw), ids, mask in zip(cases + [(t, None) for t, _ in REPEATS], enc["input_ids"],
                                          enc["attention_mask"]):
            c = {"text": text, "ids": ids, "mask": mask}
            if raw is not None:
                c["hex"] = raw.hex()
            out_cases.append(c)
        for c, (t, n) in zip(out_cases[len(cases):], REPEATS):
            c["repeat"] = n
            ids = tok.convert_tokens_to_ids(tok.tokenize(t * n))
            c["all_ids_sha256"] = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
        doc["models"].append({
            "model": os.path.basename(path), "sha256": sha, "normalization": m["train"]["normalization_rule_name"],
            "lower_case": m["lower"], "vocab_size": tok.vocab_size, "eos": tok.eos_token_id,
            "pad": tok.pad_token_id, "unk": tok.unk_token_id, "cases": out_cases,
        })
        print(f"{os.path.basename(path)}: {tok.vocab_size} pieces, {len(out_cases)} cases", file=sys.stderr)
    with open(os.path.join(OUT, "goldens.json"), "w", encoding="utf-8") as f:
        f.write("{\n")
        for k in ("about", "max_length"):
            f.write(f" {json.dumps(k)}: {json.dumps(doc[k], ensure_ascii=False)},\n")
        f.write(' "models": [\n')
        for i, mdoc in enumerate(doc["models"]):
            f.write("  {\n")
            for k, v in mdoc.items():
                if k != "cases":
                    f.write(f"   {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n")
            f.write('   "cases": [\n')
            lines = [json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in mdoc["cases"]]
            f.write(",\n".join("    " + ln for ln in lines) + "\n   ]\n")
            f.write("  }" + ("," if i + 1 < len(doc["models"]) else "") + "\n")
        f.write(" ]\n}\n")


if __name__ == "__main__":
    main()
