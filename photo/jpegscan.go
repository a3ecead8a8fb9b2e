package photo

import "fmt"

// MaxJPEGScans is the most scans (SOS segments) a JPEG may have before any decoder touches it.
// Every scan of a progressive JPEG makes the decoder pass over the whole coefficient buffer, so
// a small file of hundreds of near-empty scans (each one end-of-band run) costs seconds to
// minutes of CPU: a decompression bomb. Encoders write far fewer: baseline JPEGs have one scan
// per frame, libjpeg's and jpegtran's progressive script 10, mozjpeg's optimised scripts at
// most a few dozen. 100 leaves headroom for all of them while capping a crafted file at a
// fifth of libjpeg-turbo's own TJFLAG_LIMITSCANS (500).
const MaxJPEGScans = 100

// JPEGScans counts the scans of the JPEG in data, stopping once it passes limit (limit < 0:
// never). It walks the marker segments and skips each scan's entropy-coded data, reading no
// pixel; a file that ends early returns what it counted so far (the decoder reports the damage).
func JPEGScans(data []byte, limit int) int {
	n := 0
	i := 0
	if len(data) >= 2 && data[0] == 0xFF && data[1] == 0xD8 {
		i = 2
	}
	for i < len(data) {
		if data[i] != 0xFF {
			i++ // garbage between segments: decoders skip it too
			continue
		}
		for i < len(data) && data[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(data) {
			break
		}
		m := data[i]
		i++
		switch {
		case m == 0xD9: // EOI
			return n
		case m == 0x00 || m == 0x01 || m == 0xD8 || m >= 0xD0 && m <= 0xD7: // no length
			continue
		}
		if i+2 > len(data) {
			break
		}
		l := int(data[i])<<8 | int(data[i+1])
		if l < 2 {
			return n
		}
		i += l
		if m != 0xDA { // not SOS
			continue
		}
		n++
		if limit >= 0 && n > limit {
			return n
		}
		// entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart
		for i+1 < len(data) {
			if data[i] == 0xFF && data[i+1] != 0x00 && !(data[i+1] >= 0xD0 && data[i+1] <= 0xD7) {
				break
			}
			i++
		}
	}
	return n
}

// CheckJPEG is what every JPEG decode path runs first: it refuses a JPEG of more than
// MaxJPEGScans scans (ErrUnsupported) in one pass over the bytes.
func CheckJPEG(data []byte) error {
	if n := JPEGScans(data, MaxJPEGScans); n > MaxJPEGScans {
		return fmt.Errorf("%w: jpeg with more than %d scans (a decompression bomb; encoders write at most a few dozen)",
			ErrUnsupported, MaxJPEGScans)
	}
	return nil
}
