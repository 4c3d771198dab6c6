package web

import (
	"errors"
	"strings"
)

// The school on a map on the alarm page: Leaflet (vendored in ui/static)
// draws the installation's tile server's tiles with the school marked, when
// a tile server is configured (--map-tiles-url); the coordinates are shown
// either way.

// schoolMap is what the alarm page's map needs; the template puts it in
// data attributes for map.js (no inline script).
type schoolMap struct {
	Tiles    string // the tile URL template; empty: the map is off
	Lat, Lon float64
	Has      bool // the school has coordinates
}

// tilesOrigin is the CSP source of a tile URL template's server: its scheme
// and host, a {s} subdomain as the wildcard CSP allows at the front.
func tilesOrigin(tiles string) (string, error) {
	scheme, rest, ok := strings.Cut(tiles, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return "", errors.New("not an http(s) URL")
	}
	host, _, _ := strings.Cut(rest, "/")
	if strings.HasPrefix(host, "{s}.") {
		host = "*" + host[len("{s}"):]
	}
	if host == "" || strings.ContainsAny(host, "{} \t\r\n\"';,\\@") {
		return "", errors.New("the host may hold {s} only as its first label")
	}
	return scheme + "://" + host, nil
}
