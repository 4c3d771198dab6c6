package bench

import (
	"bufio"
	"crypto/rand"
	"net"
	"sync"
	"time"

	"qorgan/internal/protocol/dc09"
)

// ceiling is a DC-09 receiver that stores nothing: for each TCP stream it
// cuts the frames, parses them (decrypting with the accounts' keys),
// decides the answer and writes it, as the real receiver does before and
// after its commit. Run on the same machine and the same load as the real
// receiver, its rate is the ceiling the real one is measured against: what
// is left of the difference is storage.
type ceiling struct {
	ln    net.Listener
	keys  dc09.Keys
	conns sync.WaitGroup
	mu    sync.Mutex
	open  map[net.Conn]bool
}

// startCeiling listens on a loopback port and answers until stop.
func startCeiling(keys dc09.Keys) (*ceiling, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &ceiling{ln: ln, keys: keys, open: map[net.Conn]bool{}}
	go c.accept()
	return c, nil
}

// Addr is the address the panels send to.
func (c *ceiling) Addr() string { return c.ln.Addr().String() }

func (c *ceiling) accept() {
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.open[conn] = true
		c.mu.Unlock()
		c.conns.Go(func() { c.serve(conn) })
	}
}

func (c *ceiling) serve(conn net.Conn) {
	defer func() {
		conn.Close()
		c.mu.Lock()
		delete(c.open, conn)
		c.mu.Unlock()
	}()
	sc := bufio.NewScanner(conn)
	sc.Split(dc09.SplitFrames)
	window := dc09.DefaultWindow()
	for sc.Scan() {
		now := time.Now()
		m, err := dc09.Parse(sc.Bytes(), c.keys, now, window)
		out, err := dc09.Answer(dc09.Decide(m, err), m, c.keys, now, rand.Reader)
		if err != nil || out == nil {
			continue
		}
		if _, err := conn.Write(out); err != nil {
			return
		}
	}
}

// stop closes the listener and every connection and waits for them.
func (c *ceiling) stop() {
	c.ln.Close()
	c.mu.Lock()
	for conn := range c.open {
		conn.Close()
	}
	c.mu.Unlock()
	c.conns.Wait()
}
