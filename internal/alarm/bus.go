package alarm

import "sync"

// Bus wakes the live feed's reader (the node's Fanout) when new events are
// committed. It carries no data: the reader reads the store from its last
// event id, so a slow or reconnecting console never misses anything.
type Bus struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewBus returns a Bus.
func NewBus() *Bus { return &Bus{ch: make(chan struct{})} }

// Wait returns a channel closed at the next Notify.
func (b *Bus) Wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

// Notify wakes every waiter.
func (b *Bus) Notify() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}
