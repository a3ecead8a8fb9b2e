package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/web/client"
)

// runBackup writes the data dir's library as a tar archive: through the server that owns the
// data dir when one runs (GET /api/v1/backup, an API key needed), else from the database
// directly. The archive is written to FILE.partial and renamed once complete.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	lf := newLibFlags("backup", usageBackup, stderr, false, false)
	fset, data := lf.fset, lf.data
	to := fset.String("to", "", "archive to write (a tar file; required)")
	keyFile := fset.String("api-key-file", "", "key for a running server's backup (else $"+cli.EnvAPIKey+")")
	if err := cli.Parse(fset, args); err != nil {
		return err
	}
	if *to == "" || fset.NArg() != 0 {
		return cli.Usagef("backup: want --to FILE and no arguments\nusage: %s", usageBackup)
	}
	dir := cli.DataDir(*data)
	tmp := *to + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp) // gone after the rename
	var what string
	srv, live, err := findServer(ctx, dir, stderr)
	if err != nil {
		f.Close()
		return err
	}
	if live {
		key, err := apiKey(*keyFile)
		if err == nil && key == "" {
			err = fmt.Errorf("a Glimpse server (pid %d) at %s owns this data dir; back up through it with --api-key-file FILE or $%s",
				srv.PID, srv.URL, cli.EnvAPIKey)
		}
		if err != nil {
			f.Close()
			return err
		}
		n, err := (&client.Client{BaseURL: srv.URL, Key: key}).Backup(ctx, f)
		if err != nil {
			f.Close()
			return fmt.Errorf("backup through the server at %s: %w", srv.URL, err)
		}
		what = fmt.Sprintf("%s through the running server", size(n))
	} else {
		lib, err := library.Open(dir, library.Options{NoCreate: true})
		if err != nil {
			f.Close()
			return cli.InUse(dir, err)
		}
		s, err := lib.Backup(f)
		lib.Close()
		if err != nil {
			f.Close()
			return err
		}
		what = fmt.Sprintf("database %s, %d thumbnails", size(s.DBBytes), s.Thumbnails)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, *to); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%s)\n", dir, *to, what)
	return nil
}

// runRestore extracts a backup archive into a new data dir and checks it.
func runRestore(_ context.Context, args []string, stdout, stderr io.Writer) error {
	lf := newLibFlags("restore", usageRestore, stderr, false, false)
	fset, data := lf.fset, lf.data
	from := fset.String("from", "", "archive written by `indexer backup` (required)")
	if err := cli.Parse(fset, args); err != nil {
		return err
	}
	if *from == "" || fset.NArg() != 0 {
		return cli.Usagef("restore: want --from FILE and no arguments\nusage: %s", usageRestore)
	}
	dir := cli.DataDir(*data)
	f, err := os.Open(*from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	s, err := library.Restore(f, dir)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(stdout, "restored %s into %s: database %s (checked), %d thumbnails\n", *from, abs, size(s.DBBytes), s.Thumbnails)
	return nil
}
