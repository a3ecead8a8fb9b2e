// Package tokenizer turns text into fixed-length token-id vectors for the
// text encoders used by glimpse.
//
// Two algorithms are provided, each a faithful re-implementation of its
// reference tokenizer, checked against testdata/goldens.json:
//
//   - [WordPiece]: BERT uncased tokenisation (HuggingFace BertTokenizer, i.e.
//     BasicTokenizer followed by WordpieceTokenizer), producing
//     [CLS] … [SEP] followed by [PAD] up to the maximum length.
//   - [BPE]: OpenAI CLIP's byte-level BPE (simple_tokenizer.py), producing
//     <|startoftext|> … <|endoftext|> zero-padded to the context length.
//
// Both implement [Tokenizer]. An [Encoding] always has exactly MaxLen ids and
// an attention mask of the same length (1 for real tokens, 0 for padding), so
// a batch can be handed to an ONNX model as a row-major [B, L] int64 tensor
// via [EncodeBatch]. Over-long input is truncated, never an error.
//
// All tokenizers are immutable after construction (apart from an internal,
// lock-protected cache) and are safe for concurrent use by multiple
// goroutines.
package tokenizer
