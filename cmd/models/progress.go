package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/hub"
)

// progressBar draws a download's progress on one line of w: a bar, the bytes, the rate and
// the time left, redrawn in place.
type progressBar struct {
	w     io.Writer
	drawn bool
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

const barWidth = 30

// update redraws the line (hub.Options.Progress).
func (b *progressBar) update(p hub.Progress) {
	if p.Total <= 0 {
		return
	}
	frac := min(1, float64(p.Done)/float64(p.Total))
	full := int(frac * barWidth)
	eta := "?"
	if p.ETA >= 0 {
		eta = p.ETA.Round(time.Second).String()
	}
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%% %s / %s  %s/s  %s left  (%d of %d files)  ", strings.Repeat("=", full),
		strings.Repeat(" ", barWidth-full), 100*frac, mb(p.Done), mb(p.Total), mb(int64(p.Rate)), eta, p.FilesDone, p.Files)
	b.drawn = true
}

// done ends the bar's line.
func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
