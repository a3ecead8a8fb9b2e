// Package phototest builds the image inputs that the tests of several packages share: EXIF
// segments with a chosen orientation and capture time.
package phototest

import "encoding/binary"

// ExifAPP1 is a JPEG APP1 segment (marker included) holding an Exif TIFF structure with the
// orientation tag and, in its Exif IFD, DateTimeOriginal = when ("2006:01:02 15:04:05").
func ExifAPP1(orientation uint16, when string) []byte {
	le := binary.LittleEndian
	t := []byte("II*\x00")
	t = le.AppendUint32(t, 8)
	// IFD0 at 8: 2 entries, orientation and the Exif IFD pointer; Exif IFD at 38; string at 56
	t = le.AppendUint16(t, 2)
	t = le.AppendUint16(t, 0x0112)
	t = le.AppendUint16(t, 3)
	t = le.AppendUint32(t, 1)
	t = le.AppendUint16(t, orientation)
	t = le.AppendUint16(t, 0)
	t = le.AppendUint16(t, 0x8769) // the Exif IFD
	t = le.AppendUint16(t, 4)
	t = le.AppendUint32(t, 1)
	t = le.AppendUint32(t, 38)
	t = le.AppendUint32(t, 0)
	t = le.AppendUint16(t, 1)
	t = le.AppendUint16(t, 0x9003) // DateTimeOriginal
	t = le.AppendUint16(t, 2)
	t = le.AppendUint32(t, uint32(len(when)+1))
	t = le.AppendUint32(t, 56)
	t = le.AppendUint32(t, 0)
	t = append(t, when...)
	t = append(t, 0)
	seg := append([]byte("Exif\x00\x00"), t...)
	return append([]byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
}
