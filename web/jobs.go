package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/web/client"
)

// maxJobPaths caps the paths of one index job.
const maxJobPaths = 256

// jobs runs index jobs one at a time, in the order they came, on goroutines it owns: close
// cancels them and waits. Safe for concurrent use.
type jobs struct {
	srv *Server
	ctx context.Context
	end context.CancelFunc
	wg  sync.WaitGroup
	run chan struct{} // a token: one job indexes at a time

	mu     sync.Mutex
	byID   map[string]*job
	order  []string // ids, oldest first
	closed bool
}

// job is one index job; its fields are guarded by jobs.mu.
type job struct {
	j      client.Job
	req    client.IndexRequest
	cancel context.CancelFunc
}

func newJobs(srv *Server) *jobs {
	ctx, end := context.WithCancel(context.Background())
	js := &jobs{srv: srv, ctx: ctx, end: end, run: make(chan struct{}, 1), byID: map[string]*job{}}
	js.run <- struct{}{}
	return js
}

// active counts queued and running jobs.
func (js *jobs) active() int {
	js.mu.Lock()
	defer js.mu.Unlock()
	n := 0
	for _, jb := range js.byID {
		if !jb.j.State.Final() {
			n++
		}
	}
	return n
}

// cancelAll cancels every job; running ones commit their batch under way.
func (js *jobs) cancelAll() {
	js.mu.Lock()
	js.closed = true
	js.mu.Unlock()
	js.end()
}

// close cancels every job and waits for their goroutines.
func (js *jobs) close() {
	js.cancelAll()
	js.wg.Wait()
}

// start queues a job and returns its state.
func (js *jobs) start(req client.IndexRequest) (client.Job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.closed {
		return client.Job{}, errorf(http.StatusServiceUnavailable, CodeUnavailable, "the server is shutting down")
	}
	active := 0
	for _, jb := range js.byID {
		if !jb.j.State.Final() {
			active++
		}
	}
	if active >= js.srv.o.MaxJobs {
		return client.Job{}, errorf(http.StatusTooManyRequests, CodeRateLimited,
			"%d index jobs are queued or running; wait for one to finish", active)
	}
	id := randomID(8)
	ctx, cancel := context.WithCancel(js.ctx)
	jb := &job{req: req, cancel: cancel, j: client.Job{ID: id, State: client.JobQueued, Paths: req.Paths,
		Created: js.srv.o.Now().UTC(), Problems: []client.FileProblem{}, URL: APIPrefix + "/jobs/" + id}}
	js.byID[id] = jb
	js.order = append(js.order, id)
	js.evict()
	js.wg.Go(func() { js.runJob(ctx, jb) })
	return jb.j, nil
}

// evict forgets the oldest finished jobs past KeepJobs. Called with mu held.
func (js *jobs) evict() {
	finished := 0
	for _, id := range js.order {
		if js.byID[id].j.State.Final() {
			finished++
		}
	}
	keep := js.order[:0]
	for _, id := range js.order {
		if finished > js.srv.o.KeepJobs && js.byID[id].j.State.Final() {
			delete(js.byID, id)
			finished--
			continue
		}
		keep = append(keep, id)
	}
	js.order = keep
}

// get returns a copy of a job's state.
func (js *jobs) get(id string) (client.Job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	jb, ok := js.byID[id]
	if !ok {
		return client.Job{}, false
	}
	j := jb.j
	j.Problems = append([]client.FileProblem(nil), jb.j.Problems...)
	return j, true
}

// cancel stops a job; a queued one never starts.
func (js *jobs) cancel(id string) (client.Job, bool) {
	js.mu.Lock()
	jb, ok := js.byID[id]
	js.mu.Unlock()
	if !ok {
		return client.Job{}, false
	}
	jb.cancel()
	return js.get(id)
}

// update changes a job under the lock.
func (js *jobs) update(jb *job, fn func(j *client.Job)) {
	js.mu.Lock()
	defer js.mu.Unlock()
	fn(&jb.j)
}

func (js *jobs) runJob(ctx context.Context, jb *job) {
	defer jb.cancel()
	defer func() { // a bug in a job fails the job, not the server
		if r := recover(); r != nil {
			js.srv.o.Logger.Error("index job panicked", "job", jb.j.ID, "panic", r, "stack", string(debug.Stack()))
			js.finish(jb, indexer.Summary{}, fmt.Errorf("internal error (panic: %v)", r))
		}
	}()
	select {
	case <-js.run:
		defer func() { js.run <- struct{}{} }()
	case <-ctx.Done():
		js.finish(jb, indexer.Summary{Interrupted: true}, ctx.Err())
		return
	}
	now := js.srv.o.Now().UTC()
	js.update(jb, func(j *client.Job) { j.State, j.Started = client.JobRunning, &now })
	s := js.srv
	ix, err := indexer.New(s.lib, s.m, s.info, indexer.Options{
		Workers:   jb.req.Workers,
		Batch:     jb.req.Batch,
		MaxPixels: jb.req.MaxPixels,
		Confine:   s.o.IndexRoots,
		Logger:    s.o.Logger,
		// the searcher's cache: the tokens stored while indexing are its hits at once
		TokenCache: s.s.TokenCache(),
		OnProgress: func(p indexer.Progress) {
			js.update(jb, func(j *client.Job) { j.Progress = progressOf(p.Summary, p.Total, p.WalkDone) })
		},
		OnFile: func(r indexer.FileResult) {
			if r.Status != indexer.StatusSkipped && r.Status != indexer.StatusFailed {
				return
			}
			js.update(jb, func(j *client.Job) {
				if len(j.Problems) < client.MaxProblems {
					j.Problems = append(j.Problems, client.FileProblem{Path: r.Path, Status: string(r.Status), Reason: r.Reason})
				} else {
					j.ProblemsOmitted++
				}
			})
		},
	})
	if err != nil {
		js.finish(jb, indexer.Summary{}, err)
		return
	}
	s.o.Logger.Info("index job started", "job_id", jb.j.ID, "paths", strings.Join(jb.req.Paths, ", "))
	sum, err := ix.Add(ctx, jb.req.Paths)
	js.finish(jb, sum, err)
}

// finish records a job's outcome.
func (js *jobs) finish(jb *job, sum indexer.Summary, err error) {
	now := js.srv.o.Now().UTC()
	js.update(jb, func(j *client.Job) {
		total := max(j.Progress.Total, sum.Found)
		if sum.Found > 0 || sum.Elapsed > 0 {
			j.Progress = progressOf(sum, total, true)
		}
		j.Finished = &now
		switch {
		case sum.Interrupted || errors.Is(err, context.Canceled):
			j.State = client.JobCancelled
		case err != nil:
			j.State, j.Error = client.JobFailed, err.Error()
		default:
			j.State = client.JobDone
		}
	})
	j, _ := js.get(jb.j.ID)
	js.srv.metrics.jobs.WithLabelValues(string(j.State)).Inc()
	js.srv.o.Logger.Info("index job finished", "job_id", j.ID, "state", j.State, "indexed", j.Progress.Indexed,
		"skipped", j.Progress.Skipped, "failed", j.Progress.Failed, "error", j.Error)
	js.mu.Lock()
	js.evict()
	js.mu.Unlock()
}

func progressOf(s indexer.Summary, total int, walkDone bool) client.Progress {
	return client.Progress{Found: s.Found, Total: total, Done: s.Done(), Indexed: s.Indexed, Unchanged: s.Unchanged,
		Duplicate: s.Duplicate, Skipped: s.Skipped, Failed: s.Failed, WalkDone: walkDone, ElapsedMS: s.Elapsed.Milliseconds()}
}

// startIndex is POST /index: queue a job over folders or files of the server's machine.
func (s *Server) startIndex(c echo.Context) error {
	if err := requireJSON(c, `the job {"paths": ["/abs/folder"]}`); err != nil {
		return err
	}
	if err := limitBody(c, s.o.MaxBodyBytes); err != nil {
		return err
	}
	var req client.IndexRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	if err := s.checkJob(&req); err != nil {
		return err
	}
	j, err := s.jobs.start(req)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, j.URL)
	return c.JSON(http.StatusAccepted, j)
}

// checkJob validates a job's paths (absolute, clean, existing, inside IndexRoots) and knobs.
func (s *Server) checkJob(req *client.IndexRequest) error {
	switch {
	case len(req.Paths) == 0:
		return badRequest(`"paths" is required: the folders or files to index, as absolute paths on the server`)
	case len(req.Paths) > maxJobPaths:
		return badRequest("%d paths, over the limit of %d", len(req.Paths), maxJobPaths)
	case req.Workers < 0 || req.Workers > 256 || req.Batch < 0 || req.Batch > 4096 || req.MaxPixels < 0:
		return badRequest("workers (0..256), batch (0..4096) and max_pixels (>= 0) are out of range")
	}
	for _, p := range req.Paths {
		if strings.ContainsRune(p, 0) || !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return badRequest("path %q: want an absolute, clean path on the server", clip(p))
		}
		outside := errorf(http.StatusForbidden, CodeForbidden, "path %q is outside the folders this server may index", clip(p))
		if len(s.o.IndexRoots) > 0 && !indexer.Within(p, s.o.IndexRoots) {
			return outside // lexically: says nothing about what exists elsewhere
		}
		if _, err := os.Stat(p); err != nil {
			return badRequest("path %q cannot be read on the server: %v", clip(p), errors.Unwrap(err))
		}
		if !s.indexable(p) {
			return outside // through a symlink
		}
	}
	return nil
}

// indexable reports whether p is inside one of the IndexRoots (always, when there are none),
// symlinks resolved on both sides: a link inside a root that points elsewhere is outside. The
// job's indexer is confined to the roots too, for links met while walking.
func (s *Server) indexable(p string) bool {
	if len(s.o.IndexRoots) == 0 {
		return true
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	var roots []string
	for _, r := range s.o.IndexRoots {
		if rr, err := filepath.EvalSymlinks(r); err == nil {
			roots = append(roots, rr)
		}
	}
	return indexer.Within(real, roots)
}

// job is GET /jobs/{id}.
func (s *Server) job(c echo.Context) error {
	j, ok := s.jobs.get(c.Param("id"))
	if !ok {
		return errorf(http.StatusNotFound, CodeNotFound, "no job %q (finished jobs are forgotten after %d more)", clip(c.Param("id")), s.o.KeepJobs)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, j)
}

// cancelJob is DELETE /jobs/{id}: stop a job (the batch under way is committed).
func (s *Server) cancelJob(c echo.Context) error {
	j, ok := s.jobs.cancel(c.Param("id"))
	if !ok {
		return errorf(http.StatusNotFound, CodeNotFound, "no job %q", clip(c.Param("id")))
	}
	return c.JSON(http.StatusOK, j)
}
