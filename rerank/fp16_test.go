package rerank

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestHalfExact(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		bits uint16
	}{
		{"zero", 0, 0},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"largest", 65504, 0x7bff},
		{"overflow", 1e6, 0x7c00},
		{"rounds to inf", 65520, 0x7c00},
		{"smallest normal", 6.103515625e-05, 0x0400},
		{"smallest subnormal", 5.960464477539063e-08, 0x0001},
		{"underflow", 1e-9, 0},
		{"tie to even down", 1 + 1.0/2048, 0x3c00},
		{"tie to even up", 1 + 3.0/2048, 0x3c02},
		{"inf", float32(math.Inf(-1)), 0xfc00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := halfFromFloat(tc.in); got != tc.bits {
				t.Fatalf("halfFromFloat(%v) = %#04x, want %#04x", tc.in, got, tc.bits)
			}
		})
	}
	if h := halfFromFloat(float32(math.NaN())); floatFromHalf(h) == floatFromHalf(h) {
		t.Fatal("NaN did not stay NaN")
	}
}

// Every half value converts to float32 and back unchanged; random floats round within half's
// relative precision (2^-11).
func TestHalfRoundTrip(t *testing.T) {
	for h := range uint32(1 << 16) {
		f := floatFromHalf(uint16(h))
		if f != f { // NaN
			continue
		}
		if back := halfFromFloat(f); back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := float32(r.NormFloat64() * 3)
		g := floatFromHalf(halfFromFloat(f))
		if math.Abs(float64(g-f)) > math.Abs(float64(f))/2048+6e-8 {
			t.Fatalf("%v -> %v", f, g)
		}
	}
}
