package indexer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/glimpse-search/glimpse/library"
)

// LastRun is the summary of the latest `add` run, kept in the data dir's library.LastRunFile.
type LastRun struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Roots    []string  `json:"roots"`
	Summary
}

func saveLastRun(l *library.Library, r LastRun) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return l.WriteFile(filepath.Join(l.Dir(), library.LastRunFile), append(b, '\n'))
}

// ReadLastRun returns the latest run's summary in the library; ok is false when there has been
// none.
func ReadLastRun(l *library.Library) (r LastRun, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(l.Dir(), library.LastRunFile))
	if errors.Is(err, fs.ErrNotExist) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, false, fmt.Errorf("%s: %w", library.LastRunFile, err)
	}
	return r, true, nil
}
