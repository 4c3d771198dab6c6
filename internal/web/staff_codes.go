package web

import (
	"crypto/sha256"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"qorgan/internal/auth"
	"qorgan/internal/errs"
)

// The guess throttle of the staff members' emergency codes (the API's
// /api/v1/emergency-staff/… and the page /staff). A code is 120 random
// bits, beyond guessing, but every wrong one costs a read of the store, and
// nothing else would stop a flood of them during an emergency, when the
// store is busiest. So, as the sign-in limits do for passwords: per client
// address (an IPv6 client by its /64; behind --trusted-proxies the address
// X-Forwarded-For names), codeGuessBurst wrong codes, then one more every
// codeGuessEvery; past that a code from the address is answered 429 with
// Retry-After before the store is asked. Another address's right code is
// never refused for them. A code that was right lately (codes a teacher's
// page sends with every action) passes on a refusing address too: a school
// behind one NAT address with one mistyping phone must not lock out the
// teachers already working through their steps.
const (
	codeGuessBurst = 10
	codeGuessEvery = 6 * time.Second // 10 a minute
	// codeGuessKeys bounds the memory: about twice as many addresses, and
	// twice as many right codes, are remembered at most.
	codeGuessKeys = 100_000
)

// codeGuard holds the wrong codes per address and the codes seen right.
type codeGuard struct {
	wrong *auth.Throttle
	right knownCodes
}

func newCodeGuard() *codeGuard {
	return &codeGuard{wrong: auth.NewThrottle(rate.Every(codeGuessEvery), codeGuessBurst, codeGuessKeys), right: knownCodes{max: codeGuessKeys}}
}

// knownCodes are the digests of codes the store took lately, in two
// generations as the throttle keeps its keys.
type knownCodes struct {
	mu        sync.Mutex
	max       int
	cur, prev map[[sha256.Size]byte]bool
}

func (k *knownCodes) has(code string) bool {
	d := sha256.Sum256([]byte(code))
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cur[d] || k.prev[d]
}

func (k *knownCodes) add(code string) {
	d := sha256.Sum256([]byte(code))
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cur[d] {
		return
	}
	if k.cur == nil || len(k.cur) >= k.max {
		k.prev, k.cur = k.cur, map[[sha256.Size]byte]bool{}
	}
	k.cur[d] = true
}

func (k *knownCodes) forget(code string) {
	d := sha256.Sum256([]byte(code))
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.cur, d)
	delete(k.prev, d)
}

// codeSource is the throttling key of the request's client.
func (s *Server) codeSource(r *http.Request) string {
	return auth.SourceKey(s.clientAddr(r))
}

// admitCode says whether code, sent by r's client, may be looked up now:
// yes for a code right lately, else when the client's address has wrong
// codes left. The refusal is TooMany with when to try again.
func (s *Server) admitCode(r *http.Request, code string) error {
	if code == "" || s.codes.right.has(code) {
		return nil
	}
	wait := s.codes.wrong.WaitFor(s.codeSource(r), time.Now())
	if wait <= 0 {
		return nil
	}
	s.metrics.codesThrottled.Inc()
	secs := max(1, int(math.Ceil(wait.Seconds())))
	e := errs.E(errs.TooMany, "", "too many wrong codes from this address; try again in %d s", secs)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

// codeLooked records what the store said of code: a wrong one counts
// against the client's address (and the address that has just used up its
// wrong codes is logged, as a security event); a right one is remembered;
// one whose emergency ended is forgotten. A failure of the store says
// nothing of the code.
func (s *Server) codeLooked(r *http.Request, code string, err error) {
	if code == "" {
		return
	}
	switch {
	case err == nil:
		s.codes.right.add(code)
	case errs.CodeOf(err) == errs.Unauthorized:
		s.codes.right.forget(code)
		s.metrics.codesWrong.Inc()
		src, now := s.codeSource(r), time.Now()
		s.codes.wrong.Spend(src, now)
		if wait := s.codes.wrong.WaitFor(src, now); wait > 0 {
			s.Log.Warn("staff codes: too many wrong codes from one address; its next codes are refused until it waits",
				"source", src, "path", r.URL.Path, "retry_after", wait.Round(time.Second), "security", true)
		}
	case errs.CodeOf(err) == errs.Conflict:
		s.codes.right.forget(code)
	case errs.CodeOf(err) != errs.Internal:
		// Refused for what it asked (a step, a pupil), after the code was
		// found: the code is right.
		s.codes.right.add(code)
	}
}

// pageCode is the code a request to the staff page will look up: the one
// typed in the code form, or the one its cookie keeps ("" for leaving).
func pageCode(r *http.Request) string {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/staff":
		return normalCode(r.PostForm.Get("code"))
	case r.PathValue("action") == "leave":
		return ""
	}
	return strings.TrimSpace(staffCodeOf(r))
}
