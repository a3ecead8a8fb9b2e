package photo

import "bytes"

// Image formats recognised by content.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatGIF  = "gif"
	FormatWebP = "webp"
	FormatBMP  = "bmp"
	FormatTIFF = "tiff"
	FormatHEIF = "heif"
)

// heifBrands are the ftyp brands decoded through libheif (HEVC stills and sequences, the
// generic image brands, AVIF).
var heifBrands = map[string]bool{"heic": true, "heix": true, "hevc": true, "hevx": true,
	"heim": true, "heis": true, "hevm": true, "hevs": true, "mif1": true, "msf1": true,
	"avif": true, "avis": true}

// sniff names the image format of a file from its first bytes (magic numbers, never the
// extension); "" when the content is not a recognised image.
func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return FormatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return FormatGIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return FormatWebP
	case len(b) >= 26 && string(b[:2]) == "BM":
		return FormatBMP
	case bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")):
		return FormatTIFF
	case len(b) >= 12 && string(b[4:8]) == "ftyp" && heifBrands[string(b[8:12])]:
		return FormatHEIF
	}
	return ""
}

// Sniff names the image format of a file from its first bytes ("jpeg", "png", "gif", "webp",
// "bmp", "tiff", "heif"; 32 bytes are enough); "" when they are not a recognised image.
func Sniff(b []byte) string { return sniff(b) }
