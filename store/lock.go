package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// fileLock is a flock (exclusive, or shared for a read-only open) on a companion file (the database's path + ".lock") that is
// never renamed or removed. bbolt locks the database file itself, but CompactFile renames a new
// file over the path: a process that opened the path before the rename and waited for bbolt's
// lock would get the lock of the old, unlinked file and read it as truncated. The companion
// lock is taken before the database file is opened and held until Close, compaction's rename
// included, so a second process opens the path only once the rename is done.
type fileLock struct{ f *os.File }

// lockFile takes the lock of path (shared or exclusive), waiting up to timeout (ErrLocked after it).
func lockFile(path string, timeout time.Duration, shared bool) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return &fileLock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: held by another process for %s: %w", path, timeout, ErrLocked)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// unlock releases the lock (closing the file releases the flock).
func (l *fileLock) unlock() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}
