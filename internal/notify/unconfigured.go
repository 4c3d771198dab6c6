package notify

import (
	"context"
	"fmt"
)

// Unconfigured is the channel of an installation that has not set one up
// (name says which, e.g. "SMS"): it dead-letters every message at once, so
// the school sees it as undelivered instead of waiting forever.
func Unconfigured(name string) Channel {
	return ChannelFunc(func(ctx context.Context, m Message) error {
		return Permanent(fmt.Errorf("the %s channel is not configured on this installation", name))
	})
}
