package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientAddr: the sign-in limits count a request against the address
// it came from; X-Forwarded-For is believed only from a trusted proxy,
// and then only up to the first hop that is not one.
func TestClientAddr(t *testing.T) {
	s := &Server{Deps: Deps{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}}}
	cases := []struct{ peer, xff, want string }{
		{"198.51.100.1:5000", "", "198.51.100.1:5000"},
		// A client cannot choose its address by sending the header itself.
		{"198.51.100.1:5000", "203.0.113.5", "198.51.100.1:5000"},
		// Behind the proxy, the client is the hop the proxy saw…
		{"10.1.2.3:443", "203.0.113.5", "203.0.113.5"},
		// …not what the client wrote before it, through a chain of proxies.
		{"10.1.2.3:443", "1.1.1.1, 203.0.113.5, 192.0.2.7", "203.0.113.5"},
		{"[::ffff:10.1.2.3]:443", "2001:db8::9", "2001:db8::9"},
		// A broken header counts against the proxy, not against nobody.
		{"10.1.2.3:443", "not-an-address", "10.1.2.3:443"},
		// Only proxies: the nearest is the client.
		{"10.1.2.3:443", "10.9.9.9", "10.1.2.3:443"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/api/v1/session", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientAddr(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %q, want %q", c.peer, c.xff, got, c.want)
		}
	}
}
