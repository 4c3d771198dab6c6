package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeSection returns the README's section under a "## " heading.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("the README has no section %q", heading)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	return section
}

// codeBlocks returns a section's indented code blocks, each a list of
// commands, lines continued with a backslash joined.
func codeBlocks(section string) [][]string {
	var blocks [][]string
	var cur []string
	pending := ""
	for _, line := range strings.Split(section, "\n") {
		code, ok := strings.CutPrefix(line, "    ")
		if !ok {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
			}
			cur, pending = nil, ""
			continue
		}
		code = strings.TrimSpace(code)
		if more, ok := strings.CutSuffix(code, "\\"); ok {
			pending += more + " "
			continue
		}
		cur = append(cur, pending+code)
		pending = ""
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

// shellWords splits a command as a POSIX shell would for the README's
// simple commands: quotes and a trailing # comment.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '#' && !in:
			return words
		case r == ' ' || r == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// TestREADMELiveFeedExample runs the Alarms section's example against the
// demo as written: each curl with the cookie jar it names, the simulator
// with its flags (and the demo's DC-09 port). The feed the example follows
// must be signed in, in the example itself, as one of the people an alarm
// goes to (pcn, cou or guard), and show every alarm the example sends.
func TestREADMELiveFeedExample(t *testing.T) {
	section := readmeSection(t, "Alarms")
	var example []string
	for _, b := range codeBlocks(section) {
		for _, c := range b {
			if strings.Contains(c, "simulate panel") || strings.Contains(c, "/api/v1/live") || strings.Contains(c, "/api/v1/session") {
				example = append(example, c)
			}
		}
	}
	if len(example) < 3 {
		t.Fatalf("the Alarms section has no live-feed example: %q", example)
	}

	s := startDemo(t, filepath.Join(t.TempDir(), "demo.db"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jars := map[string]*cookiejar.Jar{}
	signedIn := map[string]string{} // jar → login
	var feeds []*stream
	var feedLogins []string
	frames := map[string]int{} // code → frames the example sends
	for _, c := range example {
		w := shellWords(t, c)
		var writeJar, readJar, body, url string
		for i := 0; i < len(w); i++ {
			switch w[i] {
			case "-c":
				i++
				writeJar = w[i]
			case "-b":
				i++
				readJar = w[i]
			case "-d":
				i++
				body = w[i]
			}
			if strings.HasPrefix(w[i], "http://127.0.0.1:8080") {
				url = strings.TrimPrefix(w[i], "http://127.0.0.1:8080")
			}
		}
		switch {
		case w[0] == "curl" && strings.HasPrefix(url, "/api/v1/session"):
			var cred struct{ Login, Password string }
			if err := json.Unmarshal([]byte(body), &cred); err != nil || writeJar == "" {
				t.Fatalf("sign-in %q: body %v, jar %q", c, err, writeJar)
			}
			jar, _ := cookiejar.New(nil)
			cl := &client{t: t, base: s.base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
			if st := cl.do("POST", url, map[string]string{"login": cred.Login, "password": cred.Password}, nil); st != 200 {
				t.Fatalf("%q: %d", c, st)
			}
			jars[writeJar], signedIn[writeJar] = jar, cred.Login
		case w[0] == "curl" && strings.HasPrefix(url, "/api/v1/live"):
			jar, ok := jars[readJar]
			if !ok {
				t.Fatalf("%q reads the cookie jar %q, which no sign-in in the example wrote", c, readJar)
			}
			cl := &client{t: t, base: s.base, http: &http.Client{Jar: jar}}
			feeds = append(feeds, cl.streamAt(t, ctx, url))
			feedLogins = append(feedLogins, signedIn[readJar])
		case strings.Contains(c, "simulate panel"):
			_, args, _ := strings.Cut(c, "simulate panel")
			argv := append([]string{"simulate", "panel", "--dc09-addr", s.dc09}, shellWords(t, args)...)
			out, err := qorgan(t, "", argv...)
			if err != nil {
				t.Fatalf("%q: %v\n%s", c, err, out)
			}
			var code string
			var count int
			aw := shellWords(t, args)
			for i := 0; i+1 < len(aw); i++ {
				switch aw[i] {
				case "--codes":
					code = strings.Fields(aw[i+1])[0]
				case "--count":
					json.Unmarshal([]byte(aw[i+1]), &count)
				}
			}
			frames[code] += count
		}
	}
	if len(feeds) == 0 {
		t.Fatal("the example follows no live feed")
	}
	for i, login := range feedLogins {
		// The alarm goes to the ПЦН, the ЦОУ and the school's duty staff;
		// the example shows one of their feeds, not a director's.
		if login != "pcn" && login != "cou" && login != "guard" {
			t.Errorf("the example's feed is signed in as %q, not as pcn, cou or guard", login)
		}
		deadline := time.Now().Add(15 * time.Second)
		for code, n := range frames {
			for feeds[i].count(code) < n {
				if time.Now().After(deadline) {
					t.Fatalf("the feed of %s shows %s×%d; the example sent %d", login, code, feeds[i].count(code), n)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
}

// TestREADMEConfigurationTableNamesTheSimulator: every flag of `qorgan
// simulate panel` that the README's configuration table lists is said there
// to be the simulator's too, and its target is among them: a reader who
// exports the variables as the table has them sends DC-09 where the server
// receives it.
func TestREADMEConfigurationTableNamesTheSimulator(t *testing.T) {
	out, _ := qorgan(t, "", "simulate", "panel", "--help")
	flags := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "--"); ok {
			flags["--"+strings.Fields(f)[0]] = true
		}
	}
	if len(flags) < 5 {
		t.Fatalf("simulate panel --help lists %d flags:\n%s", len(flags), out)
	}
	table := readmeSection(t, "Configuration")
	inTable := 0
	for _, row := range strings.Split(table, "\n") {
		if !strings.HasPrefix(row, "| `--") {
			continue
		}
		first := strings.Split(row, "|")[1]
		for _, f := range strings.Split(first, ",") {
			f = strings.Trim(strings.TrimSpace(f), "`")
			if !flags[f] {
				continue
			}
			inTable++
			if !strings.Contains(row, "simulate panel") {
				t.Errorf("the configuration table's row for %s does not say that `qorgan simulate panel` reads it too: %s", f, row)
			}
		}
	}
	if inTable == 0 {
		t.Errorf("the configuration table has no row for the simulator's target (its flags: %v)", flags)
	}
}
