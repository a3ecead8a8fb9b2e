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

// decodeHalves (F16C where the CPU has it) agrees with floatFromHalf on every half value, for
// every length's tail and at unaligned source offsets.
func TestDecodeHalves(t *testing.T) {
	src := make([]byte, 2<<16+1)
	for h := range 1 << 16 {
		src[1+2*h], src[2+2*h] = byte(h), byte(h>>8)
	}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b) }
	check := func(name string, dst []float32, first int) {
		t.Helper()
		for i, got := range dst {
			h := uint16(first + i)
			if want := floatFromHalf(h); !same(got, want) {
				t.Fatalf("%s: half %#04x -> %#08x, want %#08x", name, h, math.Float32bits(got), math.Float32bits(want))
			}
		}
	}
	for _, f := range []struct {
		name string
		fn   func([]float32, []byte)
	}{{"decodeHalves", decodeHalves}, {"table", decodeHalvesTable}} {
		all := make([]float32, 1<<16)
		f.fn(all, src[1:]) // odd address: unaligned loads
		check(f.name, all, 0)
		for n := range 70 { // every tail length past the 32- and 8-value steps
			dst := make([]float32, n+1)
			dst[n] = 42
			f.fn(dst[:n], src[1+2*1000:])
			check(f.name, dst[:n], 1000)
			if dst[n] != 42 {
				t.Fatalf("%s: n=%d wrote past dst", f.name, n)
			}
		}
	}
	t.Logf("F16C: %v", hasF16C)
}
