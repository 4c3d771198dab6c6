package dc09gw

import (
	"container/list"
	"errors"
	"log/slog"
	"net"
	"time"

	"qorgan/internal/protocol/dc09"
)

// tcpConn is one panel connection.
type tcpConn struct {
	net.Conn
	src source
	// readBy and writeBy are the deadlines last set; moving a deadline
	// costs a timer update, so it is moved only when it has come closer
	// than rearm.
	readBy, writeBy time.Time
	// opened is when the connection was accepted; proved is set (under
	// the receiver's mu) once it has sent a frame from a registered
	// account. Until then inAll and inSrc are its places in the
	// receiver's lists of unproved connections.
	opened       time.Time
	proved       bool
	inAll, inSrc *list.Element
	// evicted is set (under mu) when the connection was closed to make
	// room for a newcomer; its place was given up then.
	evicted bool
}

// rearm is the share of a timeout a deadline may run down before it is
// moved again: the idle timeout is then between 15/16 and 16/16 of the
// configured one.
const rearm = 16

func (r *Receiver) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := r.tcp.AcceptTCP()
		if err != nil {
			if r.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, most likely: wait rather than spin,
			// the open connections keep being served.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			r.log.Error("dc09: accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		r.admit(c)
	}
}

// admit starts serving a connection. When a limit is reached, the oldest
// connection that has not proved itself (from the same address for the
// per-address limit, from anywhere for the total) is closed to make room;
// when there is none, the newcomer is closed at once so that it holds no
// descriptor.
func (r *Receiver) admit(c *net.TCPConn) {
	ap := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	src := source{ip: ap.Addr().Unmap().String(), remote: ap.String(), transport: "tcp"}
	tc := &tcpConn{Conn: c, src: src, opened: time.Now()}

	r.mu.Lock()
	why := ""
	var victims []*tcpConn
	if r.perIP[src.ip] >= r.cfg.MaxConnsPerSource {
		if l := r.unprovedBySrc[src.ip]; l != nil && l.Len() > 0 {
			victims = append(victims, r.evictLocked(l.Front().Value.(*tcpConn)))
		} else {
			why = "connection-limit-source"
		}
	}
	if why == "" && len(r.conns) >= r.cfg.MaxConns {
		if r.unproved.Len() > 0 {
			victims = append(victims, r.evictLocked(r.unproved.Front().Value.(*tcpConn)))
		} else {
			why = "connection-limit-total"
		}
	}
	if why == "" {
		r.conns[tc] = struct{}{}
		r.perIP[src.ip]++
		tc.inAll = r.unproved.PushBack(tc)
		l := r.unprovedBySrc[src.ip]
		if l == nil {
			l = list.New()
			r.unprovedBySrc[src.ip] = l
		}
		tc.inSrc = l.PushBack(tc)
		r.running.Add(1)
	}
	r.mu.Unlock()

	for _, v := range victims {
		r.stats.evicted.Add(1)
		v.Conn.(*net.TCPConn).SetLinger(0)
		v.Close()
		r.reject(slog.LevelWarn, v.src, "evicted-unproved", nil, dc09.Message{}, nil, "open_for", time.Since(v.opened).Round(time.Millisecond))
	}
	if why != "" {
		r.stats.refused.Add(1)
		c.SetLinger(0)
		c.Close()
		r.reject(slog.LevelWarn, src, why, nil, dc09.Message{}, nil)
		return
	}
	r.stats.connections.Add(1)
	go r.serve(tc)
}

// evictLocked gives up an unproved connection's place; the caller closes
// it after unlocking, and its serve goroutine then ends.
func (r *Receiver) evictLocked(tc *tcpConn) *tcpConn {
	tc.evicted = true
	r.forgetLocked(tc)
	return tc
}

// forgetLocked removes a connection from the receiver's books.
func (r *Receiver) forgetLocked(tc *tcpConn) {
	delete(r.conns, tc)
	if r.perIP[tc.src.ip]--; r.perIP[tc.src.ip] <= 0 {
		delete(r.perIP, tc.src.ip)
	}
	r.unproveLocked(tc)
}

// unproveLocked takes a connection off the lists of unproved ones.
func (r *Receiver) unproveLocked(tc *tcpConn) {
	if tc.inAll != nil {
		r.unproved.Remove(tc.inAll)
		tc.inAll = nil
	}
	if tc.inSrc != nil {
		l := r.unprovedBySrc[tc.src.ip]
		l.Remove(tc.inSrc)
		tc.inSrc = nil
		if l.Len() == 0 {
			delete(r.unprovedBySrc, tc.src.ip)
		}
	}
}

// prove marks a connection as a panel's: it is never closed to make room,
// and its idle timeout becomes the full one. It reports false when the
// connection was evicted meanwhile (its frames are still answered).
func (r *Receiver) prove(tc *tcpConn) {
	r.mu.Lock()
	if !tc.evicted {
		tc.proved = true
		r.unproveLocked(tc)
	}
	r.mu.Unlock()
}

func (r *Receiver) release(tc *tcpConn) {
	tc.Close()
	r.mu.Lock()
	if !tc.evicted {
		r.forgetLocked(tc)
	}
	r.mu.Unlock()
	r.stats.connections.Add(-1)
	r.running.Done()
}

// wakeConns ends the reads of every connection so that each finishes the
// frames it holds and closes.
func (r *Receiver) wakeConns() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for tc := range r.conns {
		tc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (r *Receiver) closeConns() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for tc := range r.conns {
		tc.Close()
	}
}

const (
	// firstBuffer fits the common frame; the buffer grows to maxBuffer for
	// long ones. Cut keeps less than MaxFrameLen buffered between reads.
	firstBuffer = 512
	maxBuffer   = 2 * dc09.MaxFrameLen
)

// serve reads frames from one connection and answers each in order. The
// frames of one read are queued together and their answers written
// together, so a panel that sends without waiting loses no round trips.
func (r *Receiver) serve(tc *tcpConn) {
	defer r.release(tc)
	if !r.extendIdle(tc) {
		return
	}
	buf := make([]byte, 0, firstBuffer)
	var steps []step
	var out []byte
	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), maxBuffer))
			copy(grown, buf)
			buf = grown
		}
		n, readErr := tc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]

		steps = steps[:0]
		start, garbage := 0, 0
		for {
			frame, advance, skipped := dc09.Cut(buf[start:])
			start += advance
			garbage += skipped
			if frame == nil {
				break
			}
			st := r.inspect(frame, tc.src)
			r.enqueue(st)
			steps = append(steps, st)
		}
		buf = buf[:copy(buf, buf[start:])]
		if garbage > 0 {
			r.stats.garbage.Add(uint64(garbage))
			r.reject(slog.LevelWarn, tc.src, "garbage", nil, dc09.Message{}, nil, "bytes", garbage)
		}

		if len(steps) > 0 {
			if !tc.proved {
				for i := range steps {
					if steps[i].pending != nil {
						r.prove(tc)
						break
					}
				}
			}
			out = out[:0]
			for i := range steps {
				out = append(out, r.finish(steps[i])...)
				steps[i] = step{}
			}
			if len(out) > 0 {
				now := time.Now()
				if tc.writeBy.Sub(now) < r.cfg.WriteTimeout-r.cfg.WriteTimeout/rearm {
					tc.writeBy = now.Add(r.cfg.WriteTimeout)
					tc.SetWriteDeadline(tc.writeBy)
				}
				if _, err := tc.Write(out); err != nil {
					return
				}
			}
			if readErr == nil && !r.extendIdle(tc) {
				return
			}
		}
		if readErr != nil {
			var ne net.Error
			if errors.As(readErr, &ne) && ne.Timeout() && !r.stopping.Load() {
				r.log.Debug("dc09: idle connection closed", "remote", tc.src.remote)
			}
			return
		}
	}
}

// extendIdle gives the connection IdleTimeout more to deliver a complete
// frame; a connection that has not proved itself keeps the deadline of
// FirstFrameTimeout after it was opened. It reports false when the
// receiver is stopping: the deadline set here could otherwise overwrite
// the one that wakes the read for the stop.
func (r *Receiver) extendIdle(tc *tcpConn) bool {
	if !tc.proved {
		if tc.readBy.IsZero() {
			tc.readBy = tc.opened.Add(r.cfg.FirstFrameTimeout)
			tc.SetReadDeadline(tc.readBy)
		}
		return !r.stopping.Load()
	}
	now := time.Now()
	if tc.readBy.Sub(now) < r.cfg.IdleTimeout-r.cfg.IdleTimeout/rearm {
		tc.readBy = now.Add(r.cfg.IdleTimeout)
		tc.SetReadDeadline(tc.readBy)
	}
	return !r.stopping.Load()
}
