package scene

import (
	"io"
	"testing"
)

func BenchmarkRenderPNG(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		s := NewScene(1, i)
		img, err := Render(s, 256)
		if err != nil {
			b.Fatal(err)
		}
		if err := Encode(io.Discard, img, "png"); err != nil {
			b.Fatal(err)
		}
	}
}
