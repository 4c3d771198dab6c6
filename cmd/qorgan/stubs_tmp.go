package main

import (
	"context"
	"errors"
	"io"
)

func runImport(ctx context.Context, args []string, out, errOut io.Writer) error {
	return errors.New("import: not wired yet")
}
func runExport(ctx context.Context, args []string, out, errOut io.Writer) error {
	return errors.New("export: not wired yet")
}
