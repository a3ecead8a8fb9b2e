//go:build unix

package rerank

import "syscall"

// readFile reads the file at path into buf with one read and returns the bytes read. It uses
// the system calls directly: an os.File's poller registration, cleanup and allocations cost a
// third of reading a 16 KiB cache file, and on a local file system one read returns every byte
// asked for that the file holds, so a second read only to see the end of the file is a system
// call (a fifth of the cost) for nothing. A short read (a file system that returns less) reads
// as a damaged file: the cache drops and refills it.
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
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return n, nil
	}
}
