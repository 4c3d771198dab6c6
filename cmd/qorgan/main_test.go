package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the qorgan command built once for these tests: they run the real
// program, as an operator would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "qorgan-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "qorgan")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build qorgan:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanEnv drops QORGAN_* variables so that the tests' flags decide.
func cleanEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "QORGAN_") {
			env = append(env, e)
		}
	}
	return env
}

// qorgan runs a short command and returns its output.
func qorgan(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// server is a running `qorgan demo`.
type server struct {
	cmd  *exec.Cmd
	base string
	dc09 string // the DC-09 receiver's address
	out  *bytes.Buffer
}

func startDemo(t *testing.T, dbPath string, extra ...string) *server {
	t.Helper()
	args := append([]string{"demo", "--addr", "127.0.0.1:0", "--dc09-addr", "127.0.0.1:0", "--db", dbPath, "--scale", "0.002", "--log-level", "warn"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, out: &bytes.Buffer{}}
	found := make(chan string, 1)
	dc09 := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.out.WriteString(line + "\n")
			if _, addr, ok := strings.Cut(line, "listening on "); ok {
				found <- addr
			}
			if _, rest, ok := strings.Cut(line, "DC-09 receiver on "); ok {
				dc09 <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case s.dc09 = <-dc09:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("demo did not start its DC-09 receiver; stderr:\n%s", errBuf.String())
	}
	select {
	case s.base = <-found:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("demo did not start; stderr:\n%s", errBuf.String())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return s
}

// client is one signed-in person.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func signIn(t *testing.T, base, login, password string) (*client, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	var resp struct {
		CSRF string `json:"csrf_token"`
	}
	status := c.do("POST", "/api/v1/session", map[string]string{"login": login, "password": password}, &resp)
	c.csrf = resp.CSRF
	return c, status
}

func (c *client) do(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

type pupil struct {
	ID        int64 `json:"id"`
	SchoolID  int64 `json:"school_id"`
	Guardians []struct {
		ID int64 `json:"id"`
	} `json:"guardians"`
}

func TestDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	s := startDemo(t, db)
	const pw = "qorgan-demo-2026"

	roles := map[string]string{"admin": "sysadmin", "analyst": "ministry_analyst", "region": "education_department", "district": "education_department",
		"director": "school_director", "guard": "school_guard", "guard2": "school_guard", "pcn": "pcn_operator", "cou": "cou_operator", "parent": "guardian"}
	clients := map[string]*client{}
	// The demo holds no passes; its output says how to play a morning
	// (TestMorningPeak runs that command against the demo).
	if !strings.Contains(s.out.String(), "go run ./cmd/qorgan simulate morning --server <the address below> --speed 120") {
		t.Errorf("demo output does not say how to play a morning:\n%s", s.out.String())
	}
	for login, role := range roles {
		if !strings.Contains(s.out.String(), login) {
			t.Errorf("demo output does not list the login %s", login)
		}
		c, status := signIn(t, s.base, login, pw)
		if status != http.StatusOK {
			t.Fatalf("sign-in %s: %d", login, status)
		}
		var me struct {
			Role string `json:"role"`
		}
		if st := c.do("GET", "/api/v1/me", nil, &me); st != 200 || me.Role != role {
			t.Errorf("%s: /me %d role %q, want %q", login, st, me.Role, role)
		}
		clients[login] = c
	}
	if _, st := signIn(t, s.base, "admin", "wrong-password"); st != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", st)
	}

	var regions struct {
		Items []struct {
			Code   string `json:"code"`
			NameKK string `json:"name_kk"`
		} `json:"items"`
	}
	if st := clients["analyst"].do("GET", "/api/v1/regions", nil, &regions); st != 200 || len(regions.Items) != 20 {
		t.Fatalf("regions: %d, %d items", st, len(regions.Items))
	}

	// A school's director sees its pupils and nothing of another school's.
	var own struct {
		Items []pupil `json:"items"`
	}
	if st := clients["director"].do("GET", "/api/v1/schools/1/pupils?limit=5", nil, &own); st != 200 || len(own.Items) != 5 {
		t.Fatalf("own pupils: %d, %d items", st, len(own.Items))
	}
	var other struct {
		Items []pupil `json:"items"`
	}
	if st := clients["admin"].do("GET", "/api/v1/schools/2/pupils?limit=1", nil, &other); st != 200 || len(other.Items) != 1 {
		t.Fatalf("admin reading school 2: %d", st)
	}
	for _, path := range []string{"/api/v1/schools/2/pupils", "/api/v1/schools/2", fmt.Sprintf("/api/v1/pupils/%d", other.Items[0].ID)} {
		var p struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		}
		if st := clients["director"].do("GET", path, nil, &p); st != http.StatusNotFound || p.Code != "not_found" {
			t.Errorf("director GET %s: %d %+v, want 404", path, st, p)
		}
	}

	// A guardian sees their own children only.
	var kids struct {
		Items []pupil `json:"items"`
	}
	var me struct {
		Scope struct {
			Ref string `json:"ref"`
		} `json:"scope"`
	}
	clients["parent"].do("GET", "/api/v1/me", nil, &me)
	if st := clients["parent"].do("GET", "/api/v1/children", nil, &kids); st != 200 || len(kids.Items) == 0 {
		t.Fatalf("children: %d %+v", st, kids)
	}
	for _, k := range kids.Items {
		mine := false
		for _, g := range k.Guardians {
			mine = mine || fmt.Sprint(g.ID) == me.Scope.Ref
		}
		if !mine {
			t.Errorf("guardian %s sees pupil %d who is not theirs", me.Scope.Ref, k.ID)
		}
	}
	if st := clients["parent"].do("GET", fmt.Sprintf("/api/v1/pupils/%d", other.Items[0].ID), nil, nil); st != http.StatusNotFound {
		t.Errorf("guardian reading another child: %d", st)
	}
	if st := clients["parent"].do("GET", "/api/v1/schools", nil, nil); st != http.StatusForbidden {
		t.Errorf("guardian listing schools: %d", st)
	}

	// Health, readiness, metrics.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(s.base + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", path, resp, err)
		}
		if path == "/metrics" {
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), "qorgan_http_requests_total") {
				t.Error("metrics lack qorgan_http_requests_total")
			}
		}
		resp.Body.Close()
	}

	// SIGTERM shuts down gracefully, and soon although a console is
	// watching the live stream: the stream is ended, not waited for (the
	// grace period for requests is 10 s).
	live := clients["guard"].stream(t, context.Background())
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit within 5 s of SIGTERM with a live stream open")
	}
	select {
	case <-live.ended:
	case <-time.After(time.Second):
		t.Error("the live stream was not ended by the stop")
	}

	// The audit trail the demo wrote verifies, and people can be managed.
	if out, err := qorgan(t, "", "audit", "verify", "--db", db); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	if out, err := qorgan(t, "a-long-password-1\n", "user", "add", "--db", db, "--login", "duty2", "--role", "school_guard", "--scope", "school:1"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := qorgan(t, "", "user", "add", "--db", db, "--login", "x", "--role", "school_guard", "--scope", "region:1", "--password", "a-long-password-1"); err == nil || !strings.Contains(out, "scope") {
		t.Fatalf("user add with a wrong scope: %v\n%s", err, out)
	}
	if out, err := qorgan(t, "", "user", "list", "--db", db); err != nil || !strings.Contains(out, "duty2") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	// A departed guard's account is disabled, and shown so.
	if out, err := qorgan(t, "", "user", "disable", "--db", db, "--login", "duty2"); err != nil || !strings.Contains(out, "duty2 is disabled") {
		t.Fatalf("user disable: %v\n%s", err, out)
	}
	if out, err := qorgan(t, "", "user", "list", "--db", db); err != nil || !regexp.MustCompile(`duty2 .* disabled`).MatchString(out) {
		t.Fatalf("user list after disable: %v\n%s", err, out)
	}
	if out, err := qorgan(t, "", "user", "enable", "--db", db, "--login", "nobody"); err == nil || !strings.Contains(out, "nobody") {
		t.Fatalf("user enable of no such login: %v\n%s", err, out)
	}
	if out, err := qorgan(t, "", "migrate", "--db", db); err != nil || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	// Export a school's pupils and import the file back: nothing changes.
	csv := filepath.Join(dir, "pupils.csv")
	if out, err := qorgan(t, "", "export", "--db", db, "--kind", "pupils", "--school", "1", "--out", csv, "--as", "director"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	out, err := qorgan(t, "", "import", "--db", db, "--kind", "pupils", "--file", csv, "--quiet", "--as", "director")
	if err != nil || !strings.Contains(out, " 0 created, 0 updated, ") {
		t.Fatalf("re-import of an export: %v\n%s", err, out)
	}
	// A file with a bad row is refused whole, naming the row and the column.
	data, _ := os.ReadFile(csv)
	lines := strings.Split(string(data), "\n")
	cells := strings.Split(lines[2], ",")
	cells[5] = "99Z" // class
	lines[2] = strings.Join(cells, ",")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
	out, err = qorgan(t, "", "import", "--db", db, "--kind", "pupils", "--file", bad, "--quiet")
	if err == nil || !strings.Contains(out, "row 3, column class") || !strings.Contains(out, "nothing written") {
		t.Fatalf("bad file: %v\n%s", err, out)
	}
	// The guard of school 1 may not export another school's pupils.
	if out, err := qorgan(t, "", "export", "--db", db, "--kind", "pupils", "--school", "2", "--as", "guard"); err == nil {
		t.Fatalf("export outside scope succeeded:\n%s", out)
	}
}

func TestCommandLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
		want string
	}{
		{[]string{"--help"}, true, "Commands:"},
		{[]string{"serve", "--help"}, true, "QORGAN_DATABASE_URL"},
		{[]string{"demo", "--help"}, true, "--scale"},
		{[]string{"version"}, true, "qorgan "},
		{[]string{"frobnicate"}, false, "unknown command"},
		{[]string{"serve", "--addr"}, false, "flag needs an argument"},
		{[]string{"serve", "--database-url", "mysql://x"}, false, "postgres://"},
		{[]string{"serve", "--not-arrived-every", "-1m"}, false, "--not-arrived-every"},
		{[]string{"serve", "--message-lease", "500ms"}, false, "--message-lease"},
		{[]string{"serve", "--message-concurrency", "0"}, false, "--message-concurrency"},
		{[]string{"serve", "--keep-passes", "1h"}, false, "--keep-passes"},
		{[]string{"migrate", "--print", "postgres"}, true, "GENERATED BY DEFAULT AS IDENTITY"},
	} {
		out, err := qorgan(t, "", c.args...)
		if (err == nil) != c.ok || !strings.Contains(out, c.want) {
			t.Errorf("qorgan %v: err=%v, output:\n%s\nwant it to contain %q", c.args, err, out, c.want)
		}
	}
	// Secrets are not echoed in help.
	cmd := exec.Command(binary, "serve", "--help")
	cmd.Env = append(cleanEnv(), "QORGAN_DATABASE_URL=postgres://u:s3cret@127.0.0.1:1/x")
	out, _ := cmd.CombinedOutput()
	if strings.Contains(string(out), "s3cret") {
		t.Errorf("help printed the database password:\n%s", out)
	}
}

// TestDemoSyncMode: the demo generates its data quickly but serves with
// the synchronous mode it is given, FULL unless told otherwise, and says
// which one SQLite is running with.
func TestDemoSyncMode(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{nil, "Serving with SQLite synchronous=FULL."},
		{[]string{"--sqlite-sync", "FULL"}, "Serving with SQLite synchronous=FULL."},
		{[]string{"--sqlite-sync", "NORMAL", "--keep"}, "Serving with SQLite synchronous=NORMAL."},
	} {
		s := startDemo(t, filepath.Join(dir, "demo.db"), c.extra...)
		// SIGTERM, and the output is complete once the process has ended.
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
		out := s.out.String()
		if !strings.Contains(out, c.want) {
			t.Errorf("demo %v: output does not say %q:\n%s", c.extra, c.want, out)
		}
	}
}
