package weaviatetest

import "syscall"

// procAttr starts a node in its own process group, killed with the test process that
// started it (a test that times out or panics leaves no node behind).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
