package client

import (
	"fmt"
	"time"
)

// IndexRequest is the body of POST /api/v1/index: folders or files on the server's machine,
// as absolute paths, and optional tuning (zero: the server's defaults).
type IndexRequest struct {
	Paths     []string `json:"paths"`
	Workers   int      `json:"workers,omitempty"`
	Batch     int      `json:"batch,omitempty"`
	MaxPixels int64    `json:"max_pixels,omitempty"`
}

// JobState is where a job is in its life.
type JobState string

// Job states. Queued and running jobs are active; the others are final.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobDone      JobState = "done"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Final reports whether the state is one a job never leaves.
func (s JobState) Final() bool { return s == JobDone || s == JobFailed || s == JobCancelled }

// Progress counts the files of an indexing job (the indexer's Progress and Summary).
type Progress struct {
	Found     int   `json:"found"` // files seen by the walk so far
	Total     int   `json:"total"` // files in the folders; 0 until counted
	Done      int   `json:"done"`  // files with an outcome
	Indexed   int   `json:"indexed"`
	Unchanged int   `json:"unchanged"`
	Duplicate int   `json:"duplicate"`
	Skipped   int   `json:"skipped"`
	Failed    int   `json:"failed"`
	WalkDone  bool  `json:"walk_done"`
	ElapsedMS int64 `json:"elapsed_ms"`
}

// FileProblem is a file an indexing job skipped or failed, with the reason.
type FileProblem struct {
	Path   string `json:"path"`
	Status string `json:"status"` // "skipped" or "failed"
	Reason string `json:"reason"`
}

// Job is an indexing job as GET /api/v1/jobs/{id} reports it.
type Job struct {
	ID       string     `json:"id"`
	State    JobState   `json:"state"`
	Paths    []string   `json:"paths"`
	Created  time.Time  `json:"created"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	Progress Progress   `json:"progress"`
	// Error says why a failed job failed.
	Error string `json:"error,omitempty"`
	// Problems lists the skipped and failed files, the first MaxProblems of them;
	// ProblemsOmitted counts the rest.
	Problems        []FileProblem `json:"problems"`
	ProblemsOmitted int           `json:"problems_omitted,omitempty"`
	URL             string        `json:"url"` // the job's own address, relative to the server
}

// MaxProblems is how many skipped or failed files a job lists.
const MaxProblems = 1000

// ErrorBody is every error response of the API: {"error":{"code","message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a machine-readable code and a sentence for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// APIError is an error response of the server.
type APIError struct {
	Status  int    // HTTP status
	Code    string // ErrorDetail.Code
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server: %s (HTTP %d %s)", e.Message, e.Status, e.Code)
}
