package scene

import "math/rand/v2"

// RNG streams. Each part of a scene draws from its own stream so that, for
// example, captions can be reproduced from a Scene without replaying the
// layout sampler.
const (
	streamScene      uint64 = 1
	streamCaptions   uint64 = 2
	streamNegatives  uint64 = 3
	streamTwin       uint64 = 4
	streamTwinCaps   uint64 = 5
	streamTwinNegs   uint64 = 6
	streamQueries    uint64 = 7
	streamQueryEdits uint64 = 8
)

// splitmix64 is the finaliser of the SplitMix64 generator, used as a fixed
// 64-bit mixing hash.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// NewRNG returns the generator for one (seed, index, stream) triple. It depends
// on nothing else, so results do not depend on worker scheduling.
func NewRNG(seed uint64, index int, stream uint64) *rand.Rand {
	h := splitmix64(seed)
	h = splitmix64(h ^ uint64(index))
	h = splitmix64(h ^ (stream * 0xd1b54a32d192ed03))
	return rand.New(rand.NewPCG(h, splitmix64(h^0x5851f42d4c957f2d)))
}

// hash3 mixes three values; used for value-noise lattices.
func hash3(a, b, c uint64) uint64 {
	return splitmix64(splitmix64(splitmix64(a)^b) ^ c)
}

// unitFloat maps a hash to [0, 1) using its top 53 bits.
func unitFloat(h uint64) float64 {
	return float64(h>>11) / (1 << 53)
}
