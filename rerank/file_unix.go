//go:build unix

package rerank

import "syscall"

// readFile reads the file at path into buf until buf is full or the file ends, and returns the
// bytes read. It uses the system calls directly: an os.File's poller registration, cleanup and
// allocations cost a third of reading a 16 KiB cache file.
func readFile(path string, buf []byte) (int, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return n, err
		case m == 0:
			return n, nil
		}
		n += m
	}
	return n, nil
}
