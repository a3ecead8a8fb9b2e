package photo

import (
	"encoding/binary"
	"time"
)

// EXIF tags read here.
const (
	tagOrientation       = 0x0112
	tagExifIFD           = 0x8769
	tagDateTimeOriginal  = 0x9003
	tagDateTimeDigitized = 0x9004
	tagOffsetTimeOrig    = 0x9011
)

// exifSegments calls each with the TIFF structure of every Exif APP1 segment of a JPEG, in
// order, until it returns false. Only the markers before the first scan are examined; every
// offset is bounds-checked, so any input is safe.
func exifSegments(b []byte, each func(tiff []byte) bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD8 || m >= 0xD0 && m <= 0xD7 || m == 0x01: // no length
			i += 2
			continue
		case m == 0xDA || m == 0xD9: // start of scan, end of image
			return
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return
		}
		seg := b[i+4 : i+2+n]
		if m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" && !each(seg[6:]) {
			return
		}
		i += 2 + n
	}
}

// JPEGExif returns the TIFF structure of a JPEG's first non-empty Exif APP1 segment, or nil.
func JPEGExif(b []byte) []byte {
	var out []byte
	exifSegments(b, func(t []byte) bool {
		if len(t) > 0 {
			out = t
		}
		return out == nil
	})
	return out
}

// Orientation returns the EXIF orientation (1..8) of a JPEG file, or 1 when the file has none
// or it cannot be read.
func Orientation(jpeg []byte) int {
	o := 0
	exifSegments(jpeg, func(t []byte) bool {
		o = tiffOrientation(t)
		return o == 0
	})
	if o == 0 {
		return 1
	}
	return o
}

// tiffOrientation reads the orientation tag from IFD0 of a TIFF structure; 0 when absent or
// invalid.
func tiffOrientation(t []byte) int {
	bo, ifd0, ok := tiffHeader(t)
	if !ok {
		return 0
	}
	e, ok := ifdEntry(t, bo, ifd0, tagOrientation)
	if !ok || bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) != 1 { // SHORT, one value, in the entry
		return 0
	}
	if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
		return v
	}
	return 0
}

// CaptureTime returns DateTimeOriginal (else DateTimeDigitized) from a TIFF/Exif structure.
// EXIF times carry no zone: with OffsetTimeOriginal the time is placed in that zone,
// otherwise it is read as UTC (the wall-clock time the camera showed). Zero when absent or
// unparsable.
func CaptureTime(t []byte) time.Time {
	bo, ifd0, ok := tiffHeader(t)
	if !ok {
		return time.Time{}
	}
	sub, ok := ifdLong(t, bo, ifd0, tagExifIFD)
	if !ok {
		return time.Time{}
	}
	raw := ifdASCII(t, bo, sub, tagDateTimeOriginal)
	if raw == "" {
		raw = ifdASCII(t, bo, sub, tagDateTimeDigitized)
	}
	loc := time.UTC
	if off := ifdASCII(t, bo, sub, tagOffsetTimeOrig); len(off) == 6 {
		if z, err := time.Parse("-07:00", off); err == nil {
			_, secs := z.Zone()
			loc = time.FixedZone(off, secs)
		}
	}
	ts, err := time.ParseInLocation("2006:01:02 15:04:05", raw, loc)
	if err != nil || ts.Year() < 1800 {
		return time.Time{}
	}
	return ts
}

func tiffHeader(t []byte) (binary.ByteOrder, int64, bool) {
	if len(t) < 8 {
		return nil, 0, false
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return nil, 0, false
	}
	return bo, int64(bo.Uint32(t[4:])), true
}

// ifdEntry returns the offset of the 12-byte entry for tag in the IFD at off.
func ifdEntry(t []byte, bo binary.ByteOrder, off int64, tag uint16) (int64, bool) {
	if off < 8 || off+2 > int64(len(t)) {
		return 0, false
	}
	count := int64(bo.Uint16(t[off:]))
	for k := range count {
		e := off + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 0, false
		}
		if bo.Uint16(t[e:]) == tag {
			return e, true
		}
	}
	return 0, false
}

func ifdLong(t []byte, bo binary.ByteOrder, off int64, tag uint16) (int64, bool) {
	e, ok := ifdEntry(t, bo, off, tag)
	if !ok || bo.Uint16(t[e+2:]) != 4 || bo.Uint32(t[e+4:]) != 1 { // LONG, one value
		return 0, false
	}
	return int64(bo.Uint32(t[e+8:])), true
}

func ifdASCII(t []byte, bo binary.ByteOrder, off int64, tag uint16) string {
	e, ok := ifdEntry(t, bo, off, tag)
	if !ok || bo.Uint16(t[e+2:]) != 2 { // ASCII
		return ""
	}
	n := int64(bo.Uint32(t[e+4:]))
	start := e + 8
	if n > 4 {
		start = int64(bo.Uint32(t[e+8:]))
	}
	if n <= 0 || n > 64 || start < 0 || start+n > int64(len(t)) {
		return ""
	}
	s := t[start : start+n]
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return string(s)
}
