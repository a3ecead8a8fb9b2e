package ui_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/glimpse-search/glimpse/internal/testenv"
)

// findChromium returns a Chromium (or Chrome) binary: $GLIMPSE_CHROMIUM, else the first of the
// usual names on PATH, else "".
func findChromium() string {
	if p := os.Getenv("GLIMPSE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifacts is the folder for screenshots: $GLIMPSE_ARTIFACTS (created; a relative path is
// taken from the module root, as `make test` names build/artifacts), else a test temp dir.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GLIMPSE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(repoRoot(t), dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts a fresh headless Chromium (own user data dir, no sandbox, background networking
// off) and returns a tab context. It skips the test when no Chromium binary is found (fails under
// GLIMPSE_REQUIRE_ALL=1, as in `make test`).
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		testenv.Missing(t, "no Chromium found for the browser tests (apt-get install chromium, or set GLIMPSE_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], // headless, background networking off
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("mute-audio", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser now, so failures say so
		t.Fatalf("start %s: %v", bin, err)
	}
	return ctx
}

// step runs browser actions with a deadline and fails the test with the step's name.
func step(t *testing.T, ctx context.Context, name string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s", d)
		}
		t.Fatalf("%s: %v", name, err)
	}
}

// waitJS polls a JavaScript expression until it is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", firstLine(expr), err)
		}
		return nil
	})
}

// run runs one action that returns a value, with a deadline, and fails the test on error.
func run[T any](t *testing.T, ctx context.Context, name string, d time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// screenshot saves the viewport as dir/name.png.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := run(t, ctx, "screenshot "+name, 20*time.Second, chromedp.CaptureScreenshot())
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// evalString evaluates a JavaScript expression that yields a string.
func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	return run(t, ctx, "eval "+firstLine(expr), 10*time.Second, chromedp.Evaluate[string](expr))
}

func evalInt(t *testing.T, ctx context.Context, expr string) int {
	t.Helper()
	return run(t, ctx, "eval "+firstLine(expr), 10*time.Second, chromedp.Evaluate[int](expr))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}
