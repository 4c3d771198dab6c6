package auth

import (
	"context"
	"math"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"qorgan/internal/config"
	"qorgan/internal/errs"
)

// SignInLimits bound what sign-in attempts may cost the server. A password
// check is argon2id with 64 MiB and three passes over both cores for about
// a third of a second: unbounded, forty wrong passwords at once took a
// server to 4.8 GB and its DC-09 acknowledgements to seconds. The zero value
// of every field means its default.
type SignInLimits struct {
	// Checks is how many password checks run at once (each holds 64 MiB).
	// Default: one per two cores, at least one (argon2id runs two lanes).
	Checks int
	// Waiting is how many attempts may wait for a check; the next one is
	// answered "busy" at once, without hashing. Default 4 × Checks.
	Waiting int
	// Wait is how long an attempt waits for a check before it is answered
	// "busy". Default 2 s.
	Wait time.Duration
	// LoginBurst failed attempts are allowed for one login name (known or
	// not); after them, one more every LoginEvery. Defaults 10 and 1 min:
	// at most about 60 guesses an hour at any one account.
	LoginBurst int
	LoginEvery time.Duration
	// AddrBurst failed attempts are allowed from one source address (an
	// IPv6 address counts by its /64); after them, one more every
	// AddrEvery. Defaults 30 and 2 s: a school's staff behind one NAT
	// mistyping their passwords is not stopped, a flood from one host is.
	AddrBurst int
	AddrEvery time.Duration
	// PerSecond bounds the password checks started per second, over the
	// whole server, with a burst of Burst: a check runs in a niced worker
	// on a core of its own, but its 64 MiB sweep still competes with the
	// server for the memory bus and the caches, and on a small machine a
	// worker busy without pause lifted the ACK p99 of the alarms about
	// threefold. Default 2 per second (a whole country's staff signing in
	// at eight o'clock is well under that), Burst 10.
	PerSecond float64
	Burst     int
	// MaxKeys bounds the memory of the throttles: when one holds more
	// names or addresses, its oldest generation is forgotten. Default
	// 100,000.
	MaxKeys int
}

func (l SignInLimits) withDefaults() SignInLimits {
	config.OrDefault(&l.Checks, max(1, runtime.NumCPU()/2))
	config.OrDefault(&l.Waiting, 4*l.Checks)
	config.OrDefault(&l.Wait, 2*time.Second)
	config.OrDefault(&l.LoginBurst, 10)
	config.OrDefault(&l.LoginEvery, time.Minute)
	config.OrDefault(&l.AddrBurst, 30)
	config.OrDefault(&l.AddrEvery, 2*time.Second)
	config.OrDefault(&l.PerSecond, 2)
	config.OrDefault(&l.Burst, 10)
	config.OrDefault(&l.MaxKeys, 100_000)
	return l
}

// signInGuard enforces SignInLimits: a semaphore of password checks with a
// bounded queue, and token buckets of failed attempts per login name and
// per source address.
type signInGuard struct {
	lim     SignInLimits
	checks  chan struct{} // a token per check running
	waiting chan struct{} // a token per attempt in the queue or running
	logins  *Throttle
	addrs   *Throttle
	rate    *rate.Limiter

	running                          atomic.Int64
	peak                             atomic.Int64
	checked, busy, throttled, failed atomic.Uint64
}

// SignInStats counts what the sign-in limits did since the start.
type SignInStats struct {
	Checked   uint64 // password checks run (sign-ins and new passwords)
	Failed    uint64 // sign-ins refused for a wrong login or password
	Busy      uint64 // attempts answered "busy" without a check
	Throttled uint64 // attempts refused for their login's or address's failures
	Running   int64  // checks running now
	Peak      int64  // most checks that ever ran at once
}

// SignInStats returns the sign-in limits' counters.
func (s *Service) SignInStats() SignInStats {
	g := s.guard
	return SignInStats{Checked: g.checked.Load(), Failed: g.failed.Load(), Busy: g.busy.Load(), Throttled: g.throttled.Load(),
		Running: g.running.Load(), Peak: g.peak.Load()}
}

func newSignInGuard(l SignInLimits) *signInGuard {
	l = l.withDefaults()
	return &signInGuard{
		lim:     l,
		checks:  make(chan struct{}, l.Checks),
		waiting: make(chan struct{}, l.Checks+l.Waiting),
		logins:  NewThrottle(rate.Every(l.LoginEvery), l.LoginBurst, l.MaxKeys),
		addrs:   NewThrottle(rate.Every(l.AddrEvery), l.AddrBurst, l.MaxKeys),
		rate:    rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst),
	}
}

// errBusy answers an attempt that found every check and place in the queue
// taken: it costs the server nothing.
func errBusy() error {
	e := errs.E(errs.Unavailable, "", "too many sign-ins at once; try again in a moment")
	e.RetryAfter = time.Second
	return e
}

// admit tells whether an attempt may be checked at all: neither its login
// nor its address has used up its failed attempts. The error says when to
// try again.
func (g *signInGuard) admit(login, addr string, now time.Time) error {
	wait := max(g.logins.WaitFor(login, now), g.addrs.WaitFor(addr, now))
	if wait <= 0 {
		return nil
	}
	g.throttled.Add(1)
	secs := int(math.Ceil(wait.Seconds()))
	e := errs.E(errs.TooMany, "", "too many failed sign-ins for this login or from this address; try again in %d s", secs)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

// fail counts a failed attempt against its login and its address.
func (g *signInGuard) fail(login, addr string, now time.Time) {
	g.failed.Add(1)
	g.logins.Spend(login, now)
	g.addrs.Spend(addr, now)
}

// check runs f as one of the bounded password checks: it waits for a turn
// at most Wait, behind at most Waiting others, and is refused at once with
// errBusy otherwise.
func (g *signInGuard) check(ctx context.Context, f func()) error {
	if !g.rate.Allow() {
		g.busy.Add(1)
		return errBusy()
	}
	select {
	case g.waiting <- struct{}{}:
	default:
		g.busy.Add(1)
		return errBusy()
	}
	defer func() { <-g.waiting }()
	select {
	case g.checks <- struct{}{}:
	default:
		t := time.NewTimer(g.lim.Wait)
		defer t.Stop()
		select {
		case g.checks <- struct{}{}:
		case <-t.C:
			g.busy.Add(1)
			return errBusy()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-g.checks }()
	g.run(f)
	return nil
}

// run runs a check, counting it.
func (g *signInGuard) run(f func()) {
	n := g.running.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	defer g.running.Add(-1)
	g.checked.Add(1)
	f()
}

// hash runs f (a password hash for a new or changed password, by an
// administrator) as one of the bounded checks, waiting as long as ctx
// allows: it is not refused, only kept from running beside too many others.
func (g *signInGuard) hash(ctx context.Context, f func()) error {
	select {
	case g.checks <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.checks }()
	g.run(f)
	return nil
}

// Throttle is a token bucket of failed attempts per key (a login name, a
// client address), in two generations so that its memory stays bounded:
// when the current one holds max keys, the previous one is forgotten
// (those keys start afresh) and the current one becomes the previous. The
// sign-in limits use two; the web layer one for staff codes. Make one with
// NewThrottle; it is safe for concurrent use.
type Throttle struct {
	every rate.Limit
	burst int
	max   int

	mu        sync.Mutex
	cur, prev map[string]*rate.Limiter
}

// NewThrottle allows each key burst failures, then one more at every
// (per second), holding at most about 2 × maxKeys keys.
func NewThrottle(every rate.Limit, burst, maxKeys int) *Throttle {
	return &Throttle{every: every, burst: burst, max: maxKeys, cur: map[string]*rate.Limiter{}}
}

// get returns key's bucket, creating a full one when create is set.
func (t *Throttle) get(key string, create bool) *rate.Limiter {
	if l := t.cur[key]; l != nil {
		return l
	}
	if l := t.prev[key]; l != nil {
		delete(t.prev, key)
		t.cur[key] = l
		return l
	}
	if !create {
		return nil
	}
	if len(t.cur) >= t.max {
		t.prev, t.cur = t.cur, map[string]*rate.Limiter{}
	}
	l := rate.NewLimiter(t.every, t.burst)
	t.cur[key] = l
	return l
}

// WaitFor is how long key must wait before its next attempt (0: now; an
// empty key never waits).
func (t *Throttle) WaitFor(key string, now time.Time) time.Duration {
	if key == "" {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.get(key, false)
	if l == nil {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(t.every) * float64(time.Second))
}

// Spend takes one failed attempt from key's bucket (it may go below zero
// when attempts that were admitted together fail together).
func (t *Throttle) Spend(key string, now time.Time) {
	if key == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.get(key, true)
	// ReserveN never refuses n ≤ burst; the debt it leaves is the throttle.
	l.ReserveN(now, 1)
}

// SourceKey is the throttling key of a client address ("host:port" or a
// bare address): the address itself for IPv4, its /64 for IPv6 (one
// subscriber's allocation). Empty when the address cannot be read.
func SourceKey(remote string) string {
	host := remote
	if h, _, err := splitHostPort(remote); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func splitHostPort(s string) (string, string, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", "", err
	}
	return ap.Addr().String(), "", nil
}
