package indexer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/photo/phototest"

	"github.com/glimpse-search/glimpse/library"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/glimpse-search/glimpse/internal/hostile"
	"github.com/glimpse-search/glimpse/store"
)

// pngHeaderOnly is a PNG whose IHDR claims w x h pixels, with no image data.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	chunk("IHDR", append(ihdr, 8, 2, 0, 0, 0))
	chunk("IEND", nil)
	return b.Bytes()
}

// patchSOF rewrites the frame size in a JPEG's SOF0 to w x h (the scan stays small).
func patchSOF(tb testing.TB, j []byte, w, h uint16) []byte {
	i := bytes.Index(j, []byte{0xFF, 0xC0})
	if i < 0 {
		tb.Fatal("no SOF0")
	}
	out := bytes.Clone(j)
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

// corruptCRC changes the CRC of the first IDAT chunk.
func corruptCRC(tb testing.TB, p []byte) []byte {
	i := bytes.Index(p, []byte("IDAT"))
	if i < 4 {
		tb.Fatal("no IDAT")
	}
	out := bytes.Clone(p)
	out[i+4+int(binary.BigEndian.Uint32(p[i-4:]))] ^= 0xFF
	return out
}

func encodeWith(tb testing.TB, enc func(*bytes.Buffer) error) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := enc(&b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestBadFiles(t *testing.T) {
	src := t.TempDir()
	pic := gradient(64, 48)
	jpg := encodeJPEG(t, pic, 90)
	pngb := encodePNG(t, pic)
	alpha := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range alpha.Pix {
		alpha.Pix[i] = uint8(i)
	}
	grey := image.NewGray(image.Rect(0, 0, 50, 20))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i * 7)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 30, 30), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 200)
	}
	deep := image.NewRGBA64(image.Rect(0, 0, 33, 17))
	for y := range 17 {
		for x := range 33 {
			deep.SetRGBA64(x, y, color.RGBA64{uint16(x * 1900), uint16(y * 3800), 40000, 65535})
		}
	}
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "images", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name   string
		file   string
		make   func(path string) // writes the file at path
		status Status
		reason string // substring of the reason
		w, h   int    // stored size when indexed
	}{
		{"jpeg", "a.jpg", func(p string) { writeFile(t, p, jpg) }, StatusIndexed, "", 64, 48},
		{"png", "a.png", func(p string) { writeFile(t, p, pngb) }, StatusIndexed, "", 64, 48},
		{"wrong extension", "png-named.jpg", func(p string) { writeFile(t, p, encodePNG(t, gradient(20, 10))) }, StatusIndexed, "", 20, 10},
		{"no extension", "jpeg-noext", func(p string) { writeFile(t, p, encodeJPEG(t, gradient(21, 11), 80)) }, StatusIndexed, "", 21, 11},
		{"grey png", "grey.png", func(p string) { writeFile(t, p, encodePNG(t, grey)) }, StatusIndexed, "", 50, 20},
		{"grey jpeg", "grey.jpg", func(p string) { writeFile(t, p, encodeJPEG(t, grey, 90)) }, StatusIndexed, "", 50, 20},
		{"palette png", "pal.png", func(p string) { writeFile(t, p, encodePNG(t, pal)) }, StatusIndexed, "", 30, 30},
		{"alpha png", "alpha.png", func(p string) { writeFile(t, p, encodePNG(t, alpha)) }, StatusIndexed, "", 40, 30},
		{"16-bit png", "deep.png", func(p string) { writeFile(t, p, encodePNG(t, deep)) }, StatusIndexed, "", 33, 17},
		{"1x1", "dot.png", func(p string) { writeFile(t, p, encodePNG(t, gradient(1, 1))) }, StatusIndexed, "", 1, 1},
		{"gif", "a.gif", func(p string) {
			writeFile(t, p, encodeWith(t, func(b *bytes.Buffer) error { return gif.Encode(b, pal, nil) }))
		}, StatusIndexed, "", 30, 30},
		{"bmp", "a.bmp", func(p string) {
			writeFile(t, p, encodeWith(t, func(b *bytes.Buffer) error { return bmp.Encode(b, gradient(23, 9)) }))
		}, StatusIndexed, "", 23, 9},
		{"tiff", "a.tif", func(p string) {
			writeFile(t, p, encodeWith(t, func(b *bytes.Buffer) error { return tiff.Encode(b, gradient(19, 13), nil) }))
		}, StatusIndexed, "", 19, 13},
		{"cmyk jpeg", "cmyk.jpg", func(p string) { writeFile(t, p, fixture("cmyk.jpg")) }, StatusIndexed, "", 96, 64},
		{"heic", "photo.heic", func(p string) { writeFile(t, p, fixture("sample.heic")) }, StatusIndexed, "", 96, 64},
		{"zero bytes", "empty.jpg", func(p string) { writeFile(t, p, nil) }, StatusSkipped, "empty file", 0, 0},
		{"text", "notes.png", func(p string) { writeFile(t, p, []byte("not a picture\n")) }, StatusSkipped, "not an image", 0, 0},
		{"truncated jpeg", "cut.jpg", func(p string) { writeFile(t, p, jpg[:len(jpg)*6/10]) }, StatusFailed, "decode", 0, 0},
		{"truncated png", "cut.png", func(p string) { writeFile(t, p, pngb[:len(pngb)/2]) }, StatusFailed, "decode", 0, 0},
		{"bad png crc", "crc.png", func(p string) { writeFile(t, p, corruptCRC(t, pngb)) }, StatusFailed, "checksum", 0, 0},
		{"huge png header", "huge.png", func(p string) { writeFile(t, p, pngHeaderOnly(100_000, 100_000)) }, StatusSkipped, "over the cap", 0, 0},
		{"huge jpeg header", "huge.jpg", func(p string) { writeFile(t, p, patchSOF(t, jpg, 65000, 65000)) }, StatusSkipped, "over the cap", 0, 0},
		{"jpeg scan bomb", "bomb.jpg", func(p string) { writeFile(t, p, hostile.ProgressiveJPEG(4096, 4096, 400)) }, StatusFailed, "scans", 0, 0},
		{"dangling symlink", "gone.jpg", func(p string) {
			if err := os.Symlink(filepath.Join(src, "nowhere.jpg"), p); err != nil {
				t.Fatal(err)
			}
		}, StatusFailed, "unreadable", 0, 0},
		{"fifo", "pipe.jpg", func(p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}, StatusSkipped, "not a regular file", 0, 0},
	}
	for _, c := range cases {
		c.make(filepath.Join(src, c.file))
	}
	lib := testLib(t, "")
	s, res := run(t, lib, Options{Batch: 4}, src)
	want := map[Status]int{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want[c.status]++
			p := filepath.Join(src, c.file)
			r, ok := res[p]
			if !ok {
				t.Fatalf("no outcome for %s", c.file)
			}
			if r.Status != c.status || !strings.Contains(r.Reason, c.reason) {
				t.Fatalf("%s: got %s %q, want %s with %q", c.file, r.Status, r.Reason, c.status, c.reason)
			}
			rec, err := lib.DB().ImageByPath(p)
			if c.status != StatusIndexed {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("%s: record stored for a %s file (err %v)", c.file, c.status, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Width != c.w || rec.Height != c.h {
				t.Errorf("%s: stored %dx%d, want %dx%d", c.file, rec.Width, rec.Height, c.w, c.h)
			}
			if _, err := os.Stat(lib.ThumbPath(rec.SHA256)); err != nil {
				t.Errorf("%s: thumbnail: %v", c.file, err)
			}
		})
	}
	if s.Indexed != want[StatusIndexed] || s.Skipped != want[StatusSkipped] || s.Failed != want[StatusFailed] ||
		s.Found != len(cases) {
		t.Errorf("summary %+v, want %v of %d files", s, want, len(cases))
	}
	if heic, err := lib.DB().ImageByPath(filepath.Join(src, "photo.heic")); err == nil {
		if want := time.Date(2023, 5, 17, 8, 30, 0, 0, time.UTC); !heic.Captured.Equal(want) {
			t.Errorf("heic capture time %v, want %v", heic.Captured, want)
		}
	}
}

func TestSamplePhotos(t *testing.T) {
	src := filepath.Join("..", "encoder", "testdata", "photos")
	lib := testLib(t, "")
	s, res := run(t, lib, Options{}, src)
	if s.Indexed != 7 || s.Failed != 0 {
		t.Fatalf("summary %+v, want 7 indexed: %v", s, res)
	}
	// a rerun finds everything unchanged
	s, _ = run(t, lib, Options{}, src)
	if s.Unchanged != 7 || s.Indexed != 0 {
		t.Fatalf("rerun: %+v, want 7 unchanged", s)
	}
	if n := lib.DB().ImageCount(); n != 7 {
		t.Fatalf("%d records, want 7", n)
	}
}

func TestDuplicateAndChanged(t *testing.T) {
	src := t.TempDir()
	a := encodePNG(t, sceneImage(t, 1, 64))
	writeFile(t, filepath.Join(src, "a.png"), a)
	writeFile(t, filepath.Join(src, "b", "copy.png"), a)
	writeFile(t, filepath.Join(src, "c.png"), encodePNG(t, sceneImage(t, 2, 64)))
	lib := testLib(t, "")
	s, _ := run(t, lib, Options{Batch: 1}, src)
	if s.Indexed != 2 || s.Duplicate != 1 {
		t.Fatalf("summary %+v, want 2 indexed and 1 duplicate", s)
	}
	m, info := testModel(t)
	ix, err := New(lib, m, info, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := lib.DB().ImageCount(); got != 3 {
		t.Errorf("%d images, want 3", got)
	}
	if got := ix.Namespace().Len(); got != 2 {
		t.Errorf("%d embeddings, want 2 (the copy shares one)", got)
	}
	// the same bytes twice in one batch
	dup2 := t.TempDir()
	d := encodePNG(t, sceneImage(t, 3, 64))
	writeFile(t, filepath.Join(dup2, "x.png"), d)
	writeFile(t, filepath.Join(dup2, "y.png"), d)
	s, _ = run(t, lib, Options{Batch: 8}, dup2)
	if s.Indexed != 1 || s.Duplicate != 1 || ix.Namespace().Len() != 3 {
		t.Fatalf("same batch: %+v, %d embeddings; want 1 indexed, 1 duplicate, 3 embeddings", s, ix.Namespace().Len())
	}
	// a changed file is indexed again in place
	p := filepath.Join(src, "c.png")
	writeFile(t, p, encodePNG(t, sceneImage(t, 4, 64)))
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	s, _ = run(t, lib, Options{}, src)
	if s.Indexed != 1 || s.Unchanged != 2 {
		t.Fatalf("after a change: %+v, want 1 indexed, 2 unchanged", s)
	}
	if got := lib.DB().ImageCount(); got != 5 {
		t.Errorf("%d images, want 5", got)
	}
}

func TestRemove(t *testing.T) {
	src := t.TempDir()
	writeScenes(t, filepath.Join(src, "keep"), 0, 2, 48)
	writeScenes(t, filepath.Join(src, "drop"), 10, 3, 48)
	lib := testLib(t, "")
	run(t, lib, Options{}, src)
	one := filepath.Join(src, "keep", "scene-00000.png")
	rec, err := lib.DB().ImageByPath(one)
	if err != nil {
		t.Fatal(err)
	}
	n, missing, err := lib.Remove([]string{filepath.Join(src, "drop"), one, filepath.Join(src, "nothing")})
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 || len(missing) != 1 {
		t.Fatalf("removed %d, missing %v; want 4 and [nothing]", n, missing)
	}
	if got := paths(t, lib.DB()); len(got) != 1 || !strings.HasSuffix(got[0], "scene-00001.png") {
		t.Fatalf("left %v", got)
	}
	if _, err := os.Stat(lib.ThumbPath(rec.SHA256)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("thumbnail of a removed image kept (%v)", err)
	}
}

func app1Exif(orientation uint16, when string) []byte { return phototest.ExifAPP1(orientation, when) }

func TestExifOrientationAndCaptureTime(t *testing.T) {
	src := t.TempDir()
	j := encodeJPEG(t, gradient(40, 20), 90)
	withExif := append(append([]byte{0xFF, 0xD8}, app1Exif(6, "2019:08:24 17:05:09")...), j[2:]...)
	p := writeFile(t, filepath.Join(src, "rotated.jpg"), withExif)
	lib := testLib(t, "")
	s, res := run(t, lib, Options{}, src)
	if s.Indexed != 1 {
		t.Fatalf("%+v %v", s, res)
	}
	rec, err := lib.DB().ImageByPath(p)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Width != 20 || rec.Height != 40 {
		t.Errorf("stored %dx%d, want 20x40 (orientation 6 swaps)", rec.Width, rec.Height)
	}
	if want := time.Date(2019, 8, 24, 17, 5, 9, 0, time.UTC); !rec.Captured.Equal(want) {
		t.Errorf("captured %v, want %v", rec.Captured, want)
	}
}

func TestPixelCap(t *testing.T) {
	src := t.TempDir()
	big := writeFile(t, filepath.Join(src, "big.jpg"), encodeJPEG(t, gradient(60, 50), 80))
	small := writeFile(t, filepath.Join(src, "small.png"), encodePNG(t, gradient(20, 20)))
	lib := testLib(t, "")
	s, res := run(t, lib, Options{MaxPixels: 1000}, src)
	if s.Indexed != 1 || s.Skipped != 1 {
		t.Fatalf("%+v", s)
	}
	if r := res[big]; r.Status != StatusSkipped || !strings.Contains(r.Reason, "3000 pixels, over the cap of 1000") {
		t.Errorf("big: %+v", r)
	}
	if res[small].Status != StatusIndexed {
		t.Errorf("small: %+v", res[small])
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, library.DBFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = library.Open(dir, library.Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, library.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("got %v, want library.ErrLocked naming %s", err, dir)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestWalkSkipsHiddenAndLoops(t *testing.T) {
	src := t.TempDir()
	writeScenes(t, src, 0, 1, 32)
	writeScenes(t, filepath.Join(src, ".hidden"), 1, 1, 32)
	writeScenes(t, filepath.Join(src, "@eaDir"), 2, 1, 32)
	writeScenes(t, filepath.Join(src, "sub"), 3, 1, 32)
	writeFile(t, filepath.Join(src, ".dot.png"), encodePNG(t, gradient(8, 8)))
	if err := os.Symlink(src, filepath.Join(src, "sub", "loop")); err != nil { // sub/loop -> src
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(src, "sub"), filepath.Join(src, "alias")); err != nil {
		t.Fatal(err)
	}
	lib := testLib(t, filepath.Join(src, "glimpse-data")) // never indexes its own thumbnails
	for range 2 {
		done := make(chan struct{})
		var s Summary
		go func() {
			defer close(done)
			s, _ = run(t, lib, Options{}, src)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("walk does not end (symlink loop?)")
		}
		if s.Found != 2 || s.Indexed+s.Unchanged != 2 {
			t.Fatalf("%+v; want the two visible scenes only", s)
		}
	}
	if got := paths(t, lib.DB()); len(got) != 2 {
		t.Fatalf("stored %v", got)
	}
}

// failingCatalog fails AddImages: a store failure stops the run with its error.
type failingCatalog struct{ Catalog }

func (failingCatalog) AddImages([]store.NewImage) error { return errors.New("disk full") }

func TestCatalogFailureStops(t *testing.T) {
	src := t.TempDir()
	writeScenes(t, src, 0, 5, 32)
	lib := testLib(t, "")
	m, info := testModel(t)
	ix, err := New(lib, m, info, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	ix.cat = failingCatalog{ix.cat}
	s, err := ix.Add(context.Background(), []string{src})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v, want the catalog's error", err)
	}
	if s.Indexed != 0 || s.NotProcessed == 0 || s.Done()+s.NotProcessed < 5 {
		t.Fatalf("summary %+v: the files the failure left must be counted as not processed", s)
	}
}

func TestCancelStopsAfterBatch(t *testing.T) {
	src := t.TempDir()
	writeScenes(t, src, 0, 40, 32)
	lib := testLib(t, "")
	m, info := testModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	ix, err := New(lib, m, info, Options{Batch: 4, Workers: 1, OnFile: func(r FileResult) {
		if n++; n == 6 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ix.Add(ctx, []string{src})
	if !errors.Is(err, context.Canceled) || !s.Interrupted {
		t.Fatalf("got %v %+v, want an interrupted run", err, s)
	}
	if got := lib.DB().ImageCount(); got != s.Indexed || got == 40 || got%4 != 0 {
		t.Fatalf("%d stored, %d reported: want whole batches only, not all 40", got, s.Indexed)
	}
	s, _ = run(t, lib, Options{}, src)
	if s.Indexed+s.Unchanged != 40 || lib.DB().ImageCount() != 40 {
		t.Fatalf("rerun %+v, %d stored", s, lib.DB().ImageCount())
	}
}

// TestPanicIsTheFilesFailure: a panic while reading one file (a decoder bug met on a crafted
// photo) fails that file and the run goes on.
func TestPanicIsTheFilesFailure(t *testing.T) {
	src := t.TempDir()
	for i, name := range []string{"a.png", "boom.png", "c.png"} {
		writeFile(t, filepath.Join(src, name), encodePNG(t, sceneImage(t, i+1, 64)))
	}
	prepareHook = func(p string) {
		if filepath.Base(p) == "boom.png" {
			panic("injected decoder bug")
		}
	}
	defer func() { prepareHook = nil }()
	s, res := run(t, testLib(t, ""), Options{}, src)
	if s.Indexed != 2 || s.Failed != 1 {
		t.Fatalf("summary %+v, want 2 indexed and 1 failed", s)
	}
	r := res[filepath.Join(src, "boom.png")]
	if r.Status != StatusFailed || !strings.Contains(r.Reason, "panic") {
		t.Fatalf("boom.png: %+v", r)
	}
}

// TestChangedSameSize: an edit that keeps the file's size (a photo re-saved with the same
// encoder settings, a flipped pixel) is caught by the modification time alone.
func TestChangedSameSize(t *testing.T) {
	src := t.TempDir()
	p := filepath.Join(src, "a.bmp") // BMP: the size depends only on the dimensions
	enc := func(i int) []byte {
		return encodeWith(t, func(b *bytes.Buffer) error { return bmp.Encode(b, sceneImage(t, i, 64)) })
	}
	writeFile(t, p, enc(1))
	lib := testLib(t, "")
	if s, _ := run(t, lib, Options{}, src); s.Indexed != 1 {
		t.Fatalf("first run %+v", s)
	}
	before, err := lib.DB().ImageByPath(p)
	if err != nil {
		t.Fatal(err)
	}
	other := enc(2)
	if int64(len(other)) != before.Size {
		t.Fatalf("the edit changes the size (%d -> %d): the test needs the same size", before.Size, len(other))
	}
	writeFile(t, p, other)
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	if s, _ := run(t, lib, Options{}, src); s.Indexed != 1 || s.Unchanged != 0 {
		t.Fatalf("after a same-size edit: %+v, want it indexed again", s)
	}
	after, err := lib.DB().ImageByPath(p)
	if err != nil {
		t.Fatal(err)
	}
	if after.SHA256 == before.SHA256 {
		t.Fatal("the stored content hash did not change")
	}
}

// TestThumbnailRepaired: an unchanged file whose thumbnail is empty (a crash left it so) or
// gone gets it made again by the next run.
func TestThumbnailRepaired(t *testing.T) {
	src := t.TempDir()
	p := filepath.Join(src, "a.png")
	writeFile(t, p, encodePNG(t, sceneImage(t, 1, 64)))
	lib := testLib(t, "")
	run(t, lib, Options{}, src)
	rec, err := lib.DB().ImageByPath(p)
	if err != nil {
		t.Fatal(err)
	}
	thumb := lib.ThumbPath(rec.SHA256)
	for _, damage := range []func(){
		func() { writeFile(t, thumb, nil) },
		func() { os.Remove(thumb) },
	} {
		damage()
		if s, _ := run(t, lib, Options{}, src); s.Unchanged != 1 {
			t.Fatalf("rerun %+v, want unchanged", s)
		}
		st, err := os.Stat(thumb)
		if err != nil || st.Size() == 0 {
			t.Fatalf("thumbnail not repaired: %v %v", st, err)
		}
	}
}
