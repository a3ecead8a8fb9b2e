package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestExplain(t *testing.T) {
	l := testLib(t)
	for _, args := range [][]string{
		{"--image", l.files[0]},         // a file: no index needed
		{"--id", "1", "--data", l.data}, // an indexed image
	} {
		out := filepath.Join(t.TempDir(), "heat.png")
		var res struct {
			PMatch float64 `json:"p_match"`
			Grid   int     `json:"grid"`
			Out    string  `json:"out"`
		}
		runJSON(t, &res, append([]string{"explain", "--text", "a small red circle", "--out", out}, args...)...)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 96 || b.Dy() != 96 || res.Grid < 1 || res.Out != out {
			t.Fatalf("%q: overlay %v, grid %d, out %q", args, b, res.Grid, res.Out)
		}
	}
}
