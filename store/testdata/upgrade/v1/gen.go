package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/glimpse-search/glimpse/store"
	"github.com/glimpse-search/glimpse/store/hnsw"
	bolt "go.etcd.io/bbolt"
)

var testModel = store.ModelInfo{Name: "tiny", Dim: 32, BundleHash: "abc123def4567890"}

func clustered(n, dim, k int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float32, k)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range dim {
			centres[i][j] = float32(rng.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[rng.IntN(k)]
		v := make([]float32, dim)
		var s float64
		for j := range dim {
			v[j] = c[j] + 0.6*float32(rng.NormFloat64())
			s += float64(v[j] * v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(s))
		}
		out[i] = v
	}
	return out
}

func newImage(i int, vec []float32) store.NewImage {
	return store.NewImage{
		Record: store.ImageRecord{
			Path:     fmt.Sprintf("/lib/f%d/img%05d.jpg", i%4, i),
			SHA256:   sha256.Sum256([]byte(fmt.Sprint("content", i))),
			Size:     int64(1000 + i),
			ModTime:  time.Unix(1600000000+int64(i), 0).UTC(),
			Width:    640,
			Height:   480,
			Captured: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
		},
		Vector: vec,
	}
}

type golden struct {
	Images, Embeddings, Texts int
	Hits                      [][]store.ImageHit
	TextHits                  [][]store.TextHit
}

func main() {
	path := os.Args[1]
	db, err := store.Open(path+".tmp", store.Options{NoSync: true, Index: hnsw.Options{ExactBelow: 50, M: 8}})
	check(err)
	ns, err := db.Namespace(testModel, store.NamespaceOptions{})
	check(err)
	vecs := clustered(320, 32, 12, 21)
	for b := 0; b < 300; b += 50 {
		var items []store.NewImage
		for i := b; i < b+50; i++ {
			items = append(items, newImage(i, vecs[i]))
		}
		_, err := ns.AddImages(items)
		check(err)
	}
	for i := 1; i <= 300; i += 20 { // tombstones
		check(db.DeleteImage(uint64(i)))
	}
	var texts []store.NewText
	for i := range 40 {
		texts = append(texts, store.NewText{Record: store.TextRecord{Text: fmt.Sprint("text ", i)}, Vector: vecs[(i*7)%300]})
	}
	_, err = ns.AddTexts(texts)
	check(err)
	g := golden{Images: db.ImageCount(), Embeddings: ns.Len(), Texts: ns.TextLen()}
	for _, q := range vecs[300:] {
		h, err := ns.SearchImages(q, 10, 64, nil)
		check(err)
		g.Hits = append(g.Hits, h)
		th, err := ns.SearchTexts(q, 5, 64)
		check(err)
		g.TextHits = append(g.TextHits, th)
	}
	check(db.Close())
	src, err := bolt.Open(path+".tmp", 0o600, nil)
	check(err)
	dst, err := bolt.Open(path, 0o600, nil)
	check(err)
	check(bolt.Compact(dst, src, 0))
	check(src.Close())
	check(dst.Close())
	check(os.Remove(path + ".tmp"))
	js, err := json.MarshalIndent(g, "", " ")
	check(err)
	check(os.WriteFile(os.Args[2], append(js, '\n'), 0o644))
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
