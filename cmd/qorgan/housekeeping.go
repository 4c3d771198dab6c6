package main

import (
	"context"
	"log/slog"
	"time"

	"qorgan/internal/access"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/transfer"
)

// chore is one piece of housekeeping: what it does, how often, and the job,
// which says how many rows it deleted.
type chore struct {
	what  string
	every time.Duration
	run   func(context.Context) (int64, error)
}

// housekeepingJobs are the deletions the law and the store need: personal
// data past their retention, the record of sent messages and of imports,
// and what an intake wrote just after an erasure.
func housekeepingJobs(f serveFlags, outbox *notify.Outbox, passes *access.Service, reg *registry.Registry, jobs *transfer.Jobs) []chore {
	return []chore{
		{"old passes and presence deleted", time.Hour, func(ctx context.Context) (int64, error) {
			p, d, err := passes.Prune(ctx, time.Now().Add(-f.keepPasses))
			return int64(p + d), err
		}},
		{"old messages deleted", time.Hour, func(ctx context.Context) (int64, error) {
			var total int64
			for {
				n, err := outbox.Prune(ctx, time.Now().Add(-f.notify.keep), 1000)
				total += int64(n)
				if err != nil || n < 1000 {
					return total, err
				}
			}
		}},
		{"old import records deleted", time.Hour, func(ctx context.Context) (int64, error) {
			return jobs.Prune(ctx, time.Now().Add(-f.keepImports))
		}},
		{"guardians with no child deleted", time.Hour, func(ctx context.Context) (int64, error) {
			return reg.DropUnlinkedGuardians(ctx, time.Now().Add(-f.keepUnlinked))
		}},
		{"records written after an erasure deleted", time.Minute, func(ctx context.Context) (int64, error) {
			return reg.SweepErasures(ctx, time.Now().Add(-registry.EraseSettle))
		}},
	}
}

// housekeeping runs each chore at start and then at its interval until ctx
// ends, logging what was deleted and what failed.
func housekeeping(ctx context.Context, log *slog.Logger, chores []chore) {
	for _, c := range chores {
		go func() {
			t := time.NewTicker(c.every)
			defer t.Stop()
			for {
				n, err := c.run(ctx)
				switch {
				case err != nil && ctx.Err() == nil:
					log.Warn(c.what+": failed", "err", err)
				case n > 0:
					log.Info(c.what, "rows", n)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
}
