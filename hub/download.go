package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
)

// incompleteSuffix marks a file being downloaded, next to where it will be installed; a later
// download resumes it.
const incompleteSuffix = ".incomplete"

// Fetched is one file of a snapshot, in place on disk.
type Fetched struct {
	File
	// Local is the file's path on disk: the destination folder joined with File.Path.
	Local string
	// Reused is true when the file was already in place with the published digest: nothing was
	// downloaded.
	Reused bool
	// Verified is true when the file's bytes matched the hub's published digest (sha256, or the
	// git blob id of a small Hugging Face file). False only when the hub publishes none: then
	// only the size was checked.
	Verified bool
}

// Snapshot is what Client.Snapshot and Client.Fetch put in the destination folder.
type Snapshot struct {
	Repo     string
	Revision string
	Commit   string // the resolved commit, when the hub says (see Listing.Commit)
	Dir      string // the destination folder
	Files    []Fetched
	// Downloaded is the bytes transferred by this call (resumed parts not counted).
	Downloaded int64
}

// Download downloads one file of repo at revision into dstDir (as dstDir/path, folders
// included), resuming an earlier partial download of it, and verifies it.
func (c *Client) Download(ctx context.Context, repo, revision, path, dstDir string) (Fetched, error) {
	l, err := c.List(ctx, repo, revision)
	if err != nil {
		return Fetched{}, err
	}
	f, err := l.Lookup(path)
	if err != nil {
		return Fetched{}, err
	}
	s, err := c.Fetch(ctx, l, []File{f}, dstDir)
	if err != nil {
		return Fetched{}, err
	}
	return s.Files[0], nil
}

// Snapshot downloads the files of repo at revision that patterns select (see Listing.Select;
// none selects all) into dstDir, keeping the repository's layout. See Fetch.
func (c *Client) Snapshot(ctx context.Context, repo, revision string, patterns []string, dstDir string) (*Snapshot, error) {
	l, err := c.List(ctx, repo, revision)
	if err != nil {
		return nil, err
	}
	files, err := l.Select(patterns)
	if err != nil {
		return nil, err
	}
	return c.Fetch(ctx, l, files, dstDir)
}

// Fetch downloads files of listing l into dstDir (file f lands at dstDir/f.Path).
//
// A file already in place with the published digest is kept and not downloaded. The others
// stream to "<file>.incomplete" (an existing one is resumed with a Range request), are verified
// against the digest the hub publishes, synced, and renamed into place. A file that fails
// verification is deleted, and the error (a *ChecksumError) names it with the expected and the
// actual digest; a resumed file that fails is downloaded once more from its start first.
//
// Before any byte is downloaded, the bytes still needed are checked against the free space on
// dstDir's file system (Options.FreeSpace): too little gives a *SpaceError.
//
// Files download Options.Workers at a time; the first failure stops the others, leaving their
// ".incomplete" files for the next call to resume. One call at a time per destination folder.
func (c *Client) Fetch(ctx context.Context, l *Listing, files []File, dstDir string) (*Snapshot, error) {
	if err := checkFiles(files); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	s := &Snapshot{Repo: l.Repo, Revision: l.Revision, Commit: l.Commit, Dir: dstDir, Files: make([]Fetched, len(files))}
	var todo []int
	var partial, need, total int64
	for i, f := range files {
		local := filepath.Join(dstDir, filepath.FromSlash(f.Path))
		s.Files[i] = Fetched{File: f, Local: local}
		if verified, err := verify(local, f); err == nil {
			s.Files[i].Reused, s.Files[i].Verified = true, verified
			continue
		}
		todo = append(todo, i)
		have := int64(0)
		if st, err := os.Stat(local + incompleteSuffix); err == nil && st.Mode().IsRegular() && st.Size() <= f.Size {
			have = st.Size()
		}
		partial += have
		need += f.Size - have
		total += f.Size
	}
	if len(todo) == 0 {
		return s, nil
	}
	free, err := c.opts.FreeSpace(dstDir)
	if err != nil {
		return nil, fmt.Errorf("free space: %w", err)
	}
	if free >= 0 && need > free {
		return nil, fmt.Errorf("download %s@%s: %w", l.Repo, l.Revision, &SpaceError{Dir: dstDir, Need: need, Free: free})
	}
	var tr *tracker
	if c.opts.Progress != nil {
		tr = newTracker(c.opts.Progress, c.opts.ProgressInterval, l.Repo, len(todo), partial, total)
		defer tr.finish()
	}
	moved := make([]int64, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Workers)
	for _, i := range todo {
		g.Go(func() error {
			f := &s.Files[i]
			n, verified, err := c.fetchFile(gctx, c.backend.fileURL(l, f.File), f.File, f.Local, tr)
			moved[i] = n
			if err != nil {
				return fmt.Errorf("download %s from %s@%s: %w", f.Path, l.Repo, l.Revision, err)
			}
			f.Verified = verified
			tr.fileDone(f.Path)
			return nil
		})
	}
	err = g.Wait()
	for _, n := range moved {
		s.Downloaded += n
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("download %s@%s: %w", l.Repo, l.Revision, ctx.Err())
		}
		return nil, err
	}
	return s, nil
}

// Lookup returns the listed file at path, or an error wrapping ErrNotFound that names the
// repository and the file.
func (l *Listing) Lookup(path string) (File, error) {
	for _, f := range l.Files {
		if f.Path == path {
			return f, nil
		}
	}
	return File{}, fmt.Errorf("file %s not found in %s@%s: %w", path, l.Repo, l.Revision, ErrNotFound)
}

// maxRenewals caps how often a file's progress renews its retry budget: a server that sends a
// little and then stalls, again and again, fails the file after that many stalls.
const maxRenewals = 100

// fetchFile brings file f from u to local, through local.incomplete, retrying transient failures
// (a retry resumes). It returns the bytes transferred and whether a digest was checked.
func (c *Client) fetchFile(ctx context.Context, u string, f File, local string, tr *tracker) (int64, bool, error) {
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return 0, false, err
	}
	inc := local + incompleteSuffix
	var moved int64
	restarted := false
	renewals := 0
	for attempt := 0; ; {
		n, resumed, err := c.transfer(ctx, u, f, inc, tr)
		moved += n
		if err != nil {
			var ce *ChecksumError
			if errors.As(err, &ce) {
				removeCounted(inc, f.Path, tr)
				return moved, false, err
			}
			if n > 0 && renewals < maxRenewals { // progress renews the retry budget, as in huggingface_hub
				attempt = 0
				renewals++
			}
			if !retryable(err) || attempt >= c.opts.Retries {
				if st, serr := os.Stat(inc); serr == nil && st.Size() == 0 {
					_ = os.Remove(inc) // nothing to resume
				}
				return moved, false, err
			}
			attempt++
			c.opts.Logger.Warn("hub retry", "file", f.Path, "url", u, "attempt", attempt, "err", err)
			if werr := c.backoff(ctx, attempt-1, retryAfterOf(err)); werr != nil {
				return moved, false, werr
			}
			continue
		}
		verified, err := verify(inc, f)
		if err != nil {
			removeCounted(inc, f.Path, tr)
			if resumed && !restarted && errors.Is(err, ErrChecksum) {
				c.opts.Logger.Warn("hub resumed file failed verification, starting over", "file", f.Path, "err", err)
				restarted = true
				continue
			}
			return moved, false, err
		}
		if err := os.Rename(inc, local); err != nil {
			return moved, false, fmt.Errorf("install %s: %w", f.Path, err)
		}
		syncDir(filepath.Dir(local))
		return moved, verified, nil
	}
}

// removeCounted deletes a rejected partial file and takes its bytes off the progress.
func removeCounted(inc, name string, tr *tracker) {
	if st, err := os.Stat(inc); err == nil {
		tr.add(name, -st.Size(), false)
	}
	_ = os.Remove(inc)
}

// retryAfterOf is the Retry-After an error status carried, if any.
func retryAfterOf(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter
	}
	return 0
}

// transfer brings inc to f.Size bytes: resumes it with a Range request when it holds a part
// (a 200 means the server ignored the Range: start over; a 416 means the part is stale: start
// over), appends, and syncs. It returns the bytes transferred and whether it resumed a part.
func (c *Client) transfer(ctx context.Context, u string, f File, inc string, tr *tracker) (moved int64, resumed bool, err error) {
	fh, err := os.OpenFile(inc, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, false, err
	}
	defer func() {
		if cerr := fh.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	st, err := fh.Stat()
	if err != nil {
		return 0, false, err
	}
	have := st.Size()
	restart := func() error {
		tr.add(f.Path, -have, false)
		have, resumed = 0, false
		return fh.Truncate(0)
	}
	if have > f.Size { // longer than the file: not a part of it (and not counted by Fetch)
		if err := fh.Truncate(0); err != nil {
			return 0, false, err
		}
		have = 0
	}
	resumed = have > 0
	for {
		if have == f.Size {
			return moved, resumed, fh.Sync()
		}
		hdr := http.Header{}
		if have > 0 {
			hdr.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
			c.opts.Logger.Debug("hub resume", "file", f.Path, "offset", have)
		}
		resp, err := c.open(ctx, http.MethodGet, u, hdr)
		if err != nil {
			return moved, resumed, err
		}
		switch {
		case resp.StatusCode == http.StatusPartialContent && have > 0:
			cr, err := parseContentRange(resp.Header.Get("Content-Range"))
			if err == nil && cr.first != have { // not the part asked for: start over
				drain(resp.Body)
				c.opts.Logger.Debug("hub range mismatch, starting over", "file", f.Path, "offset", have, "first", cr.first)
				if err := restart(); err != nil {
					return moved, resumed, err
				}
				continue
			}
			if err == nil && cr.total >= 0 && cr.total != f.Size {
				err = &ChecksumError{Path: f.Path, Algo: "size", Want: strconv.FormatInt(f.Size, 10), Got: strconv.FormatInt(cr.total, 10)}
			}
			if err != nil {
				resp.Body.Close()
				return moved, resumed, err
			}
		case resp.StatusCode == http.StatusOK:
			if have > 0 { // the server ignored the Range
				if err := restart(); err != nil {
					resp.Body.Close()
					return moved, resumed, err
				}
			}
			if resp.ContentLength >= 0 && resp.ContentLength != f.Size {
				resp.Body.Close()
				return moved, resumed, &ChecksumError{Path: f.Path, Algo: "size", Want: strconv.FormatInt(f.Size, 10), Got: strconv.FormatInt(resp.ContentLength, 10)}
			}
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
			drain(resp.Body)
			c.opts.Logger.Debug("hub range refused, starting over", "file", f.Path, "offset", have)
			if err := restart(); err != nil {
				return moved, resumed, err
			}
			continue
		default:
			return moved, resumed, statusError(http.MethodGet, u, resp)
		}
		n, err := c.copyBody(fh, resp.Body, have, f, u, tr)
		resp.Body.Close()
		moved += n
		have += n
		if err != nil {
			return moved, resumed, err
		}
	}
}

// copyBody appends a response body to fh at offset, up to f.Size bytes.
func (c *Client) copyBody(fh *os.File, body io.Reader, offset int64, f File, u string, tr *tracker) (int64, error) {
	if _, err := fh.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			if offset+n+int64(k) > f.Size {
				return n, &ChecksumError{Path: f.Path, Algo: "size", Want: strconv.FormatInt(f.Size, 10), Got: "more"}
			}
			if _, err := fh.Write(buf[:k]); err != nil {
				return n, fmt.Errorf("write %s: %w", fh.Name(), err)
			}
			n += int64(k)
			tr.add(f.Path, int64(k), true)
		}
		switch {
		case rerr == io.EOF && offset+n < f.Size:
			return n, bodyError{url: u, err: io.ErrUnexpectedEOF}
		case rerr == io.EOF:
			return n, nil
		case rerr != nil:
			return n, bodyError{url: u, err: rerr}
		}
	}
}

// verify checks the file at p against f's size and published digest; verified is false when
// there is no digest to check.
func verify(p string, f File) (verified bool, err error) {
	fh, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() {
		return false, fmt.Errorf("%s: not a regular file: %w", p, ErrInput)
	}
	if st.Size() != f.Size {
		return false, &ChecksumError{Path: f.Path, Algo: "size", Want: strconv.FormatInt(f.Size, 10), Got: strconv.FormatInt(st.Size(), 10)}
	}
	algo, want := f.digest()
	var h hash.Hash
	switch algo {
	case "":
		return false, nil
	case "sha256":
		h = sha256.New()
	case "git-sha1":
		h = sha1.New()
		fmt.Fprintf(h, "blob %d\x00", f.Size)
	}
	if _, err := io.Copy(h, fh); err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return false, &ChecksumError{Path: f.Path, Algo: algo, Want: want, Got: got}
	}
	return true, nil
}

// syncDir makes a rename in dir durable; file systems that cannot sync a folder are ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
