package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/web/client"
)

// pollEvery is how often a handed-over job's progress is read.
const pollEvery = 200 * time.Millisecond

// findServer looks for a running server that owns the data dir. A stale server.json (its
// server is gone) is reported and ignored; a server that runs but does not answer is an error.
func findServer(ctx context.Context, dir string, stderr io.Writer) (client.ServerFile, bool, error) {
	f, st, err := client.Discover(ctx, dir, nil)
	switch st {
	case client.NoServer:
		return f, false, nil
	case client.StaleServer:
		fmt.Fprintf(stderr, "ignoring a stale %s in %s: %v\n", client.ServerFileName, dir, err)
		return f, false, nil
	}
	if err != nil {
		return f, false, fmt.Errorf("data dir %s belongs to a running server: %w", dir, err)
	}
	return f, true, nil
}

// apiKey reads the key from --api-key-file (its first line that is not blank or a '#'
// comment), else from $GLIMPSE_API_KEY.
func apiKey(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(cli.EnvAPIKey)), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("--api-key-file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			return line, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("--api-key-file: %w", err)
	}
	return "", fmt.Errorf("--api-key-file %s: no key in it", file)
}

// addViaServer hands an add to the server that owns the data dir and follows it with the same
// progress bar and summary as a local run. Interrupting cancels the server's job (its batch
// under way is committed).
func addViaServer(ctx context.Context, srv client.ServerFile, key string, req client.IndexRequest, rep *reportFile,
	stdout, stderr io.Writer) error {
	if key == "" {
		return fmt.Errorf("a Glimpse server (pid %d) at %s owns this data dir; hand it the job with --api-key-file FILE "+
			"or $%s (a key of its --api-key-file), or stop the server", srv.PID, srv.URL, cli.EnvAPIKey)
	}
	for i, p := range req.Paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		req.Paths[i] = abs
	}
	c := &client.Client{BaseURL: srv.URL, Key: key}
	j, err := c.StartIndex(ctx, req)
	if err != nil {
		return fmt.Errorf("hand the job to the server at %s: %w", srv.URL, err)
	}
	fmt.Fprintf(stderr, "the server at %s (pid %d) runs this job (%s)\n", srv.URL, srv.PID, j.ID)
	prog := newProgress(stderr)
	j, err = follow(ctx, c, j, prog)
	prog.finish()
	if err != nil {
		return err
	}
	for i, p := range j.Problems {
		r := indexer.FileResult{Path: p.Path, Status: indexer.Status(p.Status), Reason: p.Reason}
		if rep != nil {
			rep.write(r)
		} else if i < maxListed {
			fmt.Fprintf(stderr, "%s %s: %s\n", r.Status, r.Path, r.Reason)
		}
	}
	if rep != nil {
		if err := rep.Close(); err != nil {
			return err
		}
	}
	p := j.Progress
	sec := float64(p.ElapsedMS) / 1e3
	rate := 0.0
	if sec > 0 {
		rate = float64(p.Done) / sec
	}
	fmt.Fprintf(stdout, "%d files: %d indexed, %d unchanged, %d duplicate, %d skipped, %d failed in %.1fs (%.1f files/s)\n",
		p.Found, p.Indexed, p.Unchanged, p.Duplicate, p.Skipped, p.Failed, sec, rate)
	if n := len(j.Problems) + j.ProblemsOmitted; rep == nil && n > maxListed {
		fmt.Fprintf(stderr, "(%d more skipped or failed; --report FILE lists them)\n", n-maxListed)
	} else if j.ProblemsOmitted > 0 {
		fmt.Fprintf(stderr, "(the server lists the first %d skipped or failed files; %d more are not in the report)\n",
			client.MaxProblems, j.ProblemsOmitted)
	}
	switch j.State {
	case client.JobFailed:
		return fmt.Errorf("the server's job failed: %s", j.Error)
	case client.JobCancelled:
		return fmt.Errorf("interrupted after %d of %d files; the committed batches are kept: run the same command again to finish",
			p.Done, p.Found)
	}
	return nil
}

// follow polls a job until it is final. When ctx ends it cancels the job and keeps polling
// (without ctx) until the server reports it stopped.
func follow(ctx context.Context, c *client.Client, j client.Job, prog *progress) (client.Job, error) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	pollCtx := ctx
	for !j.State.Final() {
		select {
		case <-pollCtx.Done():
			var cancel context.CancelFunc
			pollCtx, cancel = context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := c.CancelJob(pollCtx, j.ID); err != nil {
				return j, fmt.Errorf("cancel the server's job %s: %w", j.ID, err)
			}
		case <-tick.C:
		}
		var err error
		if j, err = c.Job(pollCtx, j.ID); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return j, fmt.Errorf("the server did not stop job %s in time", j.ID)
			}
			return j, fmt.Errorf("follow the server's job (its committed batches are kept; run again to finish): %w", err)
		}
		prog.update(indexerProgress(j.Progress))
	}
	return j, nil
}

func indexerProgress(p client.Progress) indexer.Progress {
	return indexer.Progress{Total: p.Total, WalkDone: p.WalkDone, Summary: indexer.Summary{Found: p.Found,
		Indexed: p.Indexed, Unchanged: p.Unchanged, Duplicate: p.Duplicate, Skipped: p.Skipped, Failed: p.Failed,
		Elapsed: time.Duration(p.ElapsedMS) * time.Millisecond}}
}
