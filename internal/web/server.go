// Package web is Qorgan's HTTP face: the JSON API under /api/v1 with its
// OpenAPI document, health and metrics endpoints. Handlers translate HTTP to
// domain calls; every rule lives in the domain packages.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"qorgan/internal/alarm"
	"qorgan/internal/attendance"
	"qorgan/internal/auth"
	"qorgan/internal/emergency"
	"qorgan/internal/errs"
	"qorgan/internal/notify"
	"qorgan/internal/registry"
	"qorgan/internal/roadmap"
	"qorgan/internal/store"
	"qorgan/internal/transfer"
	"qorgan/internal/webpush"
)

// Deps are the services the handlers call. Every one is required.
type Deps struct {
	DB       *store.DB
	Auth     *auth.Service
	Registry *registry.Registry
	Alarms   *alarm.Service
	Jobs     *transfer.Jobs
	Access   *attendance.Service
	Outbox   *notify.Outbox
	Roadmap  *roadmap.Roadmap
	Push     *webpush.Service
	// Emergency runs emergencies, their roll-calls, reunification and drills.
	Emergency *emergency.Service
	Log       *slog.Logger
	// SecureCookies marks cookies Secure even without TLS on this hop (behind
	// a TLS-terminating proxy).
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed: behind one, the client is the last address in it that is
	// not a trusted proxy. Without, the client is the connection's peer.
	TrustedProxies []netip.Prefix
	// MapTilesURL is the tile server of the school's map on the alarm page
	// (a template: {z}/{x}/{y}, {s} for a subdomain); empty: no map.
	MapTilesURL string
	// MetricsToken is the bearer token GET /metrics asks of every caller;
	// empty: /metrics answers this machine's own requests only (see
	// metricsAccess).
	MetricsToken string
}

// Server holds the handlers' dependencies. Make one with New.
type Server struct {
	Deps

	metrics    *metrics
	boardReads boardReads
	// codes throttles wrong staff codes per address (staff_codes.go).
	codes *codeGuard
	// ending is closed by EndStreams: the live streams end, so that a
	// graceful shutdown does not wait for the consoles to hang up.
	ending  chan struct{}
	endOnce sync.Once
	// mapCSP is the alarm page's policy when it draws a map: the page's,
	// with images from the tile server too.
	mapCSP string
}

// New returns a Server over d, or an error naming the first service d
// lacks: the server builds none of them itself.
func New(d Deps) (*Server, error) {
	for _, dep := range []struct {
		name    string
		missing bool
	}{
		{"DB", d.DB == nil}, {"Auth", d.Auth == nil}, {"Registry", d.Registry == nil}, {"Alarms", d.Alarms == nil},
		{"Jobs", d.Jobs == nil}, {"Access", d.Access == nil}, {"Outbox", d.Outbox == nil}, {"Roadmap", d.Roadmap == nil}, {"Push", d.Push == nil}, {"Emergency", d.Emergency == nil}, {"Log", d.Log == nil},
	} {
		if dep.missing {
			return nil, fmt.Errorf("web.New: no %s", dep.name)
		}
	}
	srv := &Server{Deps: d, metrics: newMetrics(), codes: newCodeGuard(), ending: make(chan struct{})}
	d.DB.ExportStats(srv.metrics.reg)
	if d.MapTilesURL != "" {
		origin, err := tilesOrigin(d.MapTilesURL)
		if err != nil {
			return nil, fmt.Errorf("web.New: map tiles URL: %w", err)
		}
		srv.mapCSP = strings.Replace(pageCSP, "img-src 'self' data:", "img-src 'self' data: "+origin, 1)
	}
	return srv, nil
}

// EndStreams ends every live stream at once (consoles reconnect with
// Last-Event-ID, to another node or after the restart, and miss nothing).
// Register it with http.Server.RegisterOnShutdown.
func (s *Server) EndStreams() {
	s.endOnce.Do(func() { close(s.ending) })
}

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// Staff members' emergency codes: wrong ones, and ones refused
	// unlooked-at because their address had sent too many wrong ones.
	codesWrong, codesThrottled prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qorgan_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "qorgan_http_request_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"})
	m.codesWrong = prometheus.NewCounter(prometheus.CounterOpts{Name: "qorgan_staff_codes_wrong_total", Help: "Staff emergency codes refused as no staff member's (API and /staff)."})
	m.codesThrottled = prometheus.NewCounter(prometheus.CounterOpts{Name: "qorgan_staff_codes_throttled_total",
		Help: "Staff emergency codes answered 429 without a look-up: their address had sent too many wrong codes."})
	m.reg.MustRegister(m.requests, m.duration, m.codesWrong, m.codesThrottled, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the server's Prometheus registry, for other packages'
// collectors.
func (s *Server) Metrics() *prometheus.Registry { return s.metrics.reg }

type ctxKey int

const principalKey ctxKey = 0

// principal returns the authenticated caller, set by authenticate.
func principal(r *http.Request) (auth.Principal, bool) {
	p, ok := r.Context().Value(principalKey).(auth.Principal)
	return p, ok
}

// sessionCookie names the session cookie.
const sessionCookie = "qorgan_session"

// handlerFunc is a handler that returns its error for one place to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.Log, err)
		}
	})
}

// signedIn runs h for an authenticated person; state-changing requests that
// carry a session cookie must also carry its CSRF token.
func (s *Server) signedIn(h func(w http.ResponseWriter, r *http.Request, p auth.Principal) error) http.Handler {
	return s.public(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		ctx := context.WithValue(r.Context(), principalKey, p)
		return h(w, r.WithContext(ctx), p)
	})
}

// asDevice runs h for a device authenticated by its own credential
// (Authorization: Bearer qd_…); people's sessions and tokens are not
// accepted, and a device can do nothing else.
func (s *Server) asDevice(h func(w http.ResponseWriter, r *http.Request, d registry.Device) error) http.Handler {
	return s.public(func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(tok, "qd_") {
			return errs.E(errs.Unauthorized, "Authorization", "send the device credential as Authorization: Bearer qd_…")
		}
		d, err := s.Registry.DeviceByCredential(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			return err
		}
		return h(w, r, d)
	})
}

func (s *Server) authenticate(r *http.Request) (auth.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return auth.Principal{}, errs.E(errs.Unauthorized, "Authorization", "use Authorization: Bearer <API token>")
		}
		return s.Auth.TokenPrincipal(r.Context(), strings.TrimSpace(tok))
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return auth.Principal{}, errs.E(errs.Unauthorized, "", "sign in first (POST /api/v1/session) or send an API token")
	}
	sess, err := s.Auth.Session(r.Context(), c.Value)
	if err != nil {
		return auth.Principal{}, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		got := r.Header.Get("X-CSRF-Token")
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
			return auth.Principal{}, errs.E(errs.Forbidden, "X-CSRF-Token", "missing or wrong CSRF token; send the csrf_token from sign-in in the X-CSRF-Token header")
		}
	}
	return sess.Principal, nil
}

// statusWriter remembers the status for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument logs, measures and recovers every request.
func (s *Server) instrument(mux *http.ServeMux) http.Handler {
	m := s.metrics
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		defer func() {
			if v := recover(); v != nil {
				s.Log.Error("panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, r, s.Log, errs.Wrap(errs.E(errs.Internal, "", "panic"), "panic"))
				}
			}
			_, route := mux.Handler(r)
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			m.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			m.duration.WithLabelValues(route).Observe(d.Seconds())
			s.Log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "took", d)
		}()
		mux.ServeHTTP(sw, r)
	})
}

// Handler returns the whole HTTP handler.
func (s *Server) Handler() http.Handler {
	s.exportSignInStats()
	mux := http.NewServeMux()
	s.routes(mux)
	return s.instrument(mux)
}

// metricsPage serves GET /metrics (Prometheus) to whoever metricsAccess
// lets read it.
func (s *Server) metricsPage() http.Handler {
	prom := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	return s.public(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.metricsAccess(r); err != nil {
			if errs.CodeOf(err) == errs.Unauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="qorgan metrics"`)
			}
			return err
		}
		prom.ServeHTTP(w, r)
		return nil
	})
}

// metricsAccess decides who reads /metrics, which tells sign-in floods,
// alarm counts and queue depths: with a MetricsToken, whoever sends it as
// Authorization: Bearer (compared in constant time; anyone else, this
// machine too, is answered 401); without one, a request from this machine
// only (a loopback peer, not forwarded by a proxy), and 404 to any other:
// the metrics are off for the world.
func (s *Server) metricsAccess(r *http.Request) error {
	if s.MetricsToken == "" {
		if fromThisMachine(r) {
			return nil
		}
		return errs.NotFoundf("metrics are served to this machine only; set --metrics-token to read them from elsewhere")
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return errs.E(errs.Unauthorized, "", "send the metrics token (--metrics-token) as Authorization: Bearer <token>")
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	// Digests of equal length: the comparison tells nothing of the
	// token's length either.
	got, want := sha256.Sum256([]byte(strings.TrimSpace(tok))), sha256.Sum256([]byte(s.MetricsToken))
	if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return errs.E(errs.Unauthorized, "Authorization", "not the metrics token; send --metrics-token as Authorization: Bearer <token>")
	}
	return nil
}

// fromThisMachine says whether a request came from this machine itself: its
// peer is a loopback address and it carries no header a reverse proxy adds
// (a proxy on this machine forwards other people's requests from loopback).
func fromThisMachine(r *http.Request) bool {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !peer.Addr().Unmap().IsLoopback() {
		return false
	}
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
		if _, ok := r.Header[h]; ok {
			return false
		}
	}
	return true
}

// exportSignInStats publishes what the sign-in limits did on /metrics.
func (s *Server) exportSignInStats() {
	counter := func(name, help string, f func(auth.SignInStats) uint64) {
		// Registering twice (a second Handler) is harmless: the first stays.
		s.metrics.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "qorgan_signin_" + name, Help: help},
			func() float64 { return float64(f(s.Auth.SignInStats())) }))
	}
	counter("checks_total", "Password checks run (argon2id), for sign-ins and new passwords.", func(st auth.SignInStats) uint64 { return st.Checked })
	counter("failed_total", "Sign-ins refused for a wrong login or password.", func(st auth.SignInStats) uint64 { return st.Failed })
	counter("busy_total", "Sign-ins answered 503 without a check: too many checks running or waiting.", func(st auth.SignInStats) uint64 { return st.Busy })
	counter("throttled_total", "Sign-ins answered 429 without a check: their login or address had used up its failed attempts.", func(st auth.SignInStats) uint64 { return st.Throttled })
}

// clientAddr is the address a request came from, for the sign-in limits:
// the connection's peer, or, when that is a trusted proxy, the last
// address in X-Forwarded-For that is not one.
func (s *Server) clientAddr(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !s.trusted(peer.Addr()) {
		return r.RemoteAddr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return r.RemoteAddr // a forged or broken header: count the proxy
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return r.RemoteAddr
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
