package main

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/glimpse-search/glimpse/indexer"
)

// logEvery is the interval of progress log lines when stderr is not a terminal.
const logEvery = 5 * time.Second

// progress shows a run's progress: a bar (count, rate, ETA) on a terminal, else a log line
// every logEvery. Its methods are called from one goroutine at a time (indexer.Options).
type progress struct {
	stderr io.Writer
	tty    bool
	bar    *progressbar.ProgressBar // created once the total is known
	logger *slog.Logger
	last   time.Time
	p      indexer.Progress
}

func newProgress(stderr io.Writer) *progress {
	pr := &progress{stderr: stderr, last: time.Now(),
		logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		pr.tty = true
	} else {
		pr.logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	return pr
}

func (pr *progress) update(p indexer.Progress) {
	pr.p = p
	if pr.tty {
		if pr.bar == nil && p.Total > 0 {
			pr.bar = progressbar.NewOptions(p.Total,
				progressbar.OptionSetWriter(pr.stderr),
				progressbar.OptionSetDescription("indexing"),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("files"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
		if pr.bar != nil {
			if int64(p.Total) != pr.bar.GetMax64() {
				pr.bar.ChangeMax(p.Total)
			}
			_ = pr.bar.Set(p.Done())
		}
		return
	}
	if time.Since(pr.last) >= logEvery {
		pr.last = time.Now()
		pr.log("indexing")
	}
}

func (pr *progress) log(msg string) {
	p := pr.p
	args := []any{"done", p.Done(), "total", p.Total, "indexed", p.Indexed, "unchanged", p.Unchanged,
		"duplicate", p.Duplicate, "skipped", p.Skipped, "failed", p.Failed}
	if sec := p.Elapsed.Seconds(); sec > 0 {
		args = append(args, "files_per_s", float64(int(float64(p.Done())/sec*10))/10)
	}
	pr.logger.Info(msg, args...)
}

func (pr *progress) finish() {
	if pr.bar != nil {
		_ = pr.bar.Finish()
		return
	}
	if !pr.tty && pr.p.Done() > 0 {
		pr.log("done")
	}
}
