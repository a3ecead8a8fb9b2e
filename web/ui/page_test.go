package ui_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	redCircle = "a small red circle" // matches a few of the seed-3 gallery's scenes
	nonsense  = "zxqv blorf wibble"  // made-up words: the ITM head finds no confident match
	wait      = 30 * time.Second     // per browser step; the model shares 2 cores with other work
)

// TestBrowser drives the web interface in headless Chromium against the real server over a
// generated 40-image gallery, and saves screenshots to $GLIMPSE_ARTIFACTS.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped in -short mode")
	}
	ctx := browser(t, 1280, 900)
	base, g := startServer(t)
	dir := artifacts(t)
	jsErrors := watchErrors(ctx)

	t.Run("text search", func(t *testing.T) {
		step(t, ctx, "load", wait,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.ID("q")),
			chromedp.SendKeys(chromedp.ID("q"), redCircle+kb.Enter),
			waitJS(`document.querySelectorAll("#grid .card").length > 0`),
			waitJS(`(() => { const i = document.querySelector("#grid .card img"); return i.complete && i.naturalWidth > 0 })()`),
		)
		if s := evalString(t, ctx, `document.getElementById("status").textContent`); !strings.Contains(s, "matching photo") {
			t.Errorf("status %q", s)
		}
		scores := evalString(t, ctx, `[...document.querySelectorAll("#grid .card .score")].map(e => e.textContent).join(" ")`)
		if !regexp.MustCompile(`^\d{1,3}%( \d{1,3}%)*$`).MatchString(scores) {
			t.Errorf("scores %q, want match percentages", scores)
		}
		if s := evalString(t, ctx, `location.search`); s != "?q=a+small+red+circle" {
			t.Errorf("URL query %q", s)
		}
		step(t, ctx, "model in the footer", wait, waitJS(`document.getElementById("model-info").textContent !== ""`))
		if s := evalString(t, ctx, `document.getElementById("model-info").textContent`); s != "Model: tiny-scenes (tiny-scenes, fp32, reranked by its matching head)" {
			t.Errorf("footer %q", s)
		}
		screenshot(t, ctx, dir, "search")
	})

	t.Run("no confident match", func(t *testing.T) {
		step(t, ctx, "nonsense query", wait,
			chromedp.Focus(chromedp.ID("q")),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("q").select()`),
			chromedp.KeyEvent(nonsense+kb.Enter), // types over the selected query
			waitJS(`!document.getElementById("no-match").hidden`),
			waitJS(`document.querySelectorAll("#weak .card").length > 0`),
		)
		if n := evalInt(t, ctx, `document.querySelectorAll("#grid .card").length`); n != 0 {
			t.Errorf("%d confident results for %q", n, nonsense)
		}
		if s := evalString(t, ctx, `document.getElementById("no-match-reason").textContent`); !strings.Contains(s, "below") {
			t.Errorf("no-match reason %q", s)
		}
		if s := evalString(t, ctx, `getComputedStyle(document.querySelector("#weak .card")).opacity`); s == "1" {
			t.Error("low-scoring candidates are not greyed out")
		}
		screenshot(t, ctx, dir, "no-match")
	})

	t.Run("back button", func(t *testing.T) {
		step(t, ctx, "back", wait,
			chromedp.NavigateBack(),
			waitJS(fmt.Sprintf(`document.getElementById("q").value === %q`, redCircle)),
			waitJS(`document.querySelectorAll("#grid .card").length > 0 && document.getElementById("no-match").hidden`),
		)
	})

	t.Run("detail and explain", func(t *testing.T) {
		step(t, ctx, "open", wait,
			chromedp.Click(chromedp.CSS("#grid .card")),
			waitJS(`document.getElementById("detail").open`),
			waitJS(`(() => { const i = document.getElementById("explain-image"); return i.complete && i.naturalWidth > 0 })()`),
			waitJS(`(() => { const i = document.getElementById("detail-image"); return i.complete && i.naturalWidth > 0 })()`),
			waitJS(`document.querySelectorAll("#meta dt").length > 0`),
		)
		screenshot(t, ctx, dir, "detail")
		step(t, ctx, "escape", wait,
			chromedp.KeyEvent(kb.Escape),
			waitJS(`!document.getElementById("detail").open`),
		)
		if s := evalString(t, ctx, `document.activeElement.className`); s != "card" {
			t.Errorf("focus after closing the dialog is on %q, want the card that opened it", s)
		}
		if s := evalString(t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); s == "none" {
			t.Error("no visible focus ring on the focused card")
		}
	})

	t.Run("filters", func(t *testing.T) {
		// The generated scenes have no capture time, so any date bound leaves nothing.
		step(t, ctx, "date", wait,
			waitJS(`[...document.getElementById("folder").options].some(o => /(^|\/)images\/$/.test(o.value))`),
			chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById("from");
				f.value = "2000-01-01"; f.dispatchEvent(new Event("change", {bubbles: true})) })()`),
			waitJS(`/passes the filters/.test(document.getElementById("status").textContent)`),
		)
		if s := evalString(t, ctx, `location.search`); !strings.Contains(s, "from=2000-01-01") {
			t.Errorf("URL %q does not keep the date filter", s)
		}
		if n := evalInt(t, ctx, `document.querySelectorAll("#grid .card").length`); n != 0 {
			t.Errorf("%d results past a date filter that nothing passes", n)
		}
		step(t, ctx, "folder", wait,
			chromedp.Click(chromedp.ID("clear-filters")),
			waitJS(`document.querySelectorAll("#grid .card").length > 0`),
			chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById("folder");
				f.value = [...f.options].find(o => /(^|\/)images\/$/.test(o.value)).value;
				f.dispatchEvent(new Event("change", {bubbles: true})) })()`),
			waitJS(`location.search.includes("folder=") && document.querySelectorAll("#grid .card").length > 0`),
			chromedp.Click(chromedp.ID("clear-filters")),
			waitJS(`!location.search.includes("folder=")`),
		)
	})

	t.Run("search by image", func(t *testing.T) {
		step(t, ctx, "upload", wait,
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{g.images[5]}),
			waitJS(`!document.getElementById("query-image").hidden`),
			waitJS(`document.querySelectorAll("#grid .card").length > 0`),
		)
		// Infinite scroll: one request brings at most 24 results (app.js PAGE); scrolling to the
		// end brings the rest of the similar images (every other image of the gallery).
		step(t, ctx, "scroll", wait, waitJS(`(window.scrollTo(0, document.body.scrollHeight),
			document.querySelectorAll("#grid .card").length > 24 && !document.body.classList.contains("busy"))`))
		if s := evalString(t, ctx, `document.getElementById("status").textContent`); !regexp.MustCompile(`^\d+ matching photos\.$`).MatchString(s) {
			t.Errorf("status after scrolling to the end: %q", s)
		}
		screenshot(t, ctx, dir, "image-search")
		step(t, ctx, "texts", wait,
			chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`),
			chromedp.Click(chromedp.CSS(`input[name="target"][value="texts"]`)),
			waitJS(`document.querySelectorAll("#texts li").length > 0`),
		)
		if s := evalString(t, ctx, `document.querySelector("#texts .text-hit").textContent`); s == "" {
			t.Error("empty text result")
		}
		screenshot(t, ctx, dir, "image-texts")
	})

	t.Run("accessibility", func(t *testing.T) {
		unlabelled := evalString(t, ctx, `[...document.querySelectorAll("input, select, button")]
			.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
			.map(e => e.outerHTML).join("\n")`)
		if unlabelled != "" {
			t.Errorf("controls without a label:\n%s", unlabelled)
		}
		if s := evalString(t, ctx, `document.getElementById("status").getAttribute("aria-live")`); s != "polite" {
			t.Errorf("status aria-live %q", s)
		}
		step(t, ctx, "tab order", wait, chromedp.Focus(chromedp.ID("q")), chromedp.KeyEvent(kb.Tab))
		if s := evalString(t, ctx, `document.activeElement.id`); s != "go" {
			t.Errorf("Tab from the search box lands on %q, want the search button", s)
		}
	})

	t.Run("phone width", func(t *testing.T) {
		step(t, ctx, "390px", wait,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
			chromedp.Navigate(base+"/?q="+strings.ReplaceAll(g.captions[0], " ", "+")),
			waitJS(`document.querySelectorAll("#grid .card, #weak .card").length > 0`),
		)
		if w := evalInt(t, ctx, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("page is %d px wide at a 390 px viewport", w)
		}
		if n := evalInt(t, ctx, `getComputedStyle(document.getElementById("grid")).gridTemplateColumns.split(" ").length`); n != 2 {
			t.Errorf("%d grid columns at 390 px, want 2", n)
		}
		screenshot(t, ctx, dir, "phone")
		step(t, ctx, "phone detail", wait,
			chromedp.Click(chromedp.CSS(".card")),
			waitJS(`document.getElementById("detail").open`),
			waitJS(`(() => { const i = document.getElementById("detail-image"); return i.complete && i.naturalWidth > 0 })()`),
		)
		if w := evalInt(t, ctx, `Math.ceil(document.getElementById("detail").getBoundingClientRect().right)`); w > 390 {
			t.Errorf("the dialog reaches x=%d at a 390 px viewport", w)
		}
		screenshot(t, ctx, dir, "phone-detail")
		// "Find similar images" searches by the photo's id, and the URL says so.
		step(t, ctx, "like", wait,
			chromedp.Click(chromedp.ID("like-images")),
			waitJS(`!document.getElementById("detail").open && location.search.includes("like=")`),
			waitJS(`document.querySelectorAll("#grid .card").length > 0 && !document.getElementById("query-image").hidden`),
		)
		if s := evalString(t, ctx, `document.activeElement.id`); s != "results-heading" {
			t.Errorf("focus after Find similar is on %q, want the results heading", s)
		}
	})

	if errs := jsErrors(); len(errs) > 0 {
		t.Errorf("JavaScript errors:\n%s", strings.Join(errs, "\n"))
	}
}

// watchErrors collects the page's uncaught exceptions, console.error calls and browser-log
// errors (a failed request of an image or script among them) until ctx ends.
func watchErrors(ctx context.Context) func() []string {
	var mu sync.Mutex
	var errs []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			mu.Lock()
			errs = append(errs, m.String()+" "+m.URL)
			mu.Unlock()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}
