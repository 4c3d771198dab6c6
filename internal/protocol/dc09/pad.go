package dc09

import (
	"crypto/rand"
	"io"
	"sync"
)

// SharedPad is a pad source for the encrypted frames and ACKs that many
// goroutines may read at once: crypto/rand's reader when r is nil, else r
// with its reads serialised, since a caller's source (a seeded one in a
// test, say) need not be safe for concurrent use.
func SharedPad(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return &lockedReader{r: r}
}

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
