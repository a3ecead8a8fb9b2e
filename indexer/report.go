package indexer

import (
	"sync"
	"time"
)

// Status is the outcome of one file.
type Status string

// Outcomes of a file.
const (
	StatusIndexed   Status = "indexed"   // new or changed; embedded and stored
	StatusUnchanged Status = "unchanged" // stored before with the same path, size and mtime
	StatusDuplicate Status = "duplicate" // stored; its bytes were already embedded under another path
	StatusSkipped   Status = "skipped"   // not an image, too large, empty or not a regular file
	StatusFailed    Status = "failed"    // unreadable or damaged image
)

// FileResult is the outcome of one file: one line of the --report file.
type FileResult struct {
	Path   string `json:"path"`
	Status Status `json:"status"`
	Reason string `json:"reason"`
}

// Summary counts the outcomes of a run.
type Summary struct {
	Found     int `json:"found"` // files seen by the walk
	Indexed   int `json:"indexed"`
	Unchanged int `json:"unchanged"`
	Duplicate int `json:"duplicate"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
	// NotProcessed counts the files found that got no outcome because the run stopped early
	// (an error such as a full disk, or a cancel): a rerun takes them up.
	NotProcessed int           `json:"not_processed,omitempty"`
	Elapsed      time.Duration `json:"elapsed_ns"`
	Interrupted  bool          `json:"interrupted"`
}

// Done is the number of files with an outcome.
func (s Summary) Done() int { return s.Indexed + s.Unchanged + s.Duplicate + s.Skipped + s.Failed }

// Progress is a snapshot of a running [Indexer.Add]. Found grows as the pipeline's walk goes
// on; Total, the number of files, is counted by a separate quick walk and is 0 until known.
type Progress struct {
	Summary
	Total    int
	WalkDone bool
}

// tally serialises outcome reporting: counts, OnFile and OnProgress.
type tally struct {
	mu       sync.Mutex
	s        Summary
	total    int
	walkDone bool
	start    time.Time
	now      func() time.Time
	onFile   func(FileResult)
	onProg   func(Progress)
}

func (t *tally) found(n int, done bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.s.Found += n
	t.walkDone = t.walkDone || done
	t.progress()
}

func (t *tally) setTotal(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total = max(n, t.s.Found)
	t.progress()
}

func (t *tally) file(r FileResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch r.Status {
	case StatusIndexed:
		t.s.Indexed++
	case StatusUnchanged:
		t.s.Unchanged++
	case StatusDuplicate:
		t.s.Duplicate++
	case StatusSkipped:
		t.s.Skipped++
	default:
		t.s.Failed++
	}
	if t.onFile != nil {
		t.onFile(r)
	}
	t.progress()
}

func (t *tally) progress() {
	if t.onProg != nil {
		t.s.Elapsed = t.now().Sub(t.start)
		total := t.total
		if t.walkDone {
			total = t.s.Found
		}
		t.onProg(Progress{Summary: t.s, Total: total, WalkDone: t.walkDone})
	}
}

func (t *tally) summary() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.s.Elapsed = t.now().Sub(t.start)
	s := t.s
	s.NotProcessed = max(s.Found, t.total) - s.Done()
	return s
}
