//go:build linux

package store

import (
	"errors"
	"os"
	"syscall"
)

// syncData makes a file's data durable together with what reading it back
// needs (its size, its blocks), but not its times: fdatasync, which is how
// SQLite syncs on Linux too. The log is rewritten in place once SQLite
// starts it anew, and fsync would then still wait for the journal to record
// the new modification time on every sync.
func syncData(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
