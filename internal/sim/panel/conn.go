package panel

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"time"

	"qorgan/internal/protocol/dc09"
)

// panel is one simulated panel: one account, one connection, one frame in
// flight at a time.
type panel struct {
	cfg     *Config
	account string
	key     []byte
	codes   []code
	index   int

	conn      net.Conn
	stopWatch func() bool // ends the abort watch on conn
	buf       []byte      // TCP bytes read but not yet a whole reply
	latencies []time.Duration
}

// ackWindow accepts any *ACK timestamp: the panel checks that the answer
// decrypts and echoes its frame, not the receiver's clock.
var ackWindow = dc09.Window{Past: 365 * 24 * time.Hour, Future: 365 * 24 * time.Hour}

func (p *panel) run(r *run) {
	defer p.close()
	var interval time.Duration
	var next time.Time
	if r.cfg.Rate > 0 {
		interval = time.Duration(float64(r.cfg.Panels) / r.cfg.Rate * float64(time.Second))
		// Spread the panels over one interval rather than all at once.
		next = r.start.Add(interval * time.Duration(p.index) / time.Duration(r.cfg.Panels))
	}
	seq := 0
	for n := 0; ; n++ {
		var scheduled time.Time
		if interval > 0 {
			if !sleepUntil(r.stopNew, next) {
				return
			}
			if r.cfg.FromSchedule {
				scheduled = next
			}
			next = next.Add(interval)
		}
		if !r.claim() {
			return
		}
		seq = nextSequence(seq)
		c := p.codes[n%len(p.codes)]
		frame, err := p.frame(c, seq)
		if err != nil {
			// The configuration was checked; only the pad reader can fail.
			r.bad.Add(1)
			return
		}
		r.frames.Add(1)
		if !p.exchange(r, frame, seq, scheduled) {
			return
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// outcome of waiting for an answer.
type outcome int

const (
	answered outcome = iota
	timedOut
	broken // connection lost: reconnect and send again at once
	aborted
)

// exchange sends a frame and waits for its answer, sending the same bytes
// again after each AckTimeout, up to Attempts times. Its latency runs from
// the transmission that got the answer, or from scheduled when that is
// set. It reports false when the run was aborted.
func (p *panel) exchange(r *run, frame []byte, seq int, scheduled time.Time) bool {
	want := fmtSeq(seq)
	told := false // Written was told of this frame
	for attempt := 0; attempt < r.cfg.Attempts; attempt++ {
		if attempt > 0 && r.stopNew.Err() != nil {
			break // the run is over: no more retransmissions
		}
		if r.abort.Err() != nil {
			return false
		}
		if p.conn == nil {
			if err := p.dial(r); err != nil {
				if !sleepUntil(r.abort, time.Now().Add(min(r.cfg.AckTimeout, time.Second))) {
					return false
				}
				continue
			}
		}
		r.transmissions.Add(1)
		sent := time.Now()
		p.conn.SetWriteDeadline(sent.Add(r.cfg.AckTimeout))
		if _, err := p.conn.Write(frame); err != nil {
			p.close()
			continue
		}
		if !told && !scheduled.IsZero() && r.cfg.Written != nil {
			told = true
			r.cfg.Written(scheduled, time.Since(scheduled))
		}
		switch p.await(r, want, sent.Add(r.cfg.AckTimeout)) {
		case answered:
			from := sent
			if !scheduled.IsZero() {
				from = scheduled
			}
			d := time.Since(from)
			p.latencies = append(p.latencies, d)
			if r.cfg.Answered != nil {
				r.cfg.Answered(from, d)
			}
			return true
		case aborted:
			return false
		case broken:
			// Refused or dropped: try again soon, but not in a tight loop
			// against a receiver that keeps refusing.
			p.close()
			if !sleepUntil(r.abort, time.Now().Add(min(r.cfg.AckTimeout/10, 100*time.Millisecond))) {
				return false
			}
		}
	}
	r.noAnswer.Add(1)
	return true
}

func fmtSeq(seq int) string {
	b := []byte("0000")
	for i := 3; i >= 0 && seq > 0; i-- {
		b[i] = byte('0' + seq%10)
		seq /= 10
	}
	return string(b)
}

func (p *panel) dial(r *run) error {
	d := net.Dialer{Timeout: r.cfg.AckTimeout}
	c, err := d.DialContext(r.abort, r.cfg.Transport, r.cfg.Addr)
	if err != nil {
		return err
	}
	if p.stopWatch != nil {
		r.reconnects.Add(1)
	}
	p.conn, p.buf = c, p.buf[:0]
	// An abort wakes the blocked read.
	p.stopWatch = context.AfterFunc(r.abort, func() { c.SetDeadline(time.Unix(1, 0)) })
	return nil
}

func (p *panel) close() {
	if p.conn == nil {
		return
	}
	p.stopWatch()
	p.conn.Close()
	p.conn = nil
}

// await reads answers until one answers the frame with sequence want.
func (p *panel) await(r *run, want string, deadline time.Time) outcome {
	p.conn.SetReadDeadline(deadline)
	for {
		raw, err := p.readFrame()
		if err != nil {
			switch {
			case r.abort.Err() != nil:
				return aborted
			case errors.Is(err, os.ErrDeadlineExceeded):
				return timedOut
			}
			return broken
		}
		if p.classify(r, raw, want) {
			return answered
		}
	}
}

// readFrame returns the next reply: a datagram over UDP, a frame cut from
// the stream over TCP.
func (p *panel) readFrame() ([]byte, error) {
	if p.cfg.Transport == "udp" {
		b := make([]byte, dc09.MaxFrameLen+1)
		n, err := p.conn.Read(b)
		return b[:n], err
	}
	for {
		frame, advance, _ := dc09.Cut(p.buf)
		if frame != nil {
			frame = append([]byte(nil), frame...)
			p.buf = p.buf[:copy(p.buf, p.buf[advance:])]
			return frame, nil
		}
		p.buf = p.buf[:copy(p.buf, p.buf[advance:])]
		if cap(p.buf)-len(p.buf) < 512 {
			p.buf = append(make([]byte, 0, len(p.buf)+1024), p.buf...)
		}
		n, err := p.conn.Read(p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+n]
		if err != nil && n == 0 {
			return nil, err
		}
	}
}

// classify counts an answer and reports whether it answers the frame in
// flight. A NAK always does: its sequence is 0000 by definition.
func (p *panel) classify(r *run, raw []byte, want string) bool {
	var keys dc09.KeyLookup
	if p.key != nil {
		keys = dc09.Keys{strings.ToUpper(p.account): p.key}
	}
	m, err := dc09.Parse(raw, keys, p.cfg.Now(), ackWindow)
	if err != nil {
		r.bad.Add(1)
		return false
	}
	switch m.Token {
	case dc09.TokenNAK:
		r.naks.Add(1)
		return true
	case dc09.TokenACK, dc09.TokenDUH:
	default:
		r.bad.Add(1)
		return false
	}
	if m.Sequence != want || !strings.EqualFold(m.Account, p.account) {
		// A late answer to an earlier transmission, or not ours.
		if m.Sequence != want {
			return false
		}
		r.bad.Add(1)
		return false
	}
	if m.Token == dc09.TokenDUH {
		r.duhs.Add(1)
		return true
	}
	// An encrypted frame must get an *ACK, a plain one a plain ACK.
	if m.Encrypted != (p.key != nil) {
		r.bad.Add(1)
		return false
	}
	r.acks.Add(1)
	if !p.exactACK(raw, m) {
		r.wrongACKs.Add(1)
	}
	return true
}

// exactACK reports whether an ACK's bytes are the ones DC-09 prescribes for
// the frame in flight (whose sequence m already matched): the plain ACK is
// fully determined by the frame, so it must match byte for byte; an *ACK
// ends in the encryption of a random pad and the receiver's clock, so its
// header up to the encrypted part must match byte for byte (the parse
// already checked its CRC, length and that it decrypts).
func (p *panel) exactACK(raw []byte, m dc09.Message) bool {
	echo := dc09.Message{Sequence: m.Sequence, Receiver: p.cfg.Receiver, Prefix: p.cfg.Prefix, Account: p.account}
	if p.key == nil {
		return bytes.Equal(raw, dc09.ACK(echo))
	}
	want := dc09.ACK(echo) // LF, CRC and length (9 bytes), then "ACK"…#acct[]
	head := append([]byte(`"*`), want[10:len(want)-3]...)
	head = append(head, '[')
	return len(raw) > 9 && bytes.HasPrefix(raw[9:], head)
}
