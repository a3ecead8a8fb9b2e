// Package hostile makes the crafted files of the attacks the tests perform: decompression bombs
// that are small on disk and expensive to decode. They are generated, never checked in.
package hostile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/bits"
)

// ProgressiveJPEG builds a progressive grayscale JPEG of w x h pixels with scans scans: a DC
// scan, then scans-1 AC scans that each code the whole band as end-of-band runs (the crafted
// file of a decompression bomb: a few bytes per scan, a pass over every block for the decoder).
func ProgressiveJPEG(w, h, scans int) []byte {
	var b bytes.Buffer
	seg := func(marker byte, payload ...byte) {
		b.Write([]byte{0xFF, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)})
		b.Write(payload)
	}
	b.Write([]byte{0xFF, 0xD8})
	q := make([]byte, 65)
	for i := 1; i < 65; i++ {
		q[i] = 1
	}
	seg(0xDB, q...)                                                          // DQT table 0
	seg(0xC2, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 1, 1, 0x11, 0)    // SOF2, one component
	seg(0xC4, append([]byte{0x00, 1}, append(make([]byte, 15), 0x00)...)...) // DHT DC 0: one 1-bit code, category 0
	// DHT AC 0: the 15 end-of-band-run symbols EOBr (r<<4, r = 0..14), 4-bit codes 0..14
	ac := []byte{0x10, 0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for r := range 15 {
		ac = append(ac, byte(r<<4))
	}
	seg(0xC4, ac...)
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	var dc bitWriter
	for range blocks {
		dc.put(0, 1) // DC difference 0
	}
	seg(0xDA, 1, 1, 0x00, 0, 0, 0x00) // SOS: component 1, tables 0/0, Ss 0, Se 0, Ah/Al 0
	b.Write(dc.bytes())
	for range scans - 1 {
		var ac bitWriter
		for left := blocks; left > 0; {
			run := min(left, 1<<15-1)
			r := bits.Len(uint(run)) - 1
			ac.put(uint32(r), 4)        // EOBr: a run of 2^r + r extra bits
			ac.put(uint32(run-1<<r), r) // the extra bits
			left -= run
		}
		seg(0xDA, 1, 1, 0x00, 1, 63, 0x00) // SOS: Ss 1, Se 63, Ah/Al 0
		b.Write(ac.bytes())
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

type bitWriter struct {
	out  []byte
	acc  uint32
	nacc int
}

func (w *bitWriter) put(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (v>>i)&1
		w.nacc++
		if w.nacc == 8 {
			w.out = append(w.out, byte(w.acc))
			if byte(w.acc) == 0xFF {
				w.out = append(w.out, 0) // byte stuffing
			}
			w.acc, w.nacc = 0, 0
		}
	}
}

func (w *bitWriter) bytes() []byte {
	for w.nacc != 0 {
		w.put(1, 1) // pad with ones
	}
	return w.out
}

// PNG16 builds a valid w x h 16-bit RGBA PNG of zeros: a small file (deflate squeezes the
// zeros a thousandfold) that decodes to w x h x 8 bytes.
func PNG16(w, h int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		io.WriteString(c, typ)
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6 // 16 bits, RGBA
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	row := make([]byte, 1+w*8) // filter byte 0, then zeros
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}
