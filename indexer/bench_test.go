package indexer

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/photo"

	"github.com/disintegration/imaging"
	"golang.org/x/sync/errgroup"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/lab/scene"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/store"
)

// Benchmark sizes (GLIMPSE_BENCH_SCALE divides them, for a quick trial run).
const (
	benchScenes  = 2000   // 256 px PNG scenes for throughput
	benchBig     = 200    // 4000x3000 JPEGs for decode + preprocess
	benchRSSMany = 20_000 // 128 px scenes for peak memory
	benchRSSFew  = 2_000
)

// envBenchRSS makes the test binary a child that indexes a folder and prints its VmHWM.
const envBenchRSS = "GLIMPSE_INDEXER_BENCH_RSS"

func benchScale() int {
	if n, err := strconv.Atoi(os.Getenv("GLIMPSE_BENCH_SCALE")); err == nil && n > 1 {
		return n
	}
	return 1
}

func generate(tb testing.TB, dir string, n, size, start int) string {
	tb.Helper()
	err := scene.Generate(context.Background(), scene.Options{N: n, Seed: 11, Out: dir, Size: size, Start: start, Negatives: -1})
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(dir, "images")
}

// bigJPEGs writes the sample photos upscaled to 4000x3000 (12 megapixels, quality 90) and
// returns their bytes.
func bigJPEGs(tb testing.TB) [][]byte {
	tb.Helper()
	dir := filepath.Join("..", "encoder", "testdata", "photos")
	names, _ := filepath.Glob(filepath.Join(dir, "*.*g"))
	var out [][]byte
	for _, n := range names {
		img, err := imaging.Open(n)
		if err != nil {
			tb.Fatal(err)
		}
		flat := imaging.Overlay(imaging.New(img.Bounds().Dx(), img.Bounds().Dy(), image.White.C), img, image.Point{}, 1)
		out = append(out, encodeJPEG(tb, imaging.Resize(flat, 4000, 3000, imaging.Linear), 90))
	}
	return out
}

// procStatus returns a KiB field of /proc/self/status ("VmHWM": peak resident set size;
// "RssAnon", "RssFile": current anonymous and file-backed resident memory).
func procStatus(key string) int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == key+":" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// rssChild indexes the folder in os.Getenv(envBenchRSS) with the defaults and prints
// "files VmHWM-KiB".
func rssChild(src string) int {
	data, err := os.MkdirTemp("", "glimpse-rss-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(data)
	lib, err := library.Open(data, library.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer lib.Close()
	info, _ := library.ModelInfo(models.Default())
	m, err := encoder.Open(models.Default(), encoder.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ix, err := New(lib, m, info, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := ix.Add(context.Background(), []string{src})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	dbBytes, _ := lib.DB().FileSize()
	fmt.Printf("%d %d %.1f %d %d %d\n", s.Indexed, procStatus("VmHWM"), s.Elapsed.Seconds(), ms.HeapInuse>>10,
		dbBytes>>10, procStatus("RssFile"))
	return 0
}

// measureRSS runs rssChild on src: files indexed, VmHWM, seconds, Go heap in use after the
// run, the database size and the file-backed resident memory at the end (KiB).
func measureRSS(t *testing.T, src string) (files, kib int, sec float64, heapKiB, dbKiB, fileKiB int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envBenchRSS+"="+src)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rss child: %v", err)
	}
	if _, err := fmt.Sscan(string(out), &files, &kib, &sec, &heapKiB, &dbKiB, &fileKiB); err != nil {
		t.Fatalf("rss child printed %q", out)
	}
	return files, kib, sec, heapKiB, dbKiB, fileKiB
}

// throughput measures `indexer add` on nScenes generated 256 px scenes against the vision
// encoder alone on the same preprocessed batches, each in two configurations: one encoder run at
// a time on ONNX Runtime's default threads (one per core), and one run per core at once, each on
// one thread (`indexer add --threads 1 --encoders N`). The ratio takes the faster of each. It
// adds the figures to fig and the rows to the table.
func throughput(t *testing.T, bundle fs.FS, info store.ModelInfo, nScenes int, tmp string, fig map[string]any,
	row func(string, float64, string)) {
	src := generate(t, filepath.Join(tmp, "scenes"), nScenes, 256, 0)
	full, err := encoder.Open(bundle, encoder.Options{}) // default threads
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	single, err := encoder.Open(bundle, encoder.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	cores := runtime.NumCPU()
	indexRun := func(m *encoder.Model, o Options) float64 {
		lib, err := library.Open(t.TempDir(), library.Options{}) // fsync on every batch, as `indexer add`
		if err != nil {
			t.Fatal(err)
		}
		defer lib.Close()
		ix, err := New(lib, m, info, o)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ix.Add(context.Background(), []string{src})
		if err != nil || s.Indexed != nScenes {
			t.Fatalf("index %+v: %+v %v", o, s, err)
		}
		return float64(s.Indexed) / s.Elapsed.Seconds()
	}
	indexShared := indexRun(full, Options{})
	indexPerCore := indexRun(single, Options{Encoders: cores})
	noThumbRate := indexRun(single, Options{Encoders: cores, ThumbSize: -1})
	pre := full.Preprocessor()
	pix := make([]float32, 0, nScenes*pre.Len())
	files, _ := filepath.Glob(filepath.Join(src, "*.png"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		img, err := photo.Decode(b, photo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := pre.Pixels(img)
		pix = append(pix, p...)
	}
	encodeAll := func(m *encoder.Model, parallel int) float64 {
		per := DefaultBatch * pre.Len()
		next := make(chan int)
		var g errgroup.Group
		start := time.Now()
		for range parallel {
			g.Go(func() error {
				for i := range next {
					if _, err := m.Vision.EncodePixels(context.Background(), pix[i:min(i+per, len(pix))], encoder.VisionOptions{}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		for i := 0; i < len(pix); i += per {
			next <- i
		}
		close(next)
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		return float64(len(files)) / time.Since(start).Seconds()
	}
	encShared := encodeAll(full, 1)
	encPerCore := encodeAll(single, cores)
	indexRate, encRate := max(indexShared, indexPerCore), max(encShared, encPerCore)
	fig["index_images_per_s"] = roundTo(indexRate, 3)
	fig["index_shared_threads_images_per_s"] = roundTo(indexShared, 3)
	fig["index_encoder_per_core_images_per_s"] = roundTo(indexPerCore, 3)
	fig["encoder_images_per_s"] = roundTo(encRate, 3)
	fig["encoder_shared_threads_images_per_s"] = roundTo(encShared, 3)
	fig["encoder_per_core_images_per_s"] = roundTo(encPerCore, 3)
	fig["index_to_encoder_ratio"] = roundTo(indexRate/encRate, 3)
	fig["index_no_thumbs_images_per_s"] = roundTo(noThumbRate, 3)
	row(fmt.Sprintf("indexer add, %d scenes 256 px PNG, batch %d, one run at a time, default threads", nScenes, DefaultBatch), indexShared, "images/s")
	row(fmt.Sprintf("indexer add, same, %d runs at once of 1 thread (the default)", cores), indexPerCore, "images/s")
	row("indexer add, same, without thumbnails", noThumbRate, "images/s")
	row("vision encoder alone, same preprocessed batches, one run at a time", encShared, "images/s")
	row(fmt.Sprintf("vision encoder alone, %d runs at once of 1 thread", cores), encPerCore, "images/s")
	row("ratio indexer / encoder (the faster of each)", indexRate/encRate, "")

}

// TestBenchReport measures the indexer (`make bench-index`): throughput on generated scenes
// against the encoder alone, 12-megapixel JPEG decode + preprocess (libjpeg-turbo scaled vs
// image/jpeg full decode), the embedding cosine between the two decodes on the sample
// photos, and the peak RSS of indexing 2,000 and 20,000 small scenes. It prints a table and,
// last, one JSON object. It runs only with GLIMPSE_BENCH=1.
func TestBenchReport(t *testing.T) {
	if os.Getenv("GLIMPSE_BENCH") != "1" {
		t.Skip("set GLIMPSE_BENCH=1 to run the indexer benchmark report")
	}
	scale := benchScale()
	m, info := testModel(t)
	fig := map[string]any{"model": info.Name, "embedding_dim": info.Dim, "cpus": runtime.NumCPU()}
	rep := newBenchReport()
	row := rep.row
	tmp := t.TempDir()

	// (1) throughput on 256 px scenes against the encoder alone
	throughput(t, models.Default(), info, benchScenes/scale, tmp, fig, row)
	pre := m.Preprocessor()

	// (2) 12-megapixel JPEGs: decode + preprocess per image
	big := bigJPEGs(t)
	nBig := benchBig / scale
	lib, err := library.Open(t.TempDir(), library.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	scaled, _ := New(lib, m, info, Options{})
	dst := make([]float32, pre.Len())
	timeIt := func(fn func(b []byte) image.Image) float64 {
		start := time.Now()
		for i := range nBig {
			if err := pre.PixelsInto(dst, fn(big[i%len(big)])); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(start).Seconds() * 1e3 / float64(nBig)
	}
	oursMS := timeIt(func(b []byte) image.Image {
		d, err := scaled.decode(b, photo.FormatJPEG, true)
		if err != nil {
			t.Fatal(err)
		}
		return d.img
	})
	stdMS := timeIt(func(b []byte) image.Image {
		img, err := photo.Decode(b, photo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return img
	})
	fig["jpeg12mp_ms_turbojpeg_scaled"] = roundTo(oursMS, 3)
	fig["jpeg12mp_ms_imagejpeg_full"] = roundTo(stdMS, 3)
	fig["jpeg12mp_speedup"] = roundTo(stdMS/oursMS, 3)
	row(fmt.Sprintf("decode+preprocess 4000x3000 JPEG q90 (%d files), turbojpeg scaled", nBig), oursMS, "ms/image")
	row("decode+preprocess 4000x3000 JPEG q90, image/jpeg full decode", stdMS, "ms/image")
	row("speed-up", stdMS/oursMS, "x")

	// embedding cosine, full vs scaled decode, on the sample JPEGs and their 12 MP versions
	fullDec, _ := New(lib, m, info, Options{FullDecode: true})
	var inputs [][]byte
	for _, n := range []string{"rocket.jpg", "hubble_deep_field.jpg"} {
		b, _ := os.ReadFile(filepath.Join("..", "encoder", "testdata", "photos", n))
		inputs = append(inputs, b)
	}
	inputs = append(inputs, big...)
	minCos, sumCos := 1.0, 0.0
	for _, b := range inputs {
		a, err1 := fullDec.decode(b, photo.FormatJPEG, true)
		c, err2 := scaled.decode(b, photo.FormatJPEG, true)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		pa, _ := pre.Pixels(a.img)
		pc, _ := pre.Pixels(c.img)
		out, err := m.Vision.EncodePixels(context.Background(), append(pa, pc...), encoder.VisionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cos := cosine(out.Embeds[0], out.Embeds[1])
		minCos, sumCos = min(minCos, cos), sumCos+cos
	}
	fig["scaled_vs_full_embedding_cosine_min"] = roundTo(minCos, 6)
	fig["scaled_vs_full_embedding_cosine_mean"] = roundTo(sumCos/float64(len(inputs)), 6)
	row(fmt.Sprintf("embedding cosine full vs scaled decode, min of %d JPEGs", len(inputs)), minCos, "")

	// (3) peak RSS of indexing many small scenes, in child processes
	many, few := benchRSSMany/scale, benchRSSFew/scale
	root := filepath.Join(tmp, "rss")
	for k := 0; k < many/few; k++ {
		generate(t, filepath.Join(root, strconv.Itoa(k)), few, 128, k*few)
	}
	nf, kibFew, _, heapFew, dbFew, fileFew := measureRSS(t, filepath.Join(root, "0"))
	nm, kibMany, secMany, heapMany, dbMany, fileMany := measureRSS(t, root)
	fig["rss_peak_mib_few"] = roundTo(float64(kibFew)/1024, 3)
	fig["rss_peak_mib_many"] = roundTo(float64(kibMany)/1024, 3)
	fig["rss_files_few"], fig["rss_files_many"] = nf, nm
	fig["rss_many_images_per_s"] = roundTo(float64(nm)/secMany, 3)
	row(fmt.Sprintf("peak RSS (VmHWM), indexing %d scenes 128 px", nf), float64(kibFew)/1024, "MiB")
	row(fmt.Sprintf("peak RSS (VmHWM), indexing %d scenes 128 px", nm), float64(kibMany)/1024, "MiB")
	row(fmt.Sprintf("throughput of the %d-scene run", nm), float64(nm)/secMany, "images/s")
	fig["rss_heap_after_mib_few"] = roundTo(float64(heapFew)/1024, 3)
	fig["rss_heap_after_mib_many"] = roundTo(float64(heapMany)/1024, 3)
	fig["rss_db_mib_few"] = roundTo(float64(dbFew)/1024, 3)
	fig["rss_db_mib_many"] = roundTo(float64(dbMany)/1024, 3)
	row(fmt.Sprintf("Go heap in use after the run (store tables + HNSW), %d / %d scenes", nf, nm),
		float64(heapMany-heapFew)/1024, "MiB more")
	row(fmt.Sprintf("database file (mmapped by bbolt), %d / %d scenes", nf, nm), float64(dbMany-dbFew)/1024, "MiB more")
	row(fmt.Sprintf("file-backed resident memory at the end, %d / %d scenes", nf, nm), float64(fileMany-fileFew)/1024, "MiB more")
	fig["rss_file_mib_few"] = roundTo(float64(fileFew)/1024, 3)
	fig["rss_file_mib_many"] = roundTo(float64(fileMany)/1024, 3)
	rep.print(t, fig)
}

// benchReport is a benchmark's table of figures, printed before its JSON object.
type benchReport struct {
	tab strings.Builder
	tw  *tabwriter.Writer
}

func newBenchReport() *benchReport {
	r := &benchReport{}
	r.tw = tabwriter.NewWriter(&r.tab, 2, 4, 2, ' ', 0)
	return r
}

// row adds a line to the table.
func (r *benchReport) row(what string, v float64, unit string) {
	fmt.Fprintf(r.tw, "%s\t%.4g\t%s\t\n", what, v, unit)
}

// print writes the table, then fig as one JSON object on the last line.
func (r *benchReport) print(t *testing.T, fig map[string]any) {
	r.tw.Flush()
	out, err := json.Marshal(fig)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Print(r.tab.String())
	fmt.Println(string(out))
}

func roundTo(v float64, sig int) float64 {
	var f float64
	fmt.Sscanf(fmt.Sprintf("%.*g", sig, v), "%g", &f)
	return f
}

// BenchmarkDecodeJPEG12MP compares decode + preprocess of a 4000x3000 JPEG.
func BenchmarkDecodeJPEG12MP(b *testing.B) {
	m, info := testModel(b)
	lib := testLib(b, "")
	data := encodeJPEG(b, imaging.Resize(gradient(400, 300), 4000, 3000, imaging.Linear), 90)
	pre := m.Preprocessor()
	dst := make([]float32, pre.Len())
	for _, full := range []bool{false, true} {
		ix, _ := New(lib, m, info, Options{FullDecode: full})
		b.Run(fmt.Sprintf("full=%v", full), func(b *testing.B) {
			for b.Loop() {
				d, err := ix.decode(data, photo.FormatJPEG, true)
				if err != nil {
					b.Fatal(err)
				}
				if err := pre.PixelsInto(dst, d.img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIndexScenes indexes 256 scenes of 256 px (PNG) into a fresh library per iteration.
func BenchmarkIndexScenes(b *testing.B) {
	m, info := testModel(b)
	src := b.TempDir()
	writeScenes(b, src, 0, 256, 256)
	for b.Loop() {
		lib := testLib(b, "")
		ix, err := New(lib, m, info, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if s, err := ix.Add(context.Background(), []string{src}); err != nil || s.Indexed != 256 {
			b.Fatal(s, err)
		}
	}
	b.ReportMetric(float64(256*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkIndexThreads indexes 256 scenes with the encoder's intra-op threads at 1 and at
// the default (one per physical core), the decode workers competing for the same cores.
func BenchmarkIndexThreads(b *testing.B) {
	_, info := testModel(b)
	src := b.TempDir()
	writeScenes(b, src, 0, 256, 256)
	for _, threads := range []int{1, 0} {
		m, err := encoder.Open(models.Default(), encoder.Options{IntraOpThreads: threads})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			for b.Loop() {
				lib := testLib(b, "")
				ix, _ := New(lib, m, info, Options{})
				if s, err := ix.Add(context.Background(), []string{src}); err != nil || s.Indexed != 256 {
					b.Fatal(s, err)
				}
			}
			b.ReportMetric(float64(256*b.N)/b.Elapsed().Seconds(), "images/s")
		})
		m.Close()
	}
}

// TestBenchModelThroughput is part (1) of TestBenchReport with the bundle in
// GLIMPSE_BENCH_MODEL (a folder) on GLIMPSE_BENCH_SCENES scenes (default 300): how much of the
// decoding, thumbnails and storage hide behind a larger model (`make bench-index-model`).
func TestBenchModelThroughput(t *testing.T) {
	dir := os.Getenv("GLIMPSE_BENCH_MODEL")
	if os.Getenv("GLIMPSE_BENCH") != "1" || dir == "" {
		t.Skip("set GLIMPSE_BENCH=1 and GLIMPSE_BENCH_MODEL=DIR to run the indexer throughput with another bundle")
	}
	n := 300
	if v, err := strconv.Atoi(os.Getenv("GLIMPSE_BENCH_SCENES")); err == nil && v > 0 {
		n = v
	}
	bundle := os.DirFS(dir)
	info, err := library.ModelInfo(bundle)
	if err != nil {
		t.Fatal(err)
	}
	fig := map[string]any{"model": info.Name, "embedding_dim": info.Dim, "cpus": runtime.NumCPU(), "scenes": n}
	rep := newBenchReport()
	row := rep.row
	throughput(t, bundle, info, n, t.TempDir(), fig, row)
	rep.print(t, fig)
}
