package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
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
	"github.com/xuri/excelize/v2"

	"qorgan/internal/auth"
	"qorgan/internal/demo"
	"qorgan/internal/registry"
	"qorgan/internal/store/storetest"
	"qorgan/internal/testkit"
	"qorgan/internal/transfer"
	"qorgan/internal/web"
)

// xlsxType is the media type of XLSX uploads and downloads.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func init() {
	// kin-openapi reads JSON, CSV and forms itself; an XLSX body is opaque.
	openapi3filter.RegisterBodyDecoder(xlsxType, openapi3filter.FileBodyDecoder)
}

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
		if path == "/api/" {
			continue // the catch-all 404
		}
		if !strings.HasPrefix(path, "/api/") && path != "/healthz" && path != "/readyz" && path != "/metrics" {
			continue // the console's pages: HTML for people, not the API
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
	name    string
	as      string            // session name; "" sends no cookie
	bearer  string            // API token name, sent as Authorization: Bearer
	csrf    string            // "" the session's token, "omit" none, anything else is sent as is
	header  map[string]string // extra request headers
	method  string
	path    string
	body    any // nil: none; string or []byte: raw; anything else: JSON-encoded
	ctype   string
	broken  bool // send to the server whose store is closed
	closing bool // send to the server whose import jobs are shut down

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
	closing  *httptest.Server
	sessions map[string]*session
	tokens   map[string]string
	// hit records "METHOD /path status" for every exchange.
	hit map[string]bool
	// listed records "METHOD /path" of the operations that answered a
	// problem with several problems in its errors array.
	listed map[string]bool
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
	case "bearer", "device", "staffCode", "metricsToken":
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
	switch {
	case sc.broken:
		base = h.broken.URL
	case sc.closing:
		base = h.closing.URL
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

// validateRequest finds the scenario's route in the document and validates
// its request against it: the input the answer is validated with, and what
// is wrong with the request.
func (h *harness) validateRequest(t *testing.T, sc scenario) (*openapi3filter.RequestValidationInput, error) {
	t.Helper()
	vreq := h.request(t, sc)
	route, params, err := h.router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("%s %s is not in the document: %v", sc.method, sc.path, err)
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate, SkipSettingDefaults: true, MultiError: true}}
	return reqIn, openapi3filter.ValidateRequest(context.Background(), reqIn)
}

// run makes the scenario's request, validating it and the answer against the
// document, and checks the status and the body.
func (h *harness) run(t *testing.T, sc scenario) result {
	t.Helper()
	ctx := context.Background()
	reqIn, verr := h.validateRequest(t, sc)
	route := reqIn.Route
	switch {
	case sc.rejected && verr == nil:
		t.Errorf("the document accepts this request, which the scenario means to be invalid")
	case !sc.rejected && verr != nil:
		t.Errorf("the document rejects this request: %v", verr)
	}

	req := h.request(t, sc)
	if strings.HasPrefix(sc.path, "/api/v1/live") {
		// A stream that opens where a refusal was expected does not end:
		// give up on it rather than wait for the test's timeout.
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req = req.WithContext(lctx)
	}
	resp, err := h.live.Client().Do(req)
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
		if len(p.Errors) > 0 {
			h.listed[route.Method+" "+route.Path] = true
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
	h.runIn(h.t, scs)
}

// runIn runs scenarios as subtests of t.
func (h *harness) runIn(t *testing.T, scs []scenario) {
	t.Helper()
	for _, sc := range scs {
		t.Run(sc.name, func(t *testing.T) { h.run(t, sc) })
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

// guardianView checks a pupil as a guardian sees them: no card UID (a
// credential to the school's gates), the guardian's own entry in full, every
// other guardian by name only. It returns how many others there were.
func guardianView(t *testing.T, me string, pupil map[string]any) (others int) {
	t.Helper()
	if _, ok := pupil["card_uid"]; ok {
		t.Errorf("a guardian is shown the child's card UID: %v", pupil)
	}
	for _, x := range pupil["guardians"].([]any) {
		g := x.(map[string]any)
		if _, ok := g["id"]; ok && fmt.Sprint(num(g["id"])) == me {
			if g["phone"] == nil {
				t.Errorf("the guardian's own entry lacks the phone: %v", g)
			}
			continue
		}
		others++
		if len(g) != 1 || g["full_name"] == nil {
			t.Errorf("another guardian is shown with more than a name: %v", g)
		}
	}
	return others
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
	a.LimitSignIns(auth.SignInLimits{LoginBurst: 2, LoginEvery: time.Hour, PerSecond: 1000})
	res := testkit.Demo(t, db, a, 0.002)
	reg := registry.New(db, a)
	// The server has a metrics token: /metrics asks it of every caller.
	const metricsToken = "openapi-metrics-token-1"
	srv := wired(t, db, a, reg, quiet, func(d *web.Deps) { d.MetricsToken = metricsToken })
	live := httptest.NewServer(srv.Handler())
	defer live.Close()

	// A server on the same store whose import jobs are shut down gives the
	// 503 of an import started during shutdown.
	stopped := transfer.NewJobs(reg)
	if err := stopped.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	closing := httptest.NewServer(wired(t, db, a, reg, quiet, func(d *web.Deps) { d.Jobs = stopped }).Handler())
	defer closing.Close()

	// A second server whose store is closed gives the 503 and 500 answers.
	bdb := storetest.SQLite(t)
	ba := auth.New(bdb)
	bdb.Close()
	bsrv := wired(t, bdb, ba, registry.New(bdb, ba), quiet)
	broken := httptest.NewServer(bsrv.Handler())
	defer broken.Close()

	h := &harness{t: t, router: router, live: live, broken: broken, closing: closing,
		sessions: map[string]*session{}, tokens: map[string]string{"metrics": metricsToken}, hit: map[string]bool{}, listed: map[string]bool{}}

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
		// Prometheus, with the server's token (without one: everyOperation's
		// 401 below).
		{name: "metrics", bearer: "metrics", method: "GET", path: "/metrics", status: 200, check: func(t *testing.T, r result) {
			if !strings.Contains(string(r.body), "qorgan_http_requests_total") || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
				t.Errorf("metrics: %s %s", r.header.Get("Content-Type"), clip(r.body))
			}
		}},
		{name: "metrics with another token", header: map[string]string{"Authorization": "Bearer " + strings.ToUpper(metricsToken)}, method: "GET", path: "/metrics", status: 401, field: "Authorization"},

		// signing in
		{name: "sign in wrong password", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "admin", "password": "not-it"}, status: 401},
		{name: "sign in unknown login", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "nobody", "password": "not-it"}, status: 401},
		// The server allows a login name two failures (LimitSignIns above):
		// the third attempt is refused before its password is checked, even
		// the right one, and says when to try again.
		{name: "sign in guess 1", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "guard2", "password": "guess-one"}, status: 401},
		{name: "sign in guess 2", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "guard2", "password": "guess-two"}, status: 401},
		{name: "sign in after two failures", method: "POST", path: "/api/v1/session", body: map[string]string{"login": "guard2", "password": "qorgan-demo-2026"}, status: 429,
			check: func(t *testing.T, r result) {
				if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
					t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
				}
			}},
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
			"password": "long-enough-1", "role": "ministry_analyst", "scope": map[string]any{"kind": "nation", "level": 1}}, status: 422, rejected: true, field: "scope/level"},
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
		{name: "create school with several bad fields", as: "admin", method: "POST", path: "/api/v1/schools",
			body: with(newSchool, "code", "TEST-005", "bin", brokenBIN(schoolBIN), "region_code", "999999999"), status: 422, field: "bin",
			check: func(t *testing.T, r result) {
				var p struct {
					Errors []struct{ Field string } `json:"errors"`
				}
				json.Unmarshal(r.body, &p)
				if len(p.Errors) != 2 || p.Errors[0].Field != "bin" || p.Errors[1].Field != "region_code" {
					t.Fatalf("errors: %+v, want bin and region_code", p.Errors)
				}
			}},
		{name: "create school short BIN", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", "12345"), status: 422, rejected: true, field: "bin"},
		{name: "create school unknown region", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil, "region_code", "999999999"), status: 422, field: "region_code"},
		{name: "create school district elsewhere", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil, "district_code", district), status: 422, field: "district_code"},
		{name: "create school lat without lon", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil, "lon", nil), status: 422, field: "lat"},
		{name: "create school bad shift", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "bin", nil,
			"shifts", []map[string]string{{"start": "08:00", "end": "13:00"}, {"start": "14:00", "end": "13:00"}}), status: 422, field: "shifts/1"},
		{name: "create school unknown field", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "colour", "blue"), status: 422, rejected: true, field: "colour"},
		{name: "create school wrong type", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "headcount", "many"), status: 422, rejected: true, field: "headcount"},
		{name: "create school shift wrong type", as: "admin", method: "POST", path: "/api/v1/schools", body: with(newSchool, "code", "TEST-003", "shifts", []any{map[string]any{"start": 8}}), status: 422, rejected: true, field: "shifts/0/start"},
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
		{name: "create pupil with several bad fields", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body:   with(newPupil, "external_id", "T-0002", "card_uid", nil, "class", "13Z", "guardians", []any{guardian("phone", "12345")}),
			status: 422, field: "class", check: errorsAre("class", "guardians/0/phone")},
		{name: "create pupil consent withdrawn first", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body:   with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", []any{guardian("consent_given_on", "2025-09-01", "consent_withdrawn_on", "2025-01-01")}),
			status: 422, field: "guardians/0/consent_withdrawn_on"},
		{name: "create pupil guardian wrong type", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body: with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", []any{guardian("phone", "+77015550001"), guardian("may_collect", "yes")}), status: 422, rejected: true, field: "guardians/1/may_collect"},
		{name: "create pupil guardian unknown field", as: "director", method: "POST", path: "/api/v1/schools/1/pupils",
			body: with(newPupil, "external_id", "T-0002", "card_uid", nil, "guardians", []any{guardian("phone", "+77015550001"), guardian("nickname", "Mama")}), status: 422, rejected: true, field: "guardians/1/nickname"},
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
		// The pupil's school is in the analyst's and the ПЦН's scope; their
		// roles may not read children: 403, as for the school's list.
		{name: "pupil as analyst", as: "analyst", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", pupil1), status: 403},
		{name: "pupil as the ПЦН", as: "pcn", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", pupil1), status: 403},
		{name: "own child", as: "parent", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", childID), status: 200, check: func(t *testing.T, r result) {
			if guardianView(t, h.sessions["parent"].who.Scope.Ref, r.json(t)) == 0 {
				t.Errorf("the demo's child has no second guardian to show: %s", r.body)
			}
		}},
		{name: "someone else's child", as: "parent", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d", notMyChild), status: 404},
		{name: "pupil id zero", as: "admin", method: "GET", path: "/api/v1/pupils/0", status: 404, rejected: true},
		{name: "my children", as: "parent", method: "GET", path: "/api/v1/children", status: 200, check: func(t *testing.T, r result) {
			co := 0
			hasItems(1, func(t *testing.T, it map[string]any) {
				if gs, _ := it["guardians"].([]any); len(gs) == 0 {
					t.Errorf("child without guardians: %v", it)
				}
				co += guardianView(t, h.sessions["parent"].who.Scope.Ref, it)
			})(t, r)
			if co == 0 {
				t.Errorf("the demo's children have no second guardian to show: %s", clip(r.body))
			}
		}},
		{name: "children of a director", as: "director", method: "GET", path: "/api/v1/children", status: 403},

		// staff
		{name: "staff", as: "guard", method: "GET", path: "/api/v1/schools/1/staff", status: 200, check: hasItems(1, nil)},
		{name: "staff of another school", as: "director", method: "GET", path: "/api/v1/schools/2/staff", status: 404},
		// People's names, phones and cards are not the ministry's statistics.
		{name: "staff as the analyst", as: "analyst", method: "GET", path: "/api/v1/schools/1/staff", status: 403},
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
				m := r.json(t)
				if num(m["device_id"]) != device1 || !strings.HasPrefix(fmt.Sprint(m["credential"]), "qd_") {
					t.Errorf("credential: %s", r.body)
				}
				h.tokens["device1"], _ = m["credential"].(string)
			}},
		{name: "device credential as guard", as: "guard", method: "POST", path: fmt.Sprintf("/api/v1/devices/%d/credential", device1), status: 403},
		{name: "device credential as the analyst", as: "analyst", method: "POST", path: fmt.Sprintf("/api/v1/devices/%d/credential", device1), status: 403},
		{name: "device credential at another school", as: "guard2", method: "POST", path: fmt.Sprintf("/api/v1/devices/%d/credential", device1), status: 404},
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

	k := known{doc: doc, region: region, otherRegion: turkestanOr(turkestan, region), provider1: provider1, device1: device1}
	for _, s := range all {
		if num(s["id"]) == 1 {
			k.school1Code, _ = s["code"].(string)
		}
	}
	k.policeUnit, _ = strconv.ParseInt(h.sessions["cou"].who.Scope.Ref, 10, 64)
	if k.school1Code == "" || k.policeUnit == 0 || h.tokens["device1"] == "" {
		t.Fatalf("the scenarios lack what the transfer and alarm scenarios need: %+v", k)
	}
	t.Run("imports and exports", func(t *testing.T) { transferScenarios(t, h, k) })
	t.Run("alarms", func(t *testing.T) { alarmScenarios(t, h, k) })
	t.Run("live", func(t *testing.T) { liveScenarios(t, h, k) })
	t.Run("access", func(t *testing.T) { accessScenarios(t, h, k) })
	t.Run("people", func(t *testing.T) { peopleScenarios(t, h, k) })
	t.Run("roadmap", func(t *testing.T) { roadmapScenarios(t, h, k) })
	t.Run("push", func(t *testing.T) { pushScenarios(t, h) })
	t.Run("emergency", func(t *testing.T) { emergencyScenarios(t, h, db) })

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

	// The problem's errors array is described by the operations that fill
	// it, and those are the ones seen filling it.
	described := map[string]bool{}
	errorsDoc := doc.Components.Schemas["Problem"].Value.Properties["errors"].Value.Description
	for _, m := range operationRef.FindAllStringSubmatch(errorsDoc, -1) {
		described[m[1]] = true
	}
	for op := range h.listed {
		if !described[op] {
			t.Errorf("%s filled the problem's errors array; the description of errors does not name it: %q", op, errorsDoc)
		}
	}
	for op := range described {
		if !h.listed[op] {
			t.Errorf("the description of the problem's errors array names %s, which no scenario saw filling it", op)
		}
	}
}

// errorsAre checks the fields of a problem's errors array, in order.
func errorsAre(fields ...string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		var p web.Problem
		json.Unmarshal(r.body, &p)
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Field)
		}
		if !slices.Equal(got, fields) {
			t.Errorf("errors name %q, want %q", got, fields)
		}
	}
}

// operationRef finds "`POST /api/v1/…`" in a description.
var operationRef = regexp.MustCompile("`((?:GET|POST|PUT|DELETE) /api/v1/[^`]*)`")

// everyOperation makes, for each documented operation that needs signing in
// (or a device credential), the scenarios they all share: no credentials
// (401), a store that is down (500) and a JSON body over the limit (413),
// wherever the document promises them.
func everyOperation(doc *openapi3.T, region, tooLarge string) []scenario {
	var out []scenario
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		concrete := strings.NewReplacer("{id}", "1", "{code}", region, "{step}", "acknowledge", "{reunion}", "1", "{action}", "runner").Replace(path)
		for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			if len(*op.Security) == 0 {
				continue // public: the hand-written scenarios cover sign-in
			}
			// The device webhook takes a device credential only, and says
			// what is missing in field Authorization.
			device := slices.ContainsFunc(*op.Security, func(req openapi3.SecurityRequirement) bool { _, ok := req["device"]; return ok })
			hasBody := op.RequestBody != nil
			var body any
			if hasBody {
				body = "{}"
			}
			// An empty object is not a valid body where the body is not JSON
			// (imports) or its schema requires fields.
			var jsonBody *openapi3.MediaType
			if hasBody {
				jsonBody = op.RequestBody.Value.Content.Get("application/json")
			}
			emptyRejected := hasBody && (jsonBody == nil || len(jsonBody.Schema.Value.Required) > 0)
			if op.Responses.Status(401) != nil {
				field := ""
				if device {
					field = "Authorization"
				}
				out = append(out, scenario{name: method + " " + path + " without credentials", method: method, path: concrete, body: body,
					status: 401, rejected: true, field: field})
			}
			// The webhook cannot be sent to a store that is down: looking the
			// credential up fails first, and answers 401.
			if op.Responses.Status(500) != nil && !device {
				// Any token will do: the store cannot be asked about it.
				out = append(out, scenario{name: method + " " + path + " with the store down", broken: true, method: method, path: concrete, body: body,
					header: map[string]string{"Authorization": "Bearer qt_anything"},
					status: 500, rejected: emptyRejected, check: func(t *testing.T, r result) {
						if d, _ := r.json(t)["detail"].(string); strings.Contains(d, "sql") || strings.Contains(d, "closed") {
							t.Errorf("internal detail leaked: %q", d)
						}
					}})
			}
			// The 1 MiB limit is on JSON bodies; imports take files of up to
			// 50 MiB and the webhook is not the admin's (both have their own).
			if op.Responses.Status(413) != nil && jsonBody != nil && !device {
				out = append(out, scenario{name: method + " " + path + " over 1 MiB", as: "admin", method: method, path: concrete, body: tooLarge,
					status: 413, rejected: emptyRejected})
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
	ts := serveWired(t, db, a)
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

// --- imports and exports, alarms, the live stream

// known is what the scenarios learned about the demo, for the ones that
// follow.
type known struct {
	doc                 *openapi3.T
	region, otherRegion string // the region login's region, and another
	school1Code         string
	provider1, device1  int64 // the ПЦН on duty at school 1, a device there
	policeUnit          int64 // the ЦОУ login's unit
}

// csvOf writes rows as a comma-separated file.
func csvOf(rows ...[]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	return b.Bytes()
}

// rowOf lays out cells by column name in the order of header.
func rowOf(header []string, cells map[string]string) []string {
	out := make([]string, len(header))
	for i, c := range header {
		out[i] = cells[c]
	}
	return out
}

// form makes a multipart/form-data body with one file part.
func form(t *testing.T, field, filename, ctype string, data []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, filename))
	hdr.Set("Content-Type", ctype)
	pw, err := mw.CreatePart(hdr)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// readCSV parses a downloaded CSV file, which starts with a byte-order mark.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Errorf("the CSV file does not start with a byte-order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("not a CSV file: %v", err)
	}
	return rows
}

// column returns the cells of the named column below the header.
func column(rows [][]string, name string) []string {
	i := slices.Index(rows[0], name)
	if i < 0 {
		return nil
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[i])
	}
	return out
}

// isFile checks a download's media type and file name.
func isFile(ctype, filename string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, ctype) {
			t.Errorf("Content-Type %q, want %s", got, ctype)
		}
		if got := r.header.Get("Content-Disposition"); got != "attachment; filename="+filename {
			t.Errorf("Content-Disposition %q, want attachment; filename=%s", got, filename)
		}
	}
}

// started checks a 202 answer to an import and returns the job's id.
func started(t *testing.T, r result, file string) int64 {
	t.Helper()
	job := r.json(t)
	id := num(job["id"])
	if loc := r.header.Get("Location"); loc != fmt.Sprintf("/api/v1/imports/%d", id) {
		t.Errorf("Location %q for job %d", loc, id)
	}
	if job["status"] != "running" || job["file"] != file || job["finished_at"] != nil {
		t.Errorf("a job just started: %s", r.body)
	}
	return id
}

// finished polls an import job until it has ended, validating every answer.
func (h *harness) finished(t *testing.T, as, bearer string, id int64) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var job map[string]any
		h.run(t, scenario{name: "poll", as: as, bearer: bearer, method: "GET", path: fmt.Sprintf("/api/v1/imports/%d", id), status: 200,
			check: func(t *testing.T, r result) { job = r.json(t) }})
		if job["status"] != "running" {
			if job["finished_at"] == nil {
				t.Errorf("job %d ended without finished_at: %v", id, job)
			}
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still running after 30 s: %v", id, job)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantJob checks an ended job's status and counts.
func wantJob(t *testing.T, job map[string]any, status string, created, updated, unchanged int64) {
	t.Helper()
	if job["status"] != status || num(job["created"]) != created || num(job["updated"]) != updated || num(job["unchanged"]) != unchanged {
		t.Fatalf("job %s created %v updated %v unchanged %v, problems %v; want %s %d/%d/%d",
			job["status"], job["created"], job["updated"], job["unchanged"], job["problems"], status, created, updated, unchanged)
	}
}

func transferScenarios(t *testing.T, h *harness, k known) {
	schoolHeader := transfer.SchoolColumns()
	school := func(code, region, urban, headcount string) []string {
		return rowOf(schoolHeader, map[string]string{"code": code, "name_kk": code + " мектебі", "name_ru": "Школа " + code,
			"region_code": region, "address": "Мектеп көшесі, 7", "urban": urban, "regional_centre": "нет", "shifts": "08:00-13:00;13:30-18:30",
			"headcount": headcount})
	}
	schools := csvOf(schoolHeader, school("IMP-001", k.region, "true", "250"), school("IMP-002", k.region, "нет", "80"))
	badSchools := csvOf(schoolHeader, school("IMP-003", k.region, "maybe", "many"), school("IMP-004", k.region, "true", "90"),
		school("IMP-005", k.otherRegion, "true", "90"))
	pupilHeader := transfer.PupilColumns(1)
	pupils := csvOf(pupilHeader, rowOf(pupilHeader, map[string]string{"school_code": k.school1Code, "external_id": "IMP-P-1",
		"last_name": "Иманова", "first_name": "Дана", "class": "3 б", "guardian1_phone": "8 701 555 99 11",
		"guardian1_full_name": "Иманова Сауле", "guardian1_consent_given_on": "01.09.2025"}))
	pupilForm, pupilFormType := form(t, "file", "pupils.csv", "text/csv", pupils)
	otherForm, otherFormType := form(t, "upload", "pupils.csv", "text/csv", pupils)

	// A schools file through the API: started, followed until done; the
	// same file again changes nothing.
	var job int64
	h.run(t, scenario{name: "import schools", as: "region", method: "POST", path: "/api/v1/imports?kind=schools&format=csv&filename=schools.csv",
		body: schools, ctype: "text/csv", status: 202, check: func(t *testing.T, r result) {
			job = started(t, r, "schools.csv")
			if m := r.json(t); m["kind"] != "schools" || m["format"] != "csv" || num(m["user_id"]) != h.sessions["region"].who.UserID {
				t.Errorf("job: %s", r.body)
			}
		}})
	done := h.finished(t, "region", "", job)
	wantJob(t, done, "done", 2, 0, 0)
	if num(done["total"]) != 2 || num(done["processed"]) != 2 {
		t.Errorf("finished job: %v", done)
	}
	h.run(t, scenario{name: "import schools again", as: "region", method: "POST", path: "/api/v1/imports?kind=schools&format=csv&filename=schools.csv",
		body: schools, ctype: "text/csv", status: 202, check: func(t *testing.T, r result) { job = started(t, r, "schools.csv") }})
	wantJob(t, h.finished(t, "region", "", job), "done", 0, 0, 2)

	// A file with bad cells and a school outside the region is rejected
	// whole, every problem named, the good row not written either.
	h.run(t, scenario{name: "import bad schools", as: "region", method: "POST", path: "/api/v1/imports?kind=schools&filename=bad.csv",
		body: badSchools, ctype: "text/csv", status: 202, check: func(t *testing.T, r result) { job = started(t, r, "bad.csv") }})
	rejected := h.finished(t, "region", "", job)
	wantJob(t, rejected, "rejected", 0, 0, 0)
	var named []string
	for _, p := range rejected["problems"].([]any) {
		p := p.(map[string]any)
		named = append(named, fmt.Sprintf("%v/%v", p["row"], p["column"]))
	}
	if !slices.Equal(named, []string{"2/urban", "2/headcount", "4/region_code"}) {
		t.Errorf("problems %v, want 2/urban, 2/headcount and 4/region_code", named)
	}

	// A pupils file as a form; the format comes from the part's file name.
	var pupilJob int64
	h.run(t, scenario{name: "import pupils as a form", as: "director", method: "POST", path: "/api/v1/imports?kind=pupils",
		body: pupilForm, ctype: pupilFormType, status: 202, check: func(t *testing.T, r result) {
			pupilJob = started(t, r, "pupils.csv")
			if r.json(t)["format"] != "csv" {
				t.Errorf("format not told from the file name: %s", r.body)
			}
		}})
	done = h.finished(t, "director", "", pupilJob)
	wantJob(t, done, "done", 1, 0, 0)
	if num(done["school_id"]) != 1 {
		t.Errorf("a pupils file for school 1: %v", done)
	}

	// Exports: the files import back unchanged.
	var pupilsXLSX []byte
	h.runIn(t, []scenario{
		{name: "import of another user", as: "region", method: "GET", path: fmt.Sprintf("/api/v1/imports/%d", pupilJob), status: 404},
		{name: "import by the administrator", bearer: "admin", method: "GET", path: fmt.Sprintf("/api/v1/imports/%d", pupilJob), status: 200, check: fieldIs("status", "done")},
		{name: "import that is not", as: "admin", method: "GET", path: "/api/v1/imports/999999", status: 404},
		{name: "import id not a number", as: "admin", method: "GET", path: "/api/v1/imports/latest", status: 404, rejected: true},
		{name: "import as guard", as: "guard", method: "POST", path: "/api/v1/imports?kind=pupils&format=csv", body: pupils, ctype: "text/csv", status: 403},
		{name: "import pupils as region", as: "region", method: "POST", path: "/api/v1/imports?kind=pupils&format=csv", body: pupils, ctype: "text/csv", status: 403},
		{name: "import without CSRF", as: "region", csrf: "omit", method: "POST", path: "/api/v1/imports?kind=schools&format=csv", body: schools, ctype: "text/csv",
			status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "import without kind", as: "admin", method: "POST", path: "/api/v1/imports?format=csv", body: schools, ctype: "text/csv", status: 422, rejected: true, field: "kind"},
		{name: "import unknown kind", as: "admin", method: "POST", path: "/api/v1/imports?kind=teachers&format=csv", body: schools, ctype: "text/csv", status: 422, rejected: true, field: "kind"},
		{name: "import unknown format", as: "admin", method: "POST", path: "/api/v1/imports?kind=schools&format=ods", body: schools, ctype: "text/csv", status: 422, rejected: true, field: "format"},
		{name: "import without format or name", as: "admin", method: "POST", path: "/api/v1/imports?kind=schools", body: schools, ctype: "text/csv", status: 422, field: "format"},
		{name: "import of a text file", as: "admin", method: "POST", path: "/api/v1/imports?kind=schools&filename=schools.txt", body: schools, ctype: "text/csv", status: 422, field: "file"},
		{name: "import form without file", as: "director", method: "POST", path: "/api/v1/imports?kind=pupils", body: otherForm, ctype: otherFormType, status: 422, rejected: true, field: "file"},
		{name: "import over 50 MiB", as: "admin", method: "POST", path: "/api/v1/imports?kind=schools&format=csv", body: make([]byte, transfer.MaxFileSize+1),
			ctype: "application/octet-stream", status: 413, field: "file"},
		{name: "import while shutting down", closing: true, as: "admin", method: "POST", path: "/api/v1/imports?kind=schools&format=csv", body: schools, ctype: "text/csv", status: 503},

		{name: "export schools", as: "region", method: "GET", path: "/api/v1/exports/schools", status: 200, check: func(t *testing.T, r result) {
			isFile("text/csv", "schools.csv")(t, r)
			rows := readCSV(t, r.body)
			if !slices.Equal(rows[0], schoolHeader) {
				t.Errorf("header %v", rows[0])
			}
			for _, rc := range column(rows, "region_code") {
				if rc != k.region {
					t.Errorf("a school of region %s exported to region %s", rc, k.region)
				}
			}
			codes := column(rows, "code")
			if !slices.Contains(codes, "IMP-001") || !slices.Contains(codes, "IMP-002") || slices.Contains(codes, "IMP-004") {
				t.Errorf("imported schools in the export: %v", codes)
			}
		}},
		{name: "export schools as XLSX", bearer: "admin", method: "GET", path: "/api/v1/exports/schools?format=xlsx", status: 200, check: func(t *testing.T, r result) {
			isFile(xlsxType, "schools.xlsx")(t, r)
			f, err := excelize.OpenReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatalf("not an XLSX file: %v", err)
			}
			defer f.Close()
			rows, err := f.GetRows("schools")
			if err != nil || len(rows) < 3 || !slices.Equal(rows[0], schoolHeader) {
				t.Errorf("sheet schools: %v, %d rows, header %v", err, len(rows), rows[0])
			}
		}},
		{name: "export schools unknown format", as: "admin", method: "GET", path: "/api/v1/exports/schools?format=pdf", status: 422, rejected: true, field: "format"},
		{name: "export schools as a parent", as: "parent", method: "GET", path: "/api/v1/exports/schools", status: 403},
		{name: "export pupils", as: "director", method: "GET", path: "/api/v1/schools/1/pupils/export?format=csv", status: 200, check: func(t *testing.T, r result) {
			isFile("text/csv", "pupils-school-1.csv")(t, r)
			rows := readCSV(t, r.body)
			if !slices.Equal(rows[0][:len(transfer.PupilColumns(2))], transfer.PupilColumns(2)) {
				t.Errorf("header %v", rows[0])
			}
			if !slices.Contains(column(rows, "external_id"), "IMP-P-1") || slices.ContainsFunc(column(rows, "school_code"), func(c string) bool { return c != k.school1Code }) {
				t.Errorf("the export of school 1 lacks the imported pupil or has another school's")
			}
		}},
		{name: "export pupils as XLSX", as: "director", method: "GET", path: "/api/v1/schools/1/pupils/export?format=xlsx", status: 200, check: func(t *testing.T, r result) {
			isFile(xlsxType, "pupils-school-1.xlsx")(t, r)
			pupilsXLSX = r.body
		}},
		{name: "export pupils as guard", as: "guard", method: "GET", path: "/api/v1/schools/1/pupils/export", status: 403},
		{name: "export pupils as analyst", as: "analyst", method: "GET", path: "/api/v1/schools/1/pupils/export", status: 403},
		{name: "export pupils of another school", as: "director", method: "GET", path: "/api/v1/schools/2/pupils/export", status: 404},
		{name: "export pupils as a parent", as: "parent", method: "GET", path: "/api/v1/schools/1/pupils/export", status: 404},
		{name: "export pupils unknown format", as: "director", method: "GET", path: "/api/v1/schools/1/pupils/export?format=json", status: 422, rejected: true, field: "format"},
		{name: "export pupils school not a number", as: "director", method: "GET", path: "/api/v1/schools/one/pupils/export", status: 404, rejected: true},
	})
	if pupilsXLSX == nil {
		t.Fatal("no XLSX export to import back")
	}
	// Each export is one entry of the access log, for every pupil of the
	// school, with the number of rows it carried.
	var somePupil int64
	h.run(t, scenario{name: "a pupil of school 1", as: "director", method: "GET", path: "/api/v1/schools/1/pupils?limit=1", status: 200,
		check: func(t *testing.T, r result) { somePupil = num(r.items(t)[0]["id"]) }})
	h.run(t, scenario{name: "the exports in a pupil's access log", as: "director", method: "GET", path: fmt.Sprintf("/api/v1/pupils/%d/access-log", somePupil), status: 200,
		check: func(t *testing.T, r result) {
			var exports []map[string]any
			for _, e := range r.items(t) {
				if e["action"] == "pupils.export" {
					exports = append(exports, e)
				}
			}
			if len(exports) != 2 || num(exports[0]["rows"]) < 2 || exports[0]["login"] != "director" {
				t.Errorf("the two exports are logged as %v", exports)
			}
		}})
	// The XLSX export imports back, raw and by token, changing nothing.
	h.run(t, scenario{name: "import the export", bearer: "admin", method: "POST", path: "/api/v1/imports?kind=pupils&format=xlsx&filename=pupils-school-1.xlsx",
		body: pupilsXLSX, ctype: xlsxType, status: 202, check: func(t *testing.T, r result) { job = started(t, r, "pupils-school-1.xlsx") }})
	done = h.finished(t, "", "admin", job)
	wantJob(t, done, "done", 0, 0, num(done["total"]))
	if num(done["total"]) < 2 {
		t.Errorf("the export of school 1 held %v pupils", done["total"])
	}
}

// findAlarms lists the open alarms as the session sees them and returns
// those that match.
func (h *harness) findAlarms(t *testing.T, as string, match func(a map[string]any) bool) []map[string]any {
	t.Helper()
	var out []map[string]any
	h.run(t, scenario{name: "alarms as " + as, as: as, method: "GET", path: "/api/v1/alarms", status: 200, check: func(t *testing.T, r result) {
		for _, a := range r.items(t) {
			if match(a) {
				out = append(out, a)
			}
		}
	}})
	return out
}

// stepsAre checks an alarm's response record, as "party step" pairs.
func stepsAre(want ...string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		var got []string
		for _, s := range r.json(t)["steps"].([]any) {
			s := s.(map[string]any)
			got = append(got, fmt.Sprint(s["party"], " ", s["step"]))
		}
		if !slices.Equal(got, want) {
			t.Errorf("steps %v, want %v", got, want)
		}
	}
}

func alarmScenarios(t *testing.T, h *harness, k known) {
	byCode := func(code string) func(a map[string]any) bool {
		return func(a map[string]any) bool { return a["code"] == code }
	}
	for _, sc := range []scenario{
		{name: "alarms before any", as: "guard", method: "GET", path: "/api/v1/alarms?all=true", status: 200, check: func(t *testing.T, r result) {
			if n := len(r.items(t)); n != 0 {
				t.Fatalf("the demo has %d alarms already", n)
			}
		}},
		{name: "panic", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "press-1", "note": "a stranger at the gate"},
			status: 202, check: fieldIs("status", "raised")},
		{name: "panic repeated", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "press-1", "note": "a stranger at the gate"},
			status: 202, check: fieldIs("status", "raised")},
		{name: "silent panic", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "press-2", "silent": true}, status: 202},
	} {
		h.run(t, sc)
	}
	// The repeated press raised one alarm; the silent one is not the guard's
	// to see.
	staff := h.findAlarms(t, "guard", byCode("staff"))
	if len(staff) != 1 || staff[0]["type"] != "panic" || staff[0]["silent"] != false || staff[0]["state"] != "raised" || num(staff[0]["provider_id"]) != k.provider1 {
		t.Fatalf("the guard's alarms after two presses and a silent one: %v", staff)
	}
	alarm := num(staff[0]["id"])
	silent := h.findAlarms(t, "pcn", func(a map[string]any) bool { return a["code"] == "staff" && a["silent"] == true })
	if len(silent) != 1 || silent[0]["type"] != "silent_panic" {
		t.Fatalf("the ПЦН's silent alarms: %v", silent)
	}
	hidden := num(silent[0]["id"])
	at := func(id int64, step string) string {
		if step == "" {
			return fmt.Sprintf("/api/v1/alarms/%d", id)
		}
		return fmt.Sprintf("/api/v1/alarms/%d/%s", id, step)
	}
	stateIs := func(state string) func(t *testing.T, r result) { return fieldIs("state", state) }

	h.runIn(t, []scenario{
		// reading
		{name: "alarm", as: "guard", method: "GET", path: at(alarm, ""), status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			if m["state"] != "raised" || m["next_escalation_at"] == nil || num(m["police_unit_id"]) != k.policeUnit || len(m["steps"].([]any)) != 0 {
				t.Errorf("a new alarm: %s", r.body)
			}
		}},
		{name: "alarm as cou", as: "cou", method: "GET", path: at(alarm, ""), status: 200},
		// The ministry reads statistics, not incidents: the alarm is in its
		// scope (the nation), and its role may not read it.
		{name: "alarm as analyst", as: "analyst", method: "GET", path: at(alarm, ""), status: 403},
		{name: "alarms as analyst", as: "analyst", method: "GET", path: "/api/v1/alarms?all=true", status: 403},
		{name: "alarm of another school", as: "guard2", method: "GET", path: at(alarm, ""), status: 404},
		{name: "alarm as a parent", as: "parent", method: "GET", path: at(alarm, ""), status: 404},
		{name: "alarm that is not", as: "admin", method: "GET", path: at(999999, ""), status: 404},
		{name: "alarm id not a number", as: "admin", method: "GET", path: "/api/v1/alarms/first", status: 404, rejected: true},
		{name: "silent alarm as guard", as: "guard", method: "GET", path: at(hidden, ""), status: 404},
		{name: "silent alarm as director", as: "director", method: "GET", path: at(hidden, ""), status: 404},
		{name: "silent alarm as cou", as: "cou", method: "GET", path: at(hidden, ""), status: 200, check: fieldIs("silent", true)},
		{name: "silent alarm as region", as: "region", method: "GET", path: at(hidden, ""), status: 200},
		{name: "the guard's alarms", as: "guard", method: "GET", path: "/api/v1/alarms?all=true&limit=500", status: 200, check: hasItems(1, func(t *testing.T, a map[string]any) {
			if a["silent"] != false || num(a["school_id"]) != 1 {
				t.Errorf("the guard of school 1 sees %v", a)
			}
		})},
		{name: "the ПЦН's alarms", as: "pcn", method: "GET", path: "/api/v1/alarms?limit=10", status: 200, check: hasItems(2, func(t *testing.T, a map[string]any) {
			if num(a["provider_id"]) != k.provider1 {
				t.Errorf("the ПЦН sees another provider's alarm %v", a)
			}
		})},
		{name: "the ЦОУ's alarms", as: "cou", method: "GET", path: "/api/v1/alarms", status: 200, check: hasItems(2, func(t *testing.T, a map[string]any) {
			if num(a["police_unit_id"]) != k.policeUnit {
				t.Errorf("the ЦОУ sees another unit's alarm %v", a)
			}
		})},
		{name: "alarms of another school", as: "guard2", method: "GET", path: "/api/v1/alarms", status: 200, check: hasItems(0, func(t *testing.T, a map[string]any) {
			if num(a["school_id"]) == 1 {
				t.Errorf("the guard of school 2 sees %v", a)
			}
		})},
		{name: "alarms as a parent", as: "parent", method: "GET", path: "/api/v1/alarms?all=true", status: 403},
		{name: "alarms limit 0", as: "pcn", method: "GET", path: "/api/v1/alarms?limit=0", status: 422, rejected: true, field: "limit"},
		{name: "alarms limit 501", as: "pcn", method: "GET", path: "/api/v1/alarms?limit=501", status: 422, rejected: true, field: "limit"},

		// panic errors
		{name: "panic at another school", as: "guard", method: "POST", path: "/api/v1/schools/2/panic", body: map[string]any{"request_id": "press-9"}, status: 404},
		{name: "panic as pcn", as: "pcn", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "press-9"}, status: 403},
		{name: "panic as a parent", as: "parent", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "press-9"}, status: 404},
		{name: "panic without request_id", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"silent": false}, status: 422, rejected: true, field: "request_id"},
		{name: "panic request_id too long", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": strings.Repeat("p", 65)},
			status: 422, rejected: true, field: "request_id"},
		{name: "panic silent as text", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: `{"request_id":"press-9","silent":"yes"}`, status: 422, rejected: true, field: "silent"},
		{name: "panic without CSRF", as: "guard", csrf: "omit", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "press-9"},
			status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "panic by the administrator's token", bearer: "admin", method: "POST", path: "/api/v1/schools/2/panic", body: map[string]any{"request_id": "press-admin"}, status: 202},

		// the response: the ПЦН acknowledges, dispatches, sees its group arrive, resolves
		{name: "dispatch before acknowledging", as: "pcn", method: "POST", path: at(alarm, "dispatch"), body: map[string]any{"responder": "ГБР-7"}, status: 409},
		{name: "acknowledge as admin", as: "admin", method: "POST", path: at(alarm, "acknowledge"), status: 403},
		{name: "acknowledge as a parent", as: "parent", method: "POST", path: at(alarm, "acknowledge"), status: 404},
		{name: "acknowledge at another school", as: "guard2", method: "POST", path: at(alarm, "acknowledge"), status: 404},
		{name: "acknowledge", as: "pcn", method: "POST", path: at(alarm, "acknowledge"), status: 200, check: func(t *testing.T, r result) {
			stateIs("acknowledged")(t, r)
			stepsAre("pcn acknowledged")(t, r)
			if r.json(t)["next_escalation_at"] != nil {
				t.Errorf("the ПЦН's acknowledgement did not stop escalation: %s", r.body)
			}
		}},
		{name: "acknowledge again", as: "pcn", method: "POST", path: at(alarm, "acknowledge"), status: 409},
		{name: "acknowledge by the school", as: "guard", method: "POST", path: at(alarm, "acknowledge"), body: map[string]any{}, status: 200,
			check: stepsAre("pcn acknowledged", "school acknowledged")},
		{name: "dispatch by the school", as: "guard", method: "POST", path: at(alarm, "dispatch"), body: map[string]any{"responder": "сторож"}, status: 403},
		{name: "dispatch without responder", as: "pcn", method: "POST", path: at(alarm, "dispatch"), body: map[string]any{}, status: 422, field: "responder"},
		{name: "dispatch responder too long", as: "pcn", method: "POST", path: at(alarm, "dispatch"), body: map[string]any{"responder": strings.Repeat("Г", 201)},
			status: 422, rejected: true, field: "responder"},
		{name: "dispatch", as: "pcn", method: "POST", path: at(alarm, "dispatch"), body: map[string]any{"responder": "ГБР-7"}, status: 200, check: stateIs("dispatched")},
		{name: "dispatch by the ЦОУ before acknowledging", as: "cou", method: "POST", path: at(alarm, "dispatch"), body: map[string]any{"responder": "Патруль 12"}, status: 409},
		{name: "unknown step", as: "pcn", method: "POST", path: at(alarm, "escalate"), status: 404, rejected: true},
		{name: "step unknown field", as: "pcn", method: "POST", path: at(alarm, "on-site"), body: map[string]any{"colour": "red"}, status: 422, rejected: true, field: "colour"},
		{name: "step malformed", as: "pcn", method: "POST", path: at(alarm, "on-site"), body: `{"note": `, status: 422, rejected: true},
		{name: "step without CSRF", as: "pcn", csrf: "omit", method: "POST", path: at(alarm, "on-site"), status: 403, rejected: true, field: "X-CSRF-Token"},
		{name: "step on no alarm", as: "pcn", method: "POST", path: at(999999, "acknowledge"), status: 404},
		{name: "on site", as: "pcn", method: "POST", path: at(alarm, "on-site"), body: map[string]any{"note": "ГБР на месте, посторонний задержан"}, status: 200, check: stateIs("on_site")},
		{name: "resolve by the guard", as: "guard", method: "POST", path: at(alarm, "resolve"), body: map[string]any{"resolution": "real"}, status: 403},
		{name: "resolve unknown resolution", as: "pcn", method: "POST", path: at(alarm, "resolve"), body: map[string]any{"resolution": "maybe"}, status: 422, rejected: true, field: "resolution"},
		{name: "resolve notes too long", as: "pcn", method: "POST", path: at(alarm, "resolve"), body: map[string]any{"resolution": "real", "notes": strings.Repeat("н", 2001)},
			status: 422, rejected: true, field: "notes"},
		{name: "resolve", as: "pcn", method: "POST", path: at(alarm, "resolve"), body: map[string]any{"resolution": "real", "notes": "посторонний передан полиции"}, status: 200,
			check: func(t *testing.T, r result) {
				stepsAre("pcn acknowledged", "school acknowledged", "pcn dispatched", "pcn on_site", "pcn resolved")(t, r)
				if m := r.json(t); m["state"] != "resolved" || m["resolution"] != "real" || m["resolved_at"] == nil {
					t.Errorf("resolved: %s", r.body)
				}
			}},
		{name: "resolve again", as: "pcn", method: "POST", path: at(alarm, "resolve"), body: map[string]any{"resolution": "real"}, status: 409},
		{name: "acknowledge a resolved alarm", as: "cou", method: "POST", path: at(alarm, "acknowledge"), status: 409},
		{name: "open alarms leave it out", as: "guard", method: "GET", path: "/api/v1/alarms", status: 200, check: hasItems(0, func(t *testing.T, a map[string]any) {
			if num(a["id"]) == alarm {
				t.Errorf("a resolved alarm among the open ones")
			}
		})},
		{name: "resolved alarm with all", as: "guard", method: "GET", path: "/api/v1/alarms?all=true", status: 200, check: func(t *testing.T, r result) {
			if !slices.ContainsFunc(r.items(t), func(a map[string]any) bool { return num(a["id"]) == alarm }) {
				t.Errorf("all=true leaves out the resolved alarm")
			}
		}},

		// a silent alarm does not exist for the school
		{name: "acknowledge a silent alarm as guard", as: "guard", method: "POST", path: at(hidden, "acknowledge"), status: 404},
		{name: "resolve a silent alarm as director", as: "director", method: "POST", path: at(hidden, "resolve"), body: map[string]any{"resolution": "false"}, status: 404},
		{name: "acknowledge a silent alarm as cou", as: "cou", method: "POST", path: at(hidden, "acknowledge"), status: 200, check: stepsAre("cou acknowledged")},

		// the device webhook, with the device's real credential
		{name: "device event", bearer: "device1", method: "POST", path: "/api/v1/device/events",
			body: map[string]any{"event_id": "cam-1-0001", "type": "panic", "zone": "2", "at": "2026-02-02T08:15:00+05:00"}, status: 202, check: fieldIs("status", "stored")},
		{name: "device event repeated", bearer: "device1", method: "POST", path: "/api/v1/device/events",
			body: map[string]any{"event_id": "cam-1-0001", "type": "panic", "zone": "2", "at": "2026-02-02T08:15:00+05:00"}, status: 202},
		{name: "device test event", bearer: "device1", method: "POST", path: "/api/v1/device/events", body: map[string]any{"event_id": "cam-1-0002", "type": "test"}, status: 202},
		{name: "device event unknown type", bearer: "device1", method: "POST", path: "/api/v1/device/events", body: map[string]any{"event_id": "cam-1-0003", "type": "explosion"},
			status: 422, rejected: true, field: "type"},
		{name: "device event without event_id", bearer: "device1", method: "POST", path: "/api/v1/device/events", body: map[string]any{"type": "fire"},
			status: 422, rejected: true, field: "event_id"},
		{name: "device event bad time", bearer: "device1", method: "POST", path: "/api/v1/device/events", body: map[string]any{"event_id": "cam-1-0004", "type": "fire", "at": "yesterday"},
			status: 422, rejected: true, field: "at"},
		{name: "device event unknown field", bearer: "device1", method: "POST", path: "/api/v1/device/events", body: map[string]any{"event_id": "cam-1-0005", "type": "fire", "rssi": -70},
			status: 422, rejected: true, field: "rssi"},
		{name: "device event over 1 MiB", bearer: "device1", method: "POST", path: "/api/v1/device/events",
			body: `{"event_id":"cam-1-0006","type":"fire"}` + strings.Repeat(" ", web.MaxBody+10), status: 413},
		{name: "device event with a person's token", bearer: "admin", method: "POST", path: "/api/v1/device/events", body: map[string]any{"event_id": "cam-1-0007", "type": "fire"},
			status: 401, field: "Authorization"},
		{name: "device event with a session", as: "guard", method: "POST", path: "/api/v1/device/events", body: map[string]any{"event_id": "cam-1-0007", "type": "fire"},
			status: 401, rejected: true, field: "Authorization"},
		{name: "device event unknown credential", header: map[string]string{"Authorization": "Bearer qd_not-a-device"}, method: "POST", path: "/api/v1/device/events",
			body: map[string]any{"event_id": "cam-1-0007", "type": "fire"}, status: 401, field: "Authorization"},
	})
	fromDevice := h.findAlarms(t, "guard", func(a map[string]any) bool { return num(a["device_id"]) == k.device1 })
	if len(fromDevice) != 1 || fromDevice[0]["type"] != "panic" || fromDevice[0]["zone"] != "2" {
		t.Fatalf("the device's alarms, after a repeated panic and a test: %v", fromDevice)
	}
	device := num(fromDevice[0]["id"])

	h.runIn(t, []scenario{
		{name: "on site before dispatch", as: "cou", method: "POST", path: at(device, "on-site"), status: 409},
		{name: "acknowledge the device alarm", as: "cou", method: "POST", path: at(device, "acknowledge"), status: 200, check: stateIs("acknowledged")},
		{name: "dispatch a patrol", as: "cou", method: "POST", path: at(device, "dispatch"), body: map[string]any{"responder": "Патруль 12"}, status: 200, check: stateIs("dispatched")},
		{name: "on site by the guard", as: "guard", method: "POST", path: at(device, "on-site"), body: map[string]any{"note": "патруль у ворот"}, status: 200, check: stateIs("on_site")},
		{name: "resolve by the director", as: "director", method: "POST", path: at(device, "resolve"), body: map[string]any{"resolution": "false", "notes": "кнопку нажал ребёнок"},
			status: 200, check: stepsAre("cou acknowledged", "cou dispatched", "school on_site", "school resolved")},

		// scorecards
		{name: "scorecards", as: "pcn", method: "GET", path: "/api/v1/alarms/stats", status: 200, check: func(t *testing.T, r result) {
			var pcn map[string]any
			for _, c := range r.items(t) {
				if c["party"] == "pcn" && num(c["id"]) == k.provider1 {
					pcn = c
				}
			}
			if pcn == nil || num(pcn["alarms"]) < 3 || num(pcn["acknowledged"]) != 1 || num(pcn["within_30s"]) != 1 {
				t.Errorf("the ПЦН's scorecard: %v (of %s)", pcn, r.body)
			}
		}},
		{name: "scorecards of a period", as: "analyst", method: "GET", path: "/api/v1/alarms/stats?from=2020-01-01T00:00:00Z&to=2099-01-01T00:00:00Z", status: 200, check: hasItems(2, nil)},
		{name: "scorecards of an empty period", as: "admin", method: "GET", path: "/api/v1/alarms/stats?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z", status: 200,
			check: func(t *testing.T, r result) {
				if n := len(r.items(t)); n != 0 {
					t.Errorf("%d scorecards for 2020", n)
				}
			}},
		{name: "scorecards of the school", as: "director", method: "GET", path: "/api/v1/alarms/stats", status: 200, check: hasItems(1, nil)},
		{name: "scorecards as a parent", as: "parent", method: "GET", path: "/api/v1/alarms/stats", status: 403},
		{name: "scorecards bad from", as: "admin", method: "GET", path: "/api/v1/alarms/stats?from=yesterday", status: 422, rejected: true, field: "from"},
		{name: "scorecards local to", as: "admin", method: "GET", path: "/api/v1/alarms/stats?to=01.02.2026", status: 422, rejected: true, field: "to"},
	})
}

// sse is an open live stream.
type sse struct {
	lines  chan string
	cancel context.CancelFunc
	done   chan struct{}
}

// liveEvent is one event of the stream.
type liveEvent struct {
	ID, Event string
	Data      map[string]any
}

// stream opens the scenario's request as an event stream: the request, and
// the answer's status and headers, are validated against the document; the
// body is then read event by event.
func (h *harness) stream(t *testing.T, sc scenario) *sse {
	t.Helper()
	ctx := context.Background()
	reqIn, err := h.validateRequest(t, sc)
	route := reqIn.Route
	if err != nil {
		t.Errorf("the document rejects this request: %v", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	resp, err := h.live.Client().Do(h.request(t, sc).WithContext(sctx))
	if err != nil {
		cancel()
		t.Fatalf("%s %s: %v", sc.method, sc.path, err)
	}
	h.hit[route.Method+" "+route.Path+" "+strconv.Itoa(resp.StatusCode)] = true
	respIn := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(strings.NewReader("")), Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: true}}
	if err := openapi3filter.ValidateResponse(ctx, respIn); err != nil {
		t.Errorf("the response does not match the document: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		cancel()
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{lines: make(chan string), cancel: cancel, done: make(chan struct{})}
	// The server waits for open streams when it closes: close this one when
	// the test ends, however it ends.
	t.Cleanup(s.close)
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			select {
			case s.lines <- strings.TrimSuffix(l, "\n"):
			case <-sctx.Done():
				return
			}
		}
	}()
	pre := s.block(t, 10*time.Second)
	if len(pre) != 2 || pre[0] != "retry: 2000" || !strings.HasPrefix(pre[1], ": qorgan live, after ") {
		t.Fatalf("the stream opens with %q", pre)
	}
	return s
}

// close ends the stream; closing again does nothing.
func (s *sse) close() {
	s.cancel()
	<-s.done
}

// block reads the lines up to the next blank one.
func (s *sse) block(t *testing.T, timeout time.Duration) []string {
	t.Helper()
	var out []string
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("the stream ended after %q", out)
			}
			if l == "" {
				return out
			}
			out = append(out, l)
		case <-deadline:
			t.Fatalf("no complete block within %s (got %q)", timeout, out)
		}
	}
}

// event reads the next event, skipping comments, and checks its data against
// the document's LiveEvent and its id and event against the data.
func (s *sse) event(t *testing.T, doc *openapi3.T) liveEvent {
	t.Helper()
	for {
		var ev liveEvent
		var data string
		for _, l := range s.block(t, 10*time.Second) {
			switch {
			case strings.HasPrefix(l, ":"):
			case strings.HasPrefix(l, "id: "):
				ev.ID = strings.TrimPrefix(l, "id: ")
			case strings.HasPrefix(l, "event: "):
				ev.Event = strings.TrimPrefix(l, "event: ")
			case strings.HasPrefix(l, "data: "):
				data += strings.TrimPrefix(l, "data: ")
			default:
				t.Errorf("unexpected line %q", l)
			}
		}
		if data == "" {
			continue // a ping
		}
		var v any
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("data is not JSON: %v\n%s", err, data)
		}
		if err := doc.Components.Schemas["LiveEvent"].Value.VisitJSON(v); err != nil {
			t.Errorf("data does not match LiveEvent: %s\n%s", clip([]byte(err.Error())), clip([]byte(data)))
		}
		ev.Data, _ = v.(map[string]any)
		if ev.ID != fmt.Sprint(num(ev.Data["seq"])) || ev.Event != ev.Data["kind"] {
			t.Errorf("id %q and event %q, data seq %v and kind %v", ev.ID, ev.Event, ev.Data["seq"], ev.Data["kind"])
		}
		return ev
	}
}

func (ev liveEvent) alarm() map[string]any {
	a, _ := ev.Data["alarm"].(map[string]any)
	return a
}

func liveScenarios(t *testing.T, h *harness, k known) {
	h.runIn(t, []scenario{
		{name: "live as a parent", as: "parent", method: "GET", path: "/api/v1/live", status: 403},
		{name: "live as the analyst", as: "analyst", method: "GET", path: "/api/v1/live", status: 403},
		{name: "live bad Last-Event-ID", as: "pcn", method: "GET", path: "/api/v1/live", header: map[string]string{"Last-Event-ID": "last"}, status: 422, rejected: true, field: "Last-Event-ID"},
		{name: "live negative after", as: "pcn", method: "GET", path: "/api/v1/live?after=-1", status: 422, rejected: true, field: "Last-Event-ID"},
	})

	// The whole history, from the first event.
	history := h.stream(t, scenario{name: "live from the start", as: "admin", method: "GET", path: "/api/v1/live?after=0"})
	first := history.event(t, k.doc)
	history.close()
	if first.ID != "1" || first.Event != "alarm.raised" {
		t.Errorf("the history starts with %s %s", first.ID, first.Event)
	}

	// Consoles that connect now get what happens next: a silent panic goes to
	// the ПЦН and not to the guard, whose next event is the device's panic.
	guard := h.stream(t, scenario{name: "live as guard", as: "guard", method: "GET", path: "/api/v1/live"})
	pcn := h.stream(t, scenario{name: "live as pcn", as: "pcn", method: "GET", path: "/api/v1/live"})
	h.run(t, scenario{name: "silent panic", as: "guard", method: "POST", path: "/api/v1/schools/1/panic", body: map[string]any{"request_id": "press-live", "silent": true}, status: 202})
	h.run(t, scenario{name: "device panic", bearer: "device1", method: "POST", path: "/api/v1/device/events", body: map[string]any{"event_id": "cam-1-live", "type": "panic"}, status: 202})

	silent := pcn.event(t, k.doc)
	if silent.Event != "alarm.raised" || silent.alarm()["silent"] != true || silent.alarm()["type"] != "silent_panic" {
		t.Fatalf("the ПЦН's first event: %v", silent)
	}
	loud := guard.event(t, k.doc)
	if loud.Event != "alarm.raised" || loud.alarm()["silent"] != false || num(loud.alarm()["device_id"]) != k.device1 {
		t.Fatalf("the guard's first event: %v (the silent panic was %s)", loud, silent.ID)
	}
	if next := pcn.event(t, k.doc); next.ID != loud.ID {
		t.Errorf("the ПЦН's second event is %s, the guard's first %s", next.ID, loud.ID)
	}

	// A reconnecting console resumes after the last event it saw.
	again := h.stream(t, scenario{name: "live resumed", as: "pcn", method: "GET", path: "/api/v1/live", header: map[string]string{"Last-Event-ID": silent.ID}})
	resumed := again.event(t, k.doc)
	again.close()
	if resumed.ID != loud.ID {
		t.Errorf("resumed after %s with %s, want %s", silent.ID, resumed.ID, loud.ID)
	}

	// A step shows up at once, and the alarm's first delivery is on record.
	id := num(loud.Data["alarm_id"])
	h.run(t, scenario{name: "acknowledge", as: "guard", method: "POST", path: fmt.Sprintf("/api/v1/alarms/%d/acknowledge", id), status: 200})
	if ack := guard.event(t, k.doc); ack.Event != "alarm.acknowledged" || num(ack.Data["alarm_id"]) != id || ack.alarm()["state"] != "acknowledged" {
		t.Errorf("after acknowledging: %v", ack)
	}
	h.run(t, scenario{name: "delivered", as: "guard", method: "GET", path: fmt.Sprintf("/api/v1/alarms/%d", id), status: 200, check: func(t *testing.T, r result) {
		if r.json(t)["first_delivery_at"] == nil {
			t.Errorf("the stream carried alarm %d but its first delivery is not on record", id)
		}
	}})
}
