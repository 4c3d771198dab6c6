package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store/storetest"
	"qorgan/internal/web"
)

// loadDoc loads and validates the embedded OpenAPI document.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(web.OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadDoc(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	// Every operation says what it is for, and every error it documents is a
	// problem document.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Description) < 40 {
				t.Errorf("%s: needs an operationId, a summary and a description of who uses it", where)
			}
			if op.Security == nil {
				t.Errorf("%s: says nothing about authentication (use [] for public endpoints)", where)
			}
			for code, r := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s: response %q is not a status", where, code)
					continue
				}
				if n >= 400 {
					mt := r.Value.Content.Get("application/problem+json")
					if mt == nil || len(r.Value.Content) != 1 {
						t.Errorf("%s %d: errors must be application/problem+json only", where, n)
					}
				}
			}
		}
	}
}

// routePattern matches the route table's registrations.
var routePattern = regexp.MustCompile(`mux\.Handle\("(?:([A-Z]+) )?(/[^"]*)"`)

// TestOpenAPIDocumentsEveryRoute holds the document and routes.go to the same
// set of endpoints, both ways.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadDoc(t)
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
		method, path := m[1], m[2]
		if path == "/metrics" || path == "/api/" {
			continue // Prometheus text format; the catch-all 404
		}
		if method == "" {
			t.Errorf("route %q has no method; document it or exclude it here", path)
			continue
		}
		inTable[method+" "+path] = true
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("routes.go serves %s %s; openapi.json does not describe it", method, path)
		}
	}
	if len(inTable) < 30 {
		t.Fatalf("found only %d routes in routes.go; has the registration style changed?", len(inTable))
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !inTable[method+" "+path] {
				t.Errorf("openapi.json describes %s %s; routes.go does not serve it", method, path)
			}
		}
	}
}

// --- the scenario harness

// session is a signed-in browser: its cookie and CSRF token.
type session struct {
	cookie *http.Cookie
	csrf   string
	who    auth.Principal
}

// result is what came back.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (r result) items(t *testing.T) []map[string]any {
	t.Helper()
	var l struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("body is not a list: %v\n%s", err, r.body)
	}
	return l.Items
}

// scenario is one request and what must come back.
type scenario struct {
	name   string
	as     string            // session name; "" sends no cookie
	bearer string            // API token name, sent as Authorization: Bearer
	csrf   string            // "" the session's token, "omit" none, anything else is sent as is
	header map[string]string // extra request headers
	method string
	path   string
	body   any // nil: none; string or []byte: raw; anything else: JSON-encoded
	ctype  string
	broken bool // send to the server whose store is closed

	status   int
	rejected bool   // the document itself rejects the request
	field    string // for errors: the problem's field, exactly
	check    func(t *testing.T, r result)
}

type harness struct {
	t        *testing.T
	router   routers.Router
	live     *httptest.Server
	broken   *httptest.Server
	sessions map[string]*session
	tokens   map[string]string
	// hit records "METHOD /path status" for every exchange.
	hit map[string]bool
}

// authenticate tells kin-openapi whether the request carries what a
// security scheme asks for; the server decides whether it is any good.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "session":
		if _, err := r.Cookie("qorgan_session"); err != nil {
			return errors.New("no qorgan_session cookie")
		}
	case "csrf":
		if r.Header.Get("X-CSRF-Token") == "" {
			return errors.New("no X-CSRF-Token header")
		}
	case "bearer":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return errors.New("no bearer token")
		}
	default:
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	return nil
}

func (h *harness) request(t *testing.T, sc scenario) *http.Request {
	t.Helper()
	var body []byte
	switch b := sc.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			t.Fatalf("%s: %v", sc.name, err)
		}
	}
	base := h.live.URL
	if sc.broken {
		base = h.broken.URL
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(sc.method, base+sc.path, rd)
	if err != nil {
		t.Fatalf("%s: %v", sc.name, err)
	}
	if body != nil {
		ct := sc.ctype
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if sc.as != "" {
		s := h.sessions[sc.as]
		if s == nil {
			t.Fatalf("%s: no session %q", sc.name, sc.as)
		}
		req.AddCookie(s.cookie)
		if sc.method != http.MethodGet {
			switch sc.csrf {
			case "":
				req.Header.Set("X-CSRF-Token", s.csrf)
			case "omit":
			default:
				req.Header.Set("X-CSRF-Token", sc.csrf)
			}
		}
	}
	if sc.bearer != "" {
		tok := h.tokens[sc.bearer]
		if tok == "" {
			t.Fatalf("%s: no API token %q", sc.name, sc.bearer)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range sc.header {
		req.Header.Set(k, v)
	}
	return req
}

// run makes the scenario's request, validating it and the answer against the
// document, and checks the status and the body.
func (h *harness) run(t *testing.T, sc scenario) result {
	t.Helper()
	ctx := context.Background()
	vreq := h.request(t, sc)
	route, params, err := h.router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("%s %s is not in the document: %v", sc.method, sc.path, err)
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate, SkipSettingDefaults: true, MultiError: true}}
	verr := openapi3filter.ValidateRequest(ctx, reqIn)
	switch {
	case sc.rejected && verr == nil:
		t.Errorf("the document accepts this request, which the scenario means to be invalid")
	case !sc.rejected && verr != nil:
		t.Errorf("the document rejects this request: %v", verr)
	}

	resp, err := h.live.Client().Do(h.request(t, sc))
	if err != nil {
		t.Fatalf("%s %s: %v", sc.method, sc.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	res := result{status: resp.StatusCode, header: resp.Header, body: body}
	h.hit[route.Method+" "+route.Path+" "+strconv.Itoa(res.status)] = true

	respIn := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: res.status, Header: res.header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(ctx, respIn); err != nil {
		t.Errorf("the response does not match the document: %v\nstatus %d, body: %s", err, res.status, clip(body))
	}
	if res.status != sc.status {
		t.Fatalf("status %d, want %d; body: %s", res.status, sc.status, clip(body))
	}
	if res.status >= 400 {
		var p web.Problem
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("error body is not a problem: %v", err)
		}
		if p.Field != sc.field {
			t.Errorf("problem field %q, want %q (detail: %s)", p.Field, sc.field, p.Detail)
		}
		if p.Status != res.status || p.Instance != strings.SplitN(sc.path, "?", 2)[0] {
			t.Errorf("problem status %d instance %q for %d %s", p.Status, p.Instance, res.status, sc.path)
		}
	}
	if sc.check != nil {
		sc.check(t, res)
	}
	return res
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func (h *harness) runAll(scs []scenario) {
	h.t.Helper()
	for _, sc := range scs {
		h.t.Run(sc.name, func(t *testing.T) { h.run(t, sc) })
	}
}

// signIn opens a session named name for login, through the API.
func (h *harness) signIn(name, login string) {
	h.t.Helper()
	h.run(h.t, scenario{name: "sign in " + name, method: "POST", path: "/api/v1/session",
		body: map[string]string{"login": login, "password": demo.DefaultPassword}, status: http.StatusOK,
		check: func(t *testing.T, r result) {
			var sr struct {
				Principal auth.Principal `json:"principal"`
				CSRF      string         `json:"csrf_token"`
			}
			if err := json.Unmarshal(r.body, &sr); err != nil || sr.CSRF == "" {
				t.Fatalf("sign-in answer: %v %s", err, r.body)
			}
			for _, c := range (&http.Response{Header: r.header}).Cookies() {
				if c.Name == "qorgan_session" {
					h.sessions[name] = &session{cookie: &http.Cookie{Name: c.Name, Value: c.Value}, csrf: sr.CSRF, who: sr.Principal}
				}
			}
			if h.sessions[name] == nil {
				t.Fatal("no qorgan_session cookie")
			}
		}})
}

// hasItems checks a list's length bounds and every item with each.
func hasItems(min int, each func(t *testing.T, it map[string]any)) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		items := r.items(t)
		if len(items) < min {
			t.Fatalf("%d items, want at least %d", len(items), min)
		}
		if each != nil {
			for _, it := range items {
				each(t, it)
			}
		}
	}
}

func fieldIs(name string, want any) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if got := r.json(t)[name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// validBIN completes a 9-digit prefix into a BIN that passes its control digit.
func validBIN(t *testing.T, prefix string) string {
	t.Helper()
	for serial := 0; serial < 100; serial++ {
		if b, ok := registry.MakeBIN(fmt.Sprintf("%s%02d", prefix, serial)); ok {
			return b
		}
	}
	t.Fatalf("no BIN starts with %s", prefix)
	return ""
}

// brokenBIN changes a valid BIN's control digit.
func brokenBIN(bin string) string {
	last := (bin[11]-'0'+1)%10 + '0'
	return bin[:11] + string(rune(last))
}

// TestOpenAPIAgainstRealResponses drives the real handler on a real SQLite
// store loaded with the demo through scenarios covering every documented
// route, validating each request and each response with kin-openapi.
func TestOpenAPIAgainstRealResponses(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo")
	}
	ctx := context.Background()
	doc := loadDoc(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	db := storetest.SQLite(t)
	a := auth.New(db)
	res, err := demo.Load(ctx, db, a, demo.Options{Scale: 0.002})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	srv := &web.Server{DB: db, Auth: a, Registry: registry.New(db, a), Log: quiet}
	live := httptest.NewServer(srv.Handler())
	defer live.Close()

	// A second server whose store is closed gives the 503 and 500 answers.
	bdb := storetest.SQLite(t)
	ba := auth.New(bdb)
	bdb.Close()
	bsrv := &web.Server{DB: bdb, Auth: ba, Registry: registry.New(bdb, ba), Log: quiet}
	broken := httptest.NewServer(bsrv.Handler())
	defer broken.Close()

	h := &harness{t: t, router: router, live: live, broken: broken,
		sessions: map[string]*session{}, tokens: map[string]string{}, hit: map[string]bool{}}

	// --- sign in every demo login, and a second guard session to sign out
	logins := map[string]bool{}
	for _, l := range res.Logins {
		logins[l.Login] = true
		h.signIn(l.Login, l.Login)
	}
	for _, want := range []string{"admin", "analyst", "region", "director", "guard", "guard2", "pcn", "cou", "parent", "district"} {
		if !logins[want] {
			t.Fatalf("the demo has no login %q", want)
		}
	}
	h.signIn("leaving", "guard")
	region := h.sessions["region"].who.Scope.Ref
	district := h.sessions["district"].who.Scope.Ref
	if t.Failed() {
		t.FailNow()
	}

	// --- learn the ids the scenarios use, through the API too
	var all []map[string]any
	h.run(t, scenario{name: "all schools", as: "admin", method: "GET", path: "/api/v1/schools?limit=500", status: 200,
		check: func(t *testing.T, r result) { all = r.items(t) }})
	var otherSchool int64 // a school outside the region login's region
	for _, s := range all {
		if s["region_code"] != region {
			otherSchool = num(s["id"])
			break
		}
	}
	var pupil1, childID, notMyChild int64
	h.run(t, scenario{name: "children", as: "parent", method: "GET", path: "/api/v1/children", status: 200,
		check: func(t *testing.T, r result) {
			if it := r.items(t); len(it) > 0 {
				childID = num(it[0]["id"])
			}
		}})
	h.run(t, scenario{name: "pupils of school 1", as: "admin", method: "GET", path: "/api/v1/schools/1/pupils?limit=10", status: 200,
		check: func(t *testing.T, r result) {
			for _, p := range r.items(t) {
				id := num(p["id"])
				if pupil1 == 0 {
					pupil1 = id
				}
				if id != childID && notMyChild == 0 {
					notMyChild = id
				}
			}
		}})
	var device1 int64
	h.run(t, scenario{name: "devices of school 1", as: "admin", method: "GET", path: "/api/v1/schools/1/devices", status: 200,
		check: func(t *testing.T, r result) {
			if it := r.items(t); len(it) > 0 {
				device1 = num(it[0]["id"])
			}
		}})
	var elsewhereDevice int64 // a device at a school other than 1
	for _, s := range all {
		if id := num(s["id"]); id != 1 && elsewhereDevice == 0 {
			h.run(t, scenario{name: fmt.Sprintf("devices of school %d", id), as: "admin", method: "GET",
				path: fmt.Sprintf("/api/v1/schools/%d/devices", id), status: 200,
				check: func(t *testing.T, r result) {
					if it := r.items(t); len(it) > 0 {
						elsewhereDevice = num(it[0]["id"])
					}
				}})
		}
	}
	var provider1 int64
	h.run(t, scenario{name: "pcn's provider", as: "pcn", method: "GET", path: "/api/v1/providers", status: 200,
		check: func(t *testing.T, r result) {
			if it := r.items(t); len(it) == 1 {
				provider1 = num(it[0]["id"])
			}
		}})
	var cursor string
	h.run(t, scenario{name: "first page", as: "admin", method: "GET", path: "/api/v1/schools?limit=2", status: 200,
		check: func(t *testing.T, r result) { cursor, _ = r.json(t)["next_cursor"].(string) }})
	if otherSchool == 0 || pupil1 == 0 || childID == 0 || notMyChild == 0 || device1 == 0 || elsewhereDevice == 0 || provider1 == 0 || cursor == "" {
		t.Fatalf("the demo lacks what the scenarios need: other school %d, pupil %d, child %d, other pupil %d, devices %d/%d, provider %d, cursor %q",
			otherSchool, pupil1, childID, notMyChild, device1, elsewhereDevice, provider1, cursor)
	}
	turkestan := registry.Districts()[0].RegionCode

	schoolBIN := validBIN(t, "990101000")
	providerBIN := validBIN(t, "980202000")
	newSchool := map[string]any{"code": "TEST-001", "bin": schoolBIN, "name_kk": "Сынақ мектебі", "name_ru": "Тестовая школа",
		"region_code": region, "address": "Мектеп көшесі, 1", "lat": 50.4, "lon": 80.2, "urban": true,
		"shifts": []map[string]string{{"start": "08:00", "end": "13:30"}}, "headcount": 420}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	newPupil := map[string]any{"external_id": "T-0001", "last_name": "Серікова", "first_name": "Айгерім", "class": "5 а",
		"card_uid": "de:ad:be:ef:01", "guardians": []map[string]any{{"phone": "8 (701) 555-12-34", "full_name": "Серікова Гүлнар",
			"relation": "mother", "consent_given_on": "2025-09-01"}}}
	guardian := func(kv ...any) map[string]any {
		return with(map[string]any{"phone": "+77015550000", "full_name": "Ата-ана"}, kv...)
	}
	newProvider := map[string]any{"name": "ТОО «Қорған-Күзет»", "bin": providerBIN, "licence_no": "KZ-OHR-0042", "licence_uto": true, "licence_expires": "2027-12-31"}
	today := time.Now().UTC().Format(time.DateOnly)
	big := func(prefix string) string { return prefix + strings.Repeat(" ", web.MaxBody+10_000) }

	scenarios := []scenario{
		// health and the document
		{name: "healthz", method: "GET", path: "/healthz", status: 200, check: fieldIs("status", "ok")},
		{name: "readyz", method: "GET", path: "/readyz", status: 200, check: fieldIs("store", "sqlite")},
		{name: "readyz without a store", broken: true, method: "GET", path: "/readyz", status: 503},
		{name: "openapi", method: "GET", path: "/api/v1/openapi.json", status: 200, check: fieldIs("openapi", "3.0.3")},

		// signing in
		{name: "sign in wrong password", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "admin", "password": "not-it"}, status: 401},
		{name: "sign in unknown login", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "nobody", "password": "not-it"}, status: 401},
		{name: "sign in empty login", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "", "password": "x"}, status: 422, rejected: true, field: "login"},
		{name: "sign in no password", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "admin"}, status: 422, rejected: true, field: "password"},
		{name: "sign in unknown field", method: "POST", path: "/api/v1/session", body: `{"login":"admin","password":"x","remember":true}`, status: 422, rejected: true, field: "remember"},
		{name: "sign in malformed", method: "POST", path: "/api/v1/session", body: `{"login": "admin",`, status: 422, rejected: true},
		{name: "sign in empty body", method: "POST", path: "/api/v1/session", body: "", status: 422, rejected: true},
		{name: "sign in wrong type", method: "POST", path: "/api/v1/session", body: `{"login":"admin","password":12345}`, status: 422, rejected: true, field: "password"},
		{name: "sign in not JSON", method: "POST", path: "/api/v1/session", body: "login=admin", ctype: "application/x-www-form-urlencoded", status: 422, rejected: true, field: "Content-Type"},
		{name: "sign in over 1 MiB", method: "POST", path: "/api/v1/session", body: big(`{"login":"admin","password":"x"}`), status: 413},
		{name: "sign in store down", broken: true, method: "POST", path: "/api/v1/session", body: map[string]string{"login": "admin", "password": "x"}, status: 500,
			check: func(t *testing.T, r result) {
				if d, _ := r.json(t)["detail"].(string); strings.Contains(d, "sql") {
					t.Errorf("internal detail leaked: %q", d)
				}
			}},

		// who am I, and API tokens
		{name: "me without auth", method: "GET", path: "/api/v1/me", status: 401, rejected: true},
		{name: "me", as: "director", method: "GET", path: "/api/v1/me", status: 200, check: fieldIs("role", "school_director")},
		{name: "me basic auth", method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": "Basic YWRtaW46eA=="}, status: 401, rejected: true, field: "Authorization"},
		{name: "me unknown token", method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": "Bearer qt_nope"}, status: 401},
		{name: "me unknown session", method: "GET", path: "/api/v1/me", header: map[string]string{"Cookie": "qorgan_session=qs_nope"}, status: 401},
		{name: "token", as: "director", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "journal sync", "ttl_hours": 24}, status: 201,
			check: func(t *testing.T, r result) {
				m := r.json(t)
				tok, _ := m["token"].(string)
				if !strings.HasPrefix(tok, "qt_") || m["expires_at"] == nil {
					t.Fatalf("token answer: %s", r.body)
				}
				h.tokens["director"] = tok
			}},
		{name: "token for admin", as: "admin", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "registry import"}, status: 201,
			check: func(t *testing.T, r result) {
				m := r.json(t)
				if m["expires_at"] != nil {
					t.Errorf("a token without ttl_hours expires: %s", r.body)
				}
				h.tokens["admin"], _ = m["token"].(string)
			}},
		{name: "me by token", bearer: "director", method: "GET", path: "/api/v1/me", status: 200, check: fieldIs("login", "director")},
		{name: "token by token, no CSRF needed", bearer: "director", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "second"}, status: 201},
		{name: "token without CSRF", as: "director", csrf: "omit", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "x"}, status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "token wrong CSRF", as: "director", csrf: "not-the-token", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "x"}, status: 403, field: "X-CSRF-Token"},
		{name: "token without auth", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "x"}, status: 401, rejected: true},
		{name: "token ttl wrong type", as: "director", method: "POST", path: "/api/v1/tokens", body: `{"name":"x","ttl_hours":"24"}`, status: 422, rejected: true, field: "ttl_hours"},
		{name: "token ttl too long", as: "director", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "x", "ttl_hours": 9000}, status: 422, rejected: true, field: "ttl_hours"},
		{name: "token blank name", as: "director", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "   "}, status: 422, field: "name"},
		{name: "token over 1 MiB", as: "director", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": strings.Repeat("x", web.MaxBody)}, status: 413, rejected: true},

		// users and the audit trail
		{name: "users", as: "admin", method: "GET", path: "/api/v1/users", status: 200, check: hasItems(10, nil)},
		{name: "users as director", as: "director", method: "GET", path: "/api/v1/users", status: 403},
		{name: "users by token", bearer: "admin", method: "GET", path: "/api/v1/users", status: 200},
		{name: "create user", as: "admin", method: "POST", path: "/api/v1/users", body: map[string]any{"login": "Inspector.1", "full_name": "Инспектор",
			"password": "long-enough-1", "role": "ministry_analyst", "scope": map[string]string{"kind": "nation"}}, status: 201, check: fieldIs("login", "inspector.1")},
		{name: "create user again", as: "admin", method: "POST", path: "/api/v1/users", body: map[string]any{"login": "inspector.1", "full_name": "Инспектор",
			"password": "long-enough-1", "role": "ministry_analyst", "scope": map[string]string{"kind": "nation"}}, status: 409, field: "login"},
		{name: "create user scope misfit", as: "admin", method: "POST", path: "/api/v1/users", body: map[string]any{"login": "inspector.2",
			"password": "long-enough-1", "role": "ministry_analyst", "scope": map[string]string{"kind": "region", "ref": region}}, status: 422, field: "scope"},
		{name: "create user short password", as: "admin", method: "POST", path: "/api/v1/users", body: map[string]any{"login": "inspector.3",
			"password": "short", "role": "ministry_analyst", "scope": map[string]string{"kind": "nation"}}, status: 422, rejected: true, field: "password"},
		{name: "create user unknown role", as: "admin", method: "POST", path: "/api/v1/users", body: map[string]any{"login": "inspector.4",
			"password": "long-enough-1", "role": "king", "scope": map[string]string{"kind": "nation"}}, status: 422, rejected: true, field: "role"},
		{name: "create user unknown scope field", as: "admin", method: "POST", path: "/api/v1/users", body: map[string]any{"login": "inspector.5",
			"password": "long-enough-1", "role": "ministry_analyst", "scope": map[string]any{"kind": "nation", "level": 1}}, status: 422, rejected: true, field: "level"},
		{name: "create user as director", as: "director", method: "POST", path: "/api/v1/users", body: map[string]any{"login": "inspector.6",
			"password": "long-enough-1", "role": "ministry_analyst", "scope": map[string]string{"kind": "nation"}}, status: 403},
		{name: "audit", as: "admin", method: "GET", path: "/api/v1/audit/verify", status: 200, check: fieldIs("ok", true)},
		{name: "audit as analyst", as: "analyst", method: "GET", path: "/api/v1/audit/verify", status: 403},

		// regions
		{name: "regions as a parent", as: "parent", method: "GET", path: "/api/v1/regions", status: 200, check: hasItems(20, nil)},
		{name: "districts", bearer: "director", method: "GET", path: "/api/v1/regions/" + turkestan + "/districts", status: 200,
			check: hasItems(1, func(t *testing.T, it map[string]any) {
				if it["region_code"] != turkestan {
					t.Errorf("district of another region: %v", it)
				}
			})},
		{name: "districts of no region", as: "analyst", method: "GET", path: "/api/v1/regions/999999999/districts", status: 200, check: func(t *testing.T, r result) {
			if n := len(r.items(t)); n != 0 {
				t.Errorf("%d districts of an unknown region", n)
			}
		}},
		{name: "districts without auth", method: "GET", path: "/api/v1/regions/" + turkestan + "/districts", status: 401, rejected: true},

		// schools
		{name: "next page", as: "admin", method: "GET", path: "/api/v1/schools?limit=2&cursor=" + cursor, status: 200,
			check: hasItems(2, func(t *testing.T, it map[string]any) {
				if num(it["id"]) <= 2 {
					t.Errorf("page 2 repeats school %v", it["id"])
				}
			})},
		{name: "schools bad cursor", as: "admin", method: "GET", path: "/api/v1/schools?cursor=not-a-cursor!", status: 422, field: "cursor"},
		{name: "schools limit 0", as: "admin", method: "GET", path: "/api/v1/schools?limit=0", status: 422, rejected: true, field: "limit"},
		{name: "schools limit 501", as: "admin", method: "GET", path: "/api/v1/schools?limit=501", status: 422, rejected: true, field: "limit"},
		{name: "schools limit word", as: "admin", method: "GET", path: "/api/v1/schools?limit=ten", status: 422, rejected: true, field: "limit"},
		{name: "schools uto maybe", as: "admin", method: "GET", path: "/api/v1/schools?uto=maybe", status: 422, rejected: true, field: "uto"},
		{name: "schools of the region", as: "region", method: "GET", path: "/api/v1/schools", status: 200,
			check: hasItems(1, func(t *testing.T, it map[string]any) {
				if it["region_code"] != region {
					t.Errorf("school %v of region %v shown to region %s", it["id"], it["region_code"], region)
				}
			})},
		{name: "schools of the district", as: "district", method: "GET", path: "/api/v1/schools", status: 200,
			check: hasItems(1, func(t *testing.T, it map[string]any) {
				if it["district_code"] != district {
					t.Errorf("school %v of district %v shown to district %s", it["id"], it["district_code"], district)
				}
			})},
		{name: "uto schools of a region", as: "analyst", method: "GET", path: "/api/v1/schools?uto=true&region=" + region, status: 200,
			check: hasItems(1, func(t *testing.T, it map[string]any) {
				if it["uto"] != true || it["region_code"] != region {
					t.Errorf("filter not applied: %v", it)
				}
			})},
		{name: "schools filtered outside the scope", as: "region", method: "GET", path: "/api/v1/schools?region=" + turkestanOr(turkestan, region), status: 200},
		{name: "schools of the pcn", as: "pcn", method: "GET", path: "/api/v1/schools", status: 200, check: hasItems(1, nil)},
		{name: "schools of the cou", as: "cou", method: "GET", path: "/api/v1/schools?limit=1", status: 200, check: hasItems(1, nil)},
		{name: "schools as a parent", as: "parent", method: "GET", path: "/api/v1/schools", status: 403},
		{name: "school", as: "director", method: "GET", path: "/api/v1/schools/1", status: 200, check: fieldIs("id", 1)},
		{name: "school by token", bearer: "director", method: "GET", path: "/api/v1/schools/1", status: 200},
		{name: "school of another director", as: "director", method: "GET", path: "/api/v1/schools/2", status: 404},
		{name: "school of another region", as: "region", method: "GET", path: fmt.Sprintf("/api/v1/schools/%d", otherSchool), status: 404},
		{name: "school as a parent", as: "parent", method: "GET", path: "/api/v1/schools/1", status: 404},
		{name: "school that is not", as: "admin", method: "GET", path: "/api/v1/schools/999999", status: 404},
		{name: "school id not a number", as: "admin", method: "GET", path: "/api/v1/schools/first", status: 404, rejected: true},
		{name: "create school", as: "region", method: "POST", path: "/api/v1/schools", body: newSchool, status: 201,
			check: func(t *testing.T, r result) {
				m := r.json(t)
				if m["code"] != "TEST-001" || m["uto"] != true || m["bin"] != schoolBIN {
					t.Errorf("created: %s", r.body)
				}
			}},
		{name: "create school again", as: "region", method: "POST", path: "/api/v1/schools", body: newSchool, status: 409, field: "code"},
		{name: "create school same BIN", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-002"), status: 409, field: "bin"},
		{name: "create school bad BIN", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", brokenBIN(schoolBIN)), status: 422, field: "bin"},
		{name: "create school short BIN", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", "12345"), status: 422, rejected: true, field: "bin"},
		{name: "create school unknown region", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil, "region_code", "999999999"), status: 422, field: "region_code"},
		{name: "create school district elsewhere", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil, "district_code", district), status: 422, field: "district_code"},
		{name: "create school lat without lon", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil, "lon", nil), status: 422, field: "lat"},
		{name: "create school bad shift", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil,
			"shifts", []map[string]string{{"start": "08:00", "end": "13:00"}, {"start": "14:00", "end": "13:00"}}), status: 422, field: "shifts/1"},
		{name: "create school unknown field", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "colour", "blue"), status: 422, rejected: true, field: "colour"},
		{name: "create school wrong type", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "headcount", "many"), status: 422, rejected: true, field: "headcount"},
		{name: "create school shift wrong type", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "shifts", []any{map[string]any{"start": 8}}), status: 422, rejected: true, field: "shifts/start"},
		{name: "create school malformed", as: "admin", method: "POST", path: "/api/v1/schools", body: `{"code": "TEST-003", }`, status: 422, rejected: true},
		{name: "create school two objects", as: "admin", method: "POST", path: "/api/v1/schools", body: `{"code":"TEST-003"} {"code":"TEST-004"}`, status: 422, rejected: true},
		{name: "create school over 1 MiB", as: "admin", method: "POST", path: "/api/v1/schools", body: big(`{"code":"TEST-003","name_kk":"a","name_ru":"a","region_code":"` + region + `"}`), status: 413},
		{name: "create school outside the region", as: "region", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil, "region_code", turkestanOr(turkestan, region)), status: 403, field: "region_code"},
		{name: "create school as director", as: "director", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil), status: 403},
		{name: "create school without CSRF", as: "admin", csrf: "omit", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil), status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "create school by token", bearer: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-004", "bin", nil, "lat", nil, "lon", nil, "shifts", nil, "headcount", 40), status: 201,
			check: func(t *testing.T, r result) {
				m := r.json(t)
				if _, ok := m["lat"]; ok || m["uto"] != false {
					t.Errorf("created: %s", r.body)
				}
			}},

		// compliance
		{name: "compliance", as: "director", method: "GET", path: "/api/v1/schools/1/compliance", status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			if num(m["school_id"]) != 1 || m["uto"] != true || m["guard_required"] != true {
				t.Errorf("compliance of school 1: %s", r.body)
			}
		}},
		{name: "compliance of another school", as: "guard", method: "GET", path: "/api/v1/schools/2/compliance", status: 404},

		// pupils
		{name: "pupils", as: "guard", method: "GET", path: "/api/v1/schools/1/pupils?limit=3", status: 200, check: func(t *testing.T, r result) {
			if n := len(r.items(t)); n != 3 || r.json(t)["next_cursor"] == nil {
				t.Errorf("%d pupils and no next_cursor: %s", n, clip(r.body))
			}
		}},
		{name: "pupils as analyst", as: "analyst", method: "GET", path: "/api/v1/schools/1/pupils", status: 403},
		{name: "pupils as region", as: "region", method: "GET", path: "/api/v1/schools/1/pupils", status: 403},
		{name: "pupils of another school", as: "guard2", method: "GET", path: "/api/v1/schools/1/pupils", status: 404},
		{name: "pupils bad cursor", as: "guard", method: "GET", path: "/api/v1/schools/1/pupils?cursor=%25%25", status: 422, field: "cursor"},
		{name: "pupils bad limit", as: "guard", method: "GET", path: "/api/v1/schools/1/pupils?limit=-1", status: 422, rejected: true, field: "limit"},
		{name: "create pupil", as: "director", method: "POST", path: "/api/v1/schools/1/pupils", body: newPupil, status: 201, check: func(t *testing.T, r result) {
			var p registry.Pupil
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Class != "5А" || p.CardUID != "DEADBEEF01" || len(p.Guardians) != 1 || p.Guardians[0].Phone != "+77015551234" || !p.Guardians[0].MayCollect || p.Guardians[0].Language != "kk" {
				t.Errorf("created: %s", r.body)
			}
		}},
		{name: "create pupil again", as: "director", method: "POST", path: "/api/v1/schools/1/pupils", body: newPupil, status: 409, field: "external_id"},
		{name: "create pupil bad phone", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body: with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", []any{guardian("phone", "12345")}), status: 422, field: "guardians/0/phone"},
		{name: "create pupil bad class", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body: with(newPupil, "external_id", "T-0002", "card_uid", nil, "class", "13Z"), status: 422, field: "class"},
		{name: "create pupil consent withdrawn first", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body:   with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", []any{guardian("consent_given_on", "2025-09-01", "consent_withdrawn_on", "2025-01-01")}),
			status: 422, field: "guardians/0/consent_withdrawn_on"},
		{name: "create pupil guardian wrong type", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body: with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", []any{guardian("may_collect", "yes")}), status: 422, rejected: true, field: "guardians/may_collect"},
		{name: "create pupil guardian unknown field", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body: with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", []any{guardian("nickname", "Mama")}), status: 422, rejected: true, field: "nickname"},
		{name: "create pupil guardians not a list", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body: with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", guardian()), status: 422, rejected: true, field: "guardians"},
		{name: "create pupil five guardians", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body: with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", []any{guardian("phone", "+77015550001"), guardian("phone", "+77015550002"),
				guardian("phone", "+77015550003"), guardian("phone", "+77015550004"), guardian("phone", "+77015550005")}), status: 422, rejected: true, field: "guardians"},
		{name: "create pupil as guard", as: "guard", method: "POST", path: "/api/v1/schools/1/pupils", body: with(newPupil, "external_id", "T-0002"), status: 403},
		{name: "create pupil at another school", as: "director", method: "POST", path: "/api/v1/schools/2/pupils", body: with(newPupil, "external_id", "T-0002"), status: 404},
		{name: "create pupil over 1 MiB", as: "director", method: "POST", path: "/api/v1/schools/1/pupils", body: big(`{"external_id":"T-0009"}`), status: 413, rejected: true},
		{name: "pupil", as: "guard", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", pupil1), status: 200, check: fieldIs("school_id", 1)},
		{name: "pupil of another school", as: "guard2", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", pupil1), status: 404},
		{name: "pupil as analyst", as: "analyst", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", pupil1), status: 404},
		{name: "own child", as: "parent", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", childID), status: 200},
		{name: "someone else's child", as: "parent", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", notMyChild), status: 404},
		{name: "pupil id zero", as: "admin", method: "GET", path: "/api/v1/pupils/0", status: 404, rejected: true},
		{name: "my children", as: "parent", method: "GET", path: "/api/v1/children", status: 200, check: hasItems(1, func(t *testing.T, it map[string]any) {
			if gs, _ := it["guardians"].([]any); len(gs) == 0 {
				t.Errorf("child without guardians: %v", it)
			}
		})},
		{name: "children of a director", as: "director", method: "GET", path: "/api/v1/children", status: 404},

		// staff
		{name: "staff", as: "guard", method: "GET", path: "/api/v1/schools/1/staff", status: 200, check: hasItems(1, nil)},
		{name: "staff of another school", as: "director", method: "GET", path: "/api/v1/schools/2/staff", status: 404},
		{name: "create staff", as: "director", method: "POST", path: "/api/v1/schools/1/staff", body: map[string]any{"external_id": "S-TEST-1",
			"full_name": "Ахметов Серік", "position": "күзетші", "phone": "8 701 123 45 67", "card_uid": "cafe0001"}, status: 201,
			check: func(t *testing.T, r result) {
				if m := r.json(t); m["phone"] != "+77011234567" || m["card_uid"] != "CAFE0001" {
					t.Errorf("created: %s", r.body)
				}
			}},
		{name: "create staff again", as: "director", method: "POST", path: "/api/v1/schools/1/staff", body: map[string]any{"external_id": "S-TEST-1",
			"full_name": "Ахметов Серік", "position": "күзетші"}, status: 409, field: "external_id"},
		{name: "create staff bad phone", as: "director", method: "POST", path: "/api/v1/schools/1/staff", body: map[string]any{"external_id": "S-TEST-2",
			"full_name": "Ахметов Серік", "position": "күзетші", "phone": "call me"}, status: 422, field: "phone"},
		{name: "create staff no position", as: "director", method: "POST", path: "/api/v1/schools/1/staff", body: map[string]any{"external_id": "S-TEST-2",
			"full_name": "Ахметов Серік"}, status: 422, rejected: true, field: "position"},
		{name: "create staff as guard", as: "guard", method: "POST", path: "/api/v1/schools/1/staff", body: map[string]any{"external_id": "S-TEST-2",
			"full_name": "Ахметов Серік", "position": "күзетші"}, status: 403},
		{name: "create staff elsewhere", as: "director", method: "POST", path: "/api/v1/schools/2/staff", body: map[string]any{"external_id": "S-TEST-2",
			"full_name": "Ахметов Серік", "position": "күзетші"}, status: 404},

		// devices
		{name: "devices", as: "cou", method: "GET", path: "/api/v1/schools/1/devices", status: 200, check: hasItems(1, nil)},
		{name: "devices of another school", as: "guard", method: "GET", path: "/api/v1/schools/2/devices", status: 404},
		{name: "create device", as: "director", method: "POST", path: "/api/v1/schools/1/devices", body: map[string]any{"kind": "camera",
			"name": "Камера 9", "place": "Спортзал", "supervision": "sp4", "mqtt_client_id": "cam-test-9"}, status: 201,
			check: func(t *testing.T, r result) {
				if m := r.json(t); num(m["reporting_interval_s"]) != 180 || m["dc09_encrypted"] != false {
					t.Errorf("created: %s", r.body)
				}
			}},
		{name: "create panel with key", as: "director", method: "POST", path: "/api/v1/schools/1/devices", body: map[string]any{"kind": "alarm_panel",
			"name": "Панель 3", "dc09_account": "abc123", "dc09_key_hex": strings.Repeat("0f", 16)}, status: 201,
			check: func(t *testing.T, r result) {
				if m := r.json(t); m["dc09_account"] != "ABC123" || m["dc09_encrypted"] != true {
					t.Errorf("created: %s", r.body)
				}
			}},
		{name: "create device taken account", as: "director", method: "POST", path: "/api/v1/schools/1/devices", body: map[string]any{"kind": "alarm_panel",
			"name": "Панель 4", "dc09_account": demo.PlainAccount}, status: 409, field: "dc09_account"},
		{name: "create device taken MQTT id", as: "director", method: "POST", path: "/api/v1/schools/1/devices", body: map[string]any{"kind": "camera",
			"name": "Камера 10", "mqtt_client_id": "cam-test-9"}, status: 409, field: "mqtt_client_id"},
		{name: "create device key without account", as: "director", method: "POST", path: "/api/v1/schools/1/devices", body: map[string]any{"kind": "alarm_panel",
			"name": "Панель 5", "dc09_key_text": "0123456789abcdef"}, status: 422, field: "dc09_account"},
		{name: "create device short key", as: "director", method: "POST", path: "/api/v1/schools/1/devices", body: map[string]any{"kind": "alarm_panel",
			"name": "Панель 5", "dc09_account": "ABC124", "dc09_key_hex": "0f0f"}, status: 422, rejected: true, field: "dc09_key_hex"},
		{name: "create device unknown kind", as: "director", method: "POST", path: "/api/v1/schools/1/devices", body: map[string]any{"kind": "toaster",
			"name": "Тостер"}, status: 422, rejected: true, field: "kind"},
		{name: "create device as guard", as: "guard", method: "POST", path: "/api/v1/schools/1/devices", body: map[string]any{"kind": "camera", "name": "К"}, status: 403},
		{name: "create device elsewhere", as: "director", method: "POST", path: "/api/v1/schools/2/devices", body: map[string]any{"kind": "camera", "name": "К"}, status: 404},
		{name: "device credential", as: "director", method: "POST", path: fmt.Sprintf("/api/v1/devices/%d/credential", device1), status: 201,
			check: func(t *testing.T, r result) {
				if m := r.json(t); num(m["device_id"]) != device1 || !strings.HasPrefix(fmt.Sprint(m["credential"]), "qd_") {
					t.Errorf("credential: %s", r.body)
				}
			}},
		{name: "device credential as guard", as: "guard", method: "POST", path: fmt.Sprintf("/api/v1/devices/%d/credential", device1), status: 403},
		{name: "device credential elsewhere", as: "director", method: "POST", path: fmt.Sprintf("/api/v1/devices/%d/credential", elsewhereDevice), status: 404},
		{name: "device credential no device", bearer: "admin", method: "POST", path: "/api/v1/devices/999999/credential", status: 404},
		{name: "device credential without CSRF", as: "director", csrf: "omit", method: "POST", path: fmt.Sprintf("/api/v1/devices/%d/credential", device1), status: 403, rejected: true, field: "X-CSRF-Token"},

		// providers, contracts, police units
		{name: "contracts", as: "pcn", method: "GET", path: "/api/v1/schools/1/contracts", status: 200, check: hasItems(1, func(t *testing.T, it map[string]any) {
			if num(it["provider_id"]) != provider1 {
				t.Errorf("contract of another provider: %v", it)
			}
		})},
		{name: "contracts of another school", as: "director", method: "GET", path: "/api/v1/schools/2/contracts", status: 404},
		{name: "providers", as: "analyst", method: "GET", path: "/api/v1/providers", status: 200, check: hasItems(2, nil)},
		{name: "providers of the region", as: "region", method: "GET", path: "/api/v1/providers", status: 200, check: hasItems(1, nil)},
		{name: "providers as a parent", as: "parent", method: "GET", path: "/api/v1/providers", status: 403},
		{name: "create provider", as: "region", method: "POST", path: "/api/v1/providers", body: newProvider, status: 201, check: fieldIs("bin", providerBIN)},
		{name: "create provider again", as: "admin", method: "POST", path: "/api/v1/providers", body: newProvider, status: 409, field: "bin"},
		{name: "create provider bad BIN", as: "admin", method: "POST", path: "/api/v1/providers", body: with(newProvider, "bin", brokenBIN(providerBIN)), status: 422, field: "bin"},
		{name: "create provider BIN with letters", as: "admin", method: "POST", path: "/api/v1/providers", body: with(newProvider, "bin", "12345678901A"), status: 422, rejected: true, field: "bin"},
		{name: "create provider no licence", as: "admin", method: "POST", path: "/api/v1/providers", body: with(newProvider, "licence_no", "  "), status: 422, field: "licence_no"},
		{name: "create provider expiry wrong type", as: "admin", method: "POST", path: "/api/v1/providers", body: with(newProvider, "licence_expires", 2027), status: 422, rejected: true, field: "licence_expires"},
		{name: "create provider as director", as: "director", method: "POST", path: "/api/v1/providers", body: newProvider, status: 403},
		{name: "create contract", as: "region", method: "POST", path: "/api/v1/contracts", body: map[string]any{"provider_id": provider1, "school_id": 1, "starts_on": today}, status: 201,
			check: func(t *testing.T, r result) {
				if m := r.json(t); m["starts_on"] != today || m["ends_on"] != nil {
					t.Errorf("created: %s", r.body)
				}
			}},
		{name: "create contract out of scope", as: "region", method: "POST", path: "/api/v1/contracts", body: map[string]any{"provider_id": provider1, "school_id": otherSchool, "starts_on": today}, status: 404, field: "school_id"},
		{name: "create contract no provider", as: "region", method: "POST", path: "/api/v1/contracts", body: map[string]any{"provider_id": 999999, "school_id": 1, "starts_on": today}, status: 404, field: "provider_id"},
		{name: "create contract ends first", as: "region", method: "POST", path: "/api/v1/contracts", body: map[string]any{"provider_id": provider1, "school_id": 1, "starts_on": "2026-09-01", "ends_on": "2026-01-01"}, status: 422, field: "ends_on"},
		{name: "create contract local date", as: "region", method: "POST", path: "/api/v1/contracts", body: map[string]any{"provider_id": provider1, "school_id": 1, "starts_on": "01.09.2026"}, status: 422, rejected: true, field: "starts_on"},
		{name: "create contract as guard", as: "guard", method: "POST", path: "/api/v1/contracts", body: map[string]any{"provider_id": provider1, "school_id": 1, "starts_on": today}, status: 403},
		{name: "police units", as: "cou", method: "GET", path: "/api/v1/police-units", status: 200, check: func(t *testing.T, r result) {
			if n := len(r.items(t)); n != 1 {
				t.Errorf("a ЦОУ operator sees %d units", n)
			}
		}},
		{name: "police units of the region", as: "region", method: "GET", path: "/api/v1/police-units", status: 200, check: hasItems(1, func(t *testing.T, it map[string]any) {
			if it["region_code"] != region {
				t.Errorf("unit of another region: %v", it)
			}
		})},
		{name: "police units as a parent", as: "parent", method: "GET", path: "/api/v1/police-units", status: 403},
		{name: "create police unit", as: "region", method: "POST", path: "/api/v1/police-units", body: map[string]any{"name_kk": "ЖБО", "name_ru": "ЦОУ", "region_code": region}, status: 201,
			check: func(t *testing.T, r result) {
				if m := r.json(t); m["region_code"] != region {
					t.Errorf("created: %s", r.body)
				}
				if _, ok := r.json(t)["district_code"]; ok {
					t.Errorf("a regional unit with a district: %s", r.body)
				}
			}},
		{name: "create police unit unknown region", as: "admin", method: "POST", path: "/api/v1/police-units", body: map[string]any{"name_kk": "ЖБО", "name_ru": "ЦОУ", "region_code": "999999999"}, status: 422, field: "region_code"},
		{name: "create police unit district elsewhere", as: "admin", method: "POST", path: "/api/v1/police-units", body: map[string]any{"name_kk": "ЖБО", "name_ru": "ЦОУ", "region_code": region, "district_code": district}, status: 422, field: "district_code"},
		{name: "create police unit blank name", as: "admin", method: "POST", path: "/api/v1/police-units", body: map[string]any{"name_kk": " ", "name_ru": "ЦОУ", "region_code": region}, status: 422, field: "name_kk"},
		{name: "create police unit unknown field", as: "admin", method: "POST", path: "/api/v1/police-units", body: map[string]any{"name_kk": "ЖБО", "name_ru": "ЦОУ", "region_code": region, "phone": "102"}, status: 422, rejected: true, field: "phone"},
		{name: "create police unit as cou", as: "cou", method: "POST", path: "/api/v1/police-units", body: map[string]any{"name_kk": "ЖБО", "name_ru": "ЦОУ", "region_code": region}, status: 403},

		// signing out
		{name: "sign out without CSRF", as: "leaving", csrf: "omit", method: "DELETE", path: "/api/v1/session", status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "sign out", as: "leaving", method: "DELETE", path: "/api/v1/session", status: 204, check: func(t *testing.T, r result) {
			if len(r.body) != 0 {
				t.Errorf("204 with a body: %q", r.body)
			}
		}},
		{name: "signed out", as: "leaving", method: "GET", path: "/api/v1/me", status: 401},
		{name: "sign out again", as: "leaving", method: "DELETE", path: "/api/v1/session", status: 401},
		{name: "sign out by token", bearer: "director", method: "DELETE", path: "/api/v1/session", status: 204},
	}
	h.runAll(scenarios)
	h.runAll(everyOperation(doc, turkestan, big("{}")))

	// Every documented operation was seen succeeding; the error statuses not
	// exercised are listed.
	var untried []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ok := false
			for code := range op.Responses.Map() {
				n, _ := strconv.Atoi(code)
				key := method + " " + path + " " + code
				switch {
				case n < 300 && h.hit[key]:
					ok = true
				case n >= 300 && !h.hit[key]:
					untried = append(untried, key)
				}
			}
			if !ok {
				t.Errorf("%s %s: no scenario got its success answer", method, path)
			}
		}
	}
	slices.Sort(untried)
	t.Logf("documented error answers no scenario provokes (%d): %s", len(untried), strings.Join(untried, "; "))
}

// everyOperation makes, for each documented operation that needs signing in,
// the scenarios they all share: no credentials (401), a store that is down
// (500) and a body over the limit (413), wherever the document promises them.
func everyOperation(doc *openapi3.T, region, tooLarge string) []scenario {
	var out []scenario
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		concrete := strings.NewReplacer("{id}", "1", "{code}", region).Replace(path)
		for _, method := range []string{"GET", "POST", "DELETE"} {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			if len(*op.Security) == 0 {
				continue // public: the hand-written scenarios cover sign-in
			}
			hasBody := op.RequestBody != nil
			var body any
			if hasBody {
				body = "{}"
			}
			if op.Responses.Status(401) != nil {
				out = append(out, scenario{name: method + " " + path + " without credentials", method: method, path: concrete, body: body,
					status: 401, rejected: true})
			}
			if op.Responses.Status(500) != nil {
				// Any token will do: the store cannot be asked about it.
				out = append(out, scenario{name: method + " " + path + " with the store down", broken: true, method: method, path: concrete, body: body,
					header: map[string]string{"Authorization": "Bearer qt_anything"},
					status: 500, rejected: hasBody, check: func(t *testing.T, r result) {
						if d, _ := r.json(t)["detail"].(string); strings.Contains(d, "sql") || strings.Contains(d, "closed") {
							t.Errorf("internal detail leaked: %q", d)
						}
					}})
			}
			if op.Responses.Status(413) != nil {
				out = append(out, scenario{name: method + " " + path + " over 1 MiB", as: "admin", method: method, path: concrete, body: tooLarge,
					status: 413, rejected: true})
			}
		}
	}
	return out
}

// turkestanOr returns Turkestan region, or another region when region is it.
func turkestanOr(turkestan, region string) string {
	if region != turkestan {
		return turkestan
	}
	return "750000000"
}

// TestOpenAPIServedAsEmbedded checks that the API serves the embedded document
// byte for byte, and that it is the file in the repository.
func TestOpenAPIServedAsEmbedded(t *testing.T) {
	db := storetest.SQLite(t)
	a := auth.New(db)
	srv := &web.Server{DB: db, Auth: a, Registry: registry.New(db, a), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(got, web.OpenAPI()) {
		t.Error("the served document differs from the embedded one")
	}
	file, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, web.OpenAPI()) {
		t.Error("the embedded document differs from openapi.json")
	}
}
