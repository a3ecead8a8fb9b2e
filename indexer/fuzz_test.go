package indexer

import (
	"bytes"
	"testing"
)

// FuzzParseTexts: any texts file parses or fails with ErrBadTexts, never panics.
func FuzzParseTexts(f *testing.F) {
	f.Add([]byte("a red circle\n"))
	f.Add([]byte("{\"id\": 1, \"text\": \"x\"}\n{\"id\": \"b\", \"text\": \"y\"}\n"))
	f.Add([]byte("{\"id\": [}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := ParseTexts(bytes.NewReader(b))
		if err == nil {
			for _, l := range lines {
				if l.Text == "" {
					t.Fatalf("empty text at line %d", l.Line)
				}
			}
		}
	})
}
