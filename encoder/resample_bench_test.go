package encoder

import (
	"image"
	"image/draw"
	"math/rand/v2"
	"testing"
)

// pixelsCase is one benchmarked preprocessing: an image and the preprocessor it goes through.
type pixelsCase struct {
	name string
	img  image.Image
	spec ImageSpec
}

// pixelsCases are the benchmarked preprocessings: bulk indexing's small PNG scenes (opaque NRGBA
// or RGBA) squashed to 80, a JPEG photo (YCbCr 4:2:0) squashed to 80, and a photo through CLIP's
// 224 centre crop, also with OpenAI CLIP's alpha handling (drop_after_resize), opaque and with an
// alpha ramp (which resamples the alpha too).
func pixelsCases() []pixelsCase {
	nrgba := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	draw.Draw(nrgba, nrgba.Rect, benchPhoto(256, 256), image.Point{}, draw.Src)
	ycc := image.NewYCbCr(image.Rect(0, 0, 1024, 768), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i%1024/4 + r.IntN(16))
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(96+r.IntN(64)), uint8(96+r.IntN(64))
	}
	crop := testSpec(ResizeCenterCrop)
	crop.Size = 224
	clip := crop // OpenAI CLIP's loader: alpha dropped after the resize
	clip.Alpha = AlphaDropAfterResize
	translucent := image.NewNRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(translucent, translucent.Rect, benchPhoto(640, 480), image.Point{}, draw.Src)
	for i := 3; i < len(translucent.Pix); i += 4 {
		translucent.Pix[i] = uint8(i / 4 % 640 * 255 / 639) // alpha ramp, left to right
	}
	return []pixelsCase{
		{"nrgba_256_squash80", nrgba, testSpec(ResizeSquash)},
		{"rgba_256_squash80", benchPhoto(256, 256), testSpec(ResizeSquash)},
		{"ycbcr420_1024x768_squash80", ycc, testSpec(ResizeSquash)},
		{"rgba_640x480_crop224", benchPhoto(640, 480), crop},
		{"rgba_640x480_crop224_drop_after_resize", benchPhoto(640, 480), clip},
		{"nrgba_translucent_640x480_crop224_drop_after_resize", translucent, clip},
	}
}

// benchPixels runs pixelsInto on each case.
func benchPixels(b *testing.B, pixelsInto func(p *Preprocessor, dst []float32, img image.Image) error) {
	for _, c := range pixelsCases() {
		b.Run(c.name, func(b *testing.B) {
			p, err := NewPreprocessor(c.spec, ImageOptions{})
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]float32, p.Len())
			b.ReportAllocs()
			for b.Loop() {
				if err := pixelsInto(p, dst, c.img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPixelsInto(b *testing.B) {
	benchPixels(b, (*Preprocessor).PixelsInto)
}
