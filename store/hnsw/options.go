package hnsw

import (
	"errors"
	"math"
)

// Quantization selects how vectors are represented during graph traversal.
type Quantization int

const (
	// QuantizeNone traverses with the float32 vectors.
	QuantizeNone Quantization = iota
	// QuantizeInt8 traverses with one byte per dimension (per-dimension
	// min/max scaling learned from the first QuantizeTrain vectors) and
	// re-scores the final candidates with the float32 vectors.
	QuantizeInt8
)

// String returns "none" or "int8".
func (q Quantization) String() string {
	if q == QuantizeInt8 {
		return "int8"
	}
	return "none"
}

// Options configures an Index. Zero fields take the documented defaults.
type Options struct {
	// M is the number of neighbours per node on upper layers; layer 0 holds
	// up to 2*M. Default 16. Higher M: better recall, more memory and
	// slower inserts.
	M int
	// EfConstruction is the candidate-list size while inserting. Default
	// 200. Higher: better graph, slower build.
	EfConstruction int
	// EfSearch is the candidate-list size used when Search gets ef <= 0.
	// Default 64.
	EfSearch int
	// Quantize selects the traversal representation. Default QuantizeNone.
	Quantize Quantization
	// QuantizeTrain is how many vectors (the first slots) train the int8
	// quantiser; until the index holds that many, traversal uses floats.
	// Default 1024.
	QuantizeTrain int
	// ExactBelow: when a filter is estimated (by sampling) to pass fewer
	// ids than this, or the index holds fewer live vectors, Search scans
	// exactly instead of walking the graph. Default 1000.
	ExactBelow int
	// Seed seeds the level generator. Same seed and same inserts give the
	// same graph. Default 1.
	Seed uint64
}

func (o Options) withDefaults() Options {
	if o.M <= 0 {
		o.M = 16
	}
	if o.M < 2 {
		o.M = 2
	}
	if o.M > 127 {
		o.M = 127 // layer-0 count must fit the one-byte count of the node encoding
	}
	if o.EfConstruction <= 0 {
		o.EfConstruction = 200
	}
	if o.EfSearch <= 0 {
		o.EfSearch = 64
	}
	if o.QuantizeTrain <= 0 {
		o.QuantizeTrain = 1024
	}
	if o.ExactBelow <= 0 {
		o.ExactBelow = 1000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

func (o Options) mL() float64 { return 1 / math.Log(float64(o.M)) }

// maxLevels caps node levels; with M=16 a level above 8 needs ~4e9 nodes.
const maxLevels = 16

var (
	// ErrDimension: a vector's length differs from the index dimension.
	ErrDimension = errors.New("hnsw: vector dimension mismatch")
	// ErrBadVector: a vector is zero, NaN or infinite and cannot be normalised.
	ErrBadVector = errors.New("hnsw: vector is zero or not finite")
	// ErrNotFound: the id is not in the index.
	ErrNotFound = errors.New("hnsw: id not found")
	// ErrCorrupt: a persisted node or graph state does not decode or is
	// inconsistent.
	ErrCorrupt = errors.New("hnsw: corrupt graph data")
)
