package dc09gw_test

import (
	"context"
	"log/slog"
	"os/signal"
	"syscall"

	"qorgan/internal/ingest/dc09gw"
)

// How cmd/ wires the receiver: the alarm domain commits the frames (one
// transaction per batch, deduplicating retransmissions) and the registry
// answers for accounts: the panel's device and key.
func Example() {
	var (
		alarms   dc09gw.Alarms  // *alarm.Service
		registry dc09gw.Devices // *registry.Registry: account → device and key
	)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r, err := dc09gw.New(dc09gw.Config{Addr: "0.0.0.0:10001", Logger: slog.Default()}, alarms, registry)
	if err != nil {
		slog.Error("dc09 receiver", "err", err)
		return
	}
	if err := r.Run(ctx); err != nil {
		slog.Error("dc09 receiver", "err", err)
	}
}
