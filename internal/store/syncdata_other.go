//go:build !linux

package store

import "os"

// syncData makes a file's data durable (fsync where fdatasync is not
// offered; see syncdata_linux.go).
func syncData(f *os.File) error { return f.Sync() }
