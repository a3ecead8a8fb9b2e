package encoder

import (
	"sync"
	"testing"

	"github.com/glimpse-search/glimpse/models"
)

var (
	defaultOnce  sync.Once
	defaultModel *Model
	defaultErr   error
)

// testModel opens the embedded default bundle once for the package's tests. It fails (never
// skips) when ONNX Runtime is missing: `make test` runs `make setup` first.
func testModel(tb testing.TB) *Model {
	tb.Helper()
	defaultOnce.Do(func() {
		defaultModel, defaultErr = Open(models.Default(), Options{})
	})
	if defaultErr != nil {
		tb.Fatalf("open default bundle: %v", defaultErr)
	}
	return defaultModel
}
