package hub

import (
	"sync"
	"time"
)

// Progress is a snapshot download's state, for a progress bar.
type Progress struct {
	Repo string
	// File is the file that last advanced or finished.
	File string
	// Files is the number of files this call downloads (files already in place are not
	// counted); FilesDone how many of them are verified and in place.
	Files, FilesDone int
	// Total is the bytes of the files this call downloads; Done the bytes of them on disk,
	// counting a resumed file's earlier part.
	Done, Total int64
	// Rate is the transfer rate in bytes per second over the last few seconds.
	Rate float64
	// ETA is the time left at Rate; -1 when unknown.
	ETA time.Duration
}

// rateWindow is how far back Progress.Rate looks.
const rateWindow = 5 * time.Second

// tracker aggregates the progress of a snapshot's workers and calls Options.Progress, throttled
// and serialised. Safe for concurrent use.
type tracker struct {
	mu       sync.Mutex
	fn       func(Progress)
	interval time.Duration
	now      func() time.Time
	p        Progress
	lastEmit time.Time
	samples  []sample // transferred bytes over time, for the rate
	moved    int64    // bytes transferred (not counting resumed parts)
}

type sample struct {
	at    time.Time
	moved int64
}

func newTracker(fn func(Progress), interval time.Duration, repo string, files int, done, total int64) *tracker {
	t := &tracker{fn: fn, interval: interval, now: time.Now,
		p: Progress{Repo: repo, Files: files, Done: done, Total: total, ETA: -1}}
	t.samples = []sample{{at: t.now()}}
	return t
}

// add records n bytes written for file (negative when a restart discards bytes on disk);
// transferred says whether they came over the network (and count toward the rate).
func (t *tracker) add(file string, n int64, transferred bool) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.p.File = file
	t.p.Done += n
	if transferred {
		t.moved += n
	}
	t.emit(false)
}

// fileDone records one file verified and in place.
func (t *tracker) fileDone(file string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.p.File = file
	t.p.FilesDone++
	t.emit(false)
}

// finish sends the last state, whatever the throttle says.
func (t *tracker) finish() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emit(true)
}

// emit calls fn with t.mu held, so calls never overlap.
func (t *tracker) emit(force bool) {
	now := t.now()
	if len(t.samples) == 0 || now.Sub(t.samples[len(t.samples)-1].at) >= 100*time.Millisecond {
		t.samples = append(t.samples, sample{at: now, moved: t.moved})
	}
	for len(t.samples) > 2 && now.Sub(t.samples[1].at) > rateWindow {
		t.samples = t.samples[1:]
	}
	if !force && now.Sub(t.lastEmit) < t.interval {
		return
	}
	t.lastEmit = now
	first := t.samples[0]
	if dt := now.Sub(first.at).Seconds(); dt > 0 {
		t.p.Rate = float64(t.moved-first.moved) / dt
	}
	t.p.ETA = -1
	if left := t.p.Total - t.p.Done; left <= 0 {
		t.p.ETA = 0
	} else if t.p.Rate > 0 {
		t.p.ETA = time.Duration(float64(left) / t.p.Rate * float64(time.Second))
	}
	if t.fn != nil {
		t.fn(t.p)
	}
}
