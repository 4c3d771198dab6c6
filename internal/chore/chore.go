// Package chore runs a service's periodic work — deleting what is past its
// retention, checks that fall due — at start and then at an interval, until
// the context ends. Each service that owns such work has a Run(ctx) built on
// it; chore imports nothing of Qorgan's.
package chore

import (
	"context"
	"log/slog"
	"time"
)

// Every runs job at once and then every interval until ctx ends. The job
// says how many things it did (rows deleted, messages queued): a non-zero
// count is logged as what with count under unit; a failure is logged as a
// warning and the next tick tries again. log may be nil (slog.Default).
func Every(ctx context.Context, every time.Duration, log *slog.Logger, what, unit string, job func(context.Context) (int64, error)) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := job(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn(what+": failed", "err", err)
		case n > 0:
			log.Info(what, unit, n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
