package dc09gw

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"qorgan/internal/protocol/dc09"
)

// udpLoop reads datagrams, one frame each, and handles each in its own
// goroutine (at most MaxUDPInFlight) since its answer waits for a commit.
func (r *Receiver) udpLoop() {
	slots := make(chan struct{}, r.cfg.MaxUDPInFlight)
	// One byte more than a frame may have, to tell an oversize datagram
	// from one that fits.
	buf := make([]byte, dc09.MaxFrameLen+1)
	for {
		n, from, err := r.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if r.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			r.log.Error("dc09: udp read failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			r.stats.udpDropped.Add(1)
			continue
		}
		datagram := append([]byte(nil), buf[:n]...)
		r.running.Add(1)
		go func() {
			defer func() {
				<-slots
				r.running.Done()
			}()
			r.handleDatagram(datagram, from)
		}()
	}
}

func (r *Receiver) handleDatagram(datagram []byte, from netip.AddrPort) {
	src := source{ip: from.Addr().Unmap().String(), remote: from.String(), transport: "udp"}
	st := r.inspect(datagram, src)
	r.enqueue(st)
	out := r.finish(st)
	if len(out) == 0 {
		return
	}
	if _, err := r.udp.WriteToUDPAddrPort(out, from); err != nil {
		r.log.Warn("dc09: udp reply failed", "remote", src.remote, "err", err)
	}
}
