// Package tokenizer turns text into fixed-length token-id vectors for the
// text encoders used by glimpse.
//
// Three algorithms are provided, each a faithful re-implementation of its
// reference tokenizer, checked against testdata/goldens.json and
// testdata/sentencepiece/goldens.json:
//
//   - [WordPiece]: BERT uncased tokenisation (HuggingFace BertTokenizer, i.e.
//     BasicTokenizer followed by WordpieceTokenizer), producing
//     [CLS] … [SEP] followed by [PAD] up to the maximum length.
//   - [BPE]: OpenAI CLIP's byte-level BPE (simple_tokenizer.py), producing
//     <|startoftext|> … <|endoftext|> zero-padded to the context length.
//   - [Unigram]: SigLIP's SentencePiece tokenizer (spiece.model).
//
// [HF] reads instead a Hugging Face tokenizers file (tokenizer.json, as the
// ONNX exports of CLIP, SigLIP and BERT-family models on the hub ship it)
// and encodes exactly as the tokenizers package (0.20) does with it:
// added tokens, normalizers, pre-tokenizers, a BPE, WordPiece, WordLevel or
// Unigram model and post-processor, then truncation and padding to the
// model's length. Its Split and Replace patterns are Oniguruma regexes,
// matched by a linear-time engine of the subset tokenizer files use; its
// character classes follow the old Unicode tables tokenizers was built with.
// Components it does not implement are refused when the file is read, never
// approximated. tools/tests/test_hf_tokenizer.py checks it against the
// tokenizers package; testdata/hfjson holds goldens made that way.
//
// All implement [Tokenizer]. An [Encoding] always has exactly MaxLen ids and
// an attention mask of the same length (1 for real tokens, 0 for padding), so
// a batch can be handed to an ONNX model as a row-major [B, L] int64 tensor
// via [EncodeBatch]. Over-long input is truncated, never an error.
//
// All tokenizers are immutable after construction (apart from an internal,
// lock-protected cache) and are safe for concurrent use by multiple
// goroutines.
package tokenizer
