package tokenizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Bounds on an untrusted SentencePiece model file. The real models are far
// below them: SigLIP's spiece.model is under 1 MiB with 32,000 pieces, the
// largest public unigram vocabularies have 256,000.
const (
	spMaxModelBytes = 64 << 20
	spMaxPieces     = 1 << 20
	spMaxPieceBytes = 1 << 10
)

// ErrBadSentencePiece is wrapped by every error about a SentencePiece model
// file that cannot be used (malformed protobuf, inconsistent vocabulary, or
// a model type other than unigram).
var ErrBadSentencePiece = errors.New("tokenizer: bad sentencepiece model")

// spPieceType is ModelProto.SentencePiece.Type.
type spPieceType uint8

const (
	spNormal      spPieceType = 1
	spUnknown     spPieceType = 2
	spControl     spPieceType = 3
	spUserDefined spPieceType = 4
	spUnused      spPieceType = 5
	spByte        spPieceType = 6
)

// spModelUnigram is TrainerSpec.ModelType UNIGRAM, the proto default.
const spModelUnigram = 1

type spPiece struct {
	piece string
	score float32
	typ   spPieceType
}

// spModel is the part of a SentencePiece ModelProto (sentencepiece_model.proto)
// that encoding with a unigram model uses, with the proto2 defaults applied.
type spModel struct {
	pieces []spPiece

	// trainer_spec
	modelType          int32
	byteFallback       bool
	whitespaceAsSuffix bool

	// normalizer_spec
	normName          string
	charsmap          []byte // precompiled_charsmap; empty: no normalization rules
	addDummyPrefix    bool
	removeExtraSpaces bool
	escapeWhitespaces bool
}

// parseSPModel decodes a serialized ModelProto. Unknown fields are skipped,
// repeated occurrences of a non-repeated field follow protobuf's rules (last
// scalar wins, messages merge) and unknown enum values leave the field at its
// previous value, as the C++ parser does. Sizes are bounded by the spMax
// constants.
func parseSPModel(data []byte) (*spModel, error) {
	if len(data) > spMaxModelBytes {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrBadSentencePiece, len(data), spMaxModelBytes)
	}
	m := &spModel{
		modelType:         spModelUnigram,
		addDummyPrefix:    true,
		removeExtraSpaces: true,
		escapeWhitespaces: true,
	}
	r := pbReader{b: data}
	for r.more() {
		field, wire := r.tag()
		switch {
		case field == 1 && wire == pbBytes:
			if len(m.pieces) >= spMaxPieces {
				return nil, fmt.Errorf("%w: more than %d pieces", ErrBadSentencePiece, spMaxPieces)
			}
			p, err := parseSPPiece(r.bytes())
			if err != nil {
				return nil, fmt.Errorf("%w: piece %d: %v", ErrBadSentencePiece, len(m.pieces), err)
			}
			m.pieces = append(m.pieces, p)
		case field == 2 && wire == pbBytes:
			if err := m.parseTrainerSpec(r.bytes()); err != nil {
				return nil, fmt.Errorf("%w: trainer_spec: %v", ErrBadSentencePiece, err)
			}
		case field == 3 && wire == pbBytes:
			if err := m.parseNormalizerSpec(r.bytes()); err != nil {
				return nil, fmt.Errorf("%w: normalizer_spec: %v", ErrBadSentencePiece, err)
			}
		default:
			r.skip(wire)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSentencePiece, r.err)
	}
	return m, nil
}

func parseSPPiece(b []byte) (spPiece, error) {
	p := spPiece{typ: spNormal}
	r := pbReader{b: b}
	for r.more() {
		field, wire := r.tag()
		switch {
		case field == 1 && wire == pbBytes:
			s := r.bytes()
			if len(s) > spMaxPieceBytes {
				return p, fmt.Errorf("%d bytes long (max %d)", len(s), spMaxPieceBytes)
			}
			p.piece = string(s)
		case field == 2 && wire == pbFixed32:
			p.score = math.Float32frombits(r.fixed32())
		case field == 3 && wire == pbVarint:
			if t := r.varint(); t >= uint64(spNormal) && t <= uint64(spByte) {
				p.typ = spPieceType(t)
			}
		default:
			r.skip(wire)
		}
	}
	return p, r.err
}

func (m *spModel) parseTrainerSpec(b []byte) error {
	r := pbReader{b: b}
	for r.more() {
		field, wire := r.tag()
		switch {
		case field == 3 && wire == pbVarint:
			if t := r.varint(); t >= 1 && t <= 4 {
				m.modelType = int32(t)
			}
		case field == 24 && wire == pbVarint:
			m.whitespaceAsSuffix = r.varint() != 0
		case field == 35 && wire == pbVarint:
			m.byteFallback = r.varint() != 0
		default:
			r.skip(wire)
		}
	}
	return r.err
}

func (m *spModel) parseNormalizerSpec(b []byte) error {
	r := pbReader{b: b}
	for r.more() {
		field, wire := r.tag()
		switch {
		case field == 1 && wire == pbBytes:
			m.normName = string(r.bytes())
		case field == 2 && wire == pbBytes:
			m.charsmap = r.bytes()
		case field == 3 && wire == pbVarint:
			m.addDummyPrefix = r.varint() != 0
		case field == 4 && wire == pbVarint:
			m.removeExtraSpaces = r.varint() != 0
		case field == 5 && wire == pbVarint:
			m.escapeWhitespaces = r.varint() != 0
		default:
			r.skip(wire)
		}
	}
	return r.err
}

// byteOfPiece returns b for the piece "<0xBB>" (two upper-case hex digits, as
// sentencepiece's ByteToPiece writes them), or -1.
func byteOfPiece(s string) int {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return -1
	}
	v := 0
	for _, c := range []byte(s[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return -1
		}
	}
	return v
}

// Protobuf wire types.
const (
	pbVarint  = 0
	pbFixed64 = 1
	pbBytes   = 2
	pbFixed32 = 5
)

// pbReader reads protobuf wire format from b. The first error sticks: later
// reads return zero values and more reports false.
type pbReader struct {
	b   []byte
	err error
}

func (r *pbReader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *pbReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
	r.b = nil
}

func (r *pbReader) varint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("malformed varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// tag reads a field key; field 0, field numbers above 2^29-1 and the group
// wire types are errors.
func (r *pbReader) tag() (field int, wire int) {
	k := r.varint()
	if r.err != nil {
		return 0, 0
	}
	field, wire = int(k>>3), int(k&7)
	if k>>3 == 0 || k>>3 > 1<<29-1 {
		r.fail("bad field number %d", k>>3)
		return 0, 0
	}
	switch wire {
	case pbVarint, pbFixed64, pbBytes, pbFixed32:
	default:
		r.fail("unsupported wire type %d (field %d)", wire, field)
		return 0, 0
	}
	return field, wire
}

func (r *pbReader) bytes() []byte {
	n := r.varint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("length %d past the end (%d bytes left)", n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *pbReader) fixed32() uint32 {
	if len(r.b) < 4 {
		r.fail("truncated fixed32")
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *pbReader) skip(wire int) {
	switch wire {
	case pbVarint:
		r.varint()
	case pbFixed64:
		if len(r.b) < 8 {
			r.fail("truncated fixed64")
			return
		}
		r.b = r.b[8:]
	case pbBytes:
		r.bytes()
	case pbFixed32:
		r.fixed32()
	}
}
