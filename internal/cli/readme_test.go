package cli_test

import (
	"os"
	"strings"
	"testing"

	"qorgan/internal/cli"
	"qorgan/internal/config"
)

// readmeRow is one row of the README's configuration table.
type readmeRow struct {
	flag, env, def, secret, meaning string
}

// configurationTable reads the table in the README's section
// "## Configuration": | flag | env | default | secret | meaning |.
func configurationTable(t *testing.T) map[string]readmeRow {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n## Configuration\n")
	if !ok {
		t.Fatal("the README has no section Configuration")
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	rows := map[string]readmeRow{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `--") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 5 {
			t.Errorf("a configuration row has %d cells, not 5 (flag, env, default, secret, meaning): %s", len(cells), line)
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		r := readmeRow{flag: strings.Trim(cells[0], "`"), env: strings.Trim(cells[1], "`"), def: cells[2], secret: cells[3], meaning: cells[4]}
		if strings.ContainsAny(r.flag, ", ") {
			t.Errorf("a configuration row names more than one flag (one a row, so that each has its variable and default): %s", line)
		}
		if _, dup := rows[r.flag]; dup {
			t.Errorf("the configuration table has two rows for %s", r.flag)
		}
		rows[r.flag] = r
	}
	if len(rows) == 0 {
		t.Fatal("the configuration table has no rows")
	}
	return rows
}

// TestREADMEConfigurationTable: the README's configuration table and the
// options tables agree. Every option of the server (serve and demo) has a
// row with its variable, its default and whether it is secret; every row
// names an option of some command; every secret option of any command is
// in the table, marked secret.
func TestREADMEConfigurationTable(t *testing.T) {
	rows := configurationTable(t)
	type seen struct {
		secret   bool
		commands []string
	}
	all := map[string]*seen{}
	for _, c := range cli.Commands() {
		for _, o := range c.Options {
			flag := "--" + o.Name
			s := all[flag]
			if s == nil {
				s = &seen{}
				all[flag] = s
			}
			s.secret = s.secret || o.IsSecret()
			s.commands = append(s.commands, c.Name)
			server := c.Name == "serve" || c.Name == "demo"
			r, ok := rows[flag]
			if !ok {
				if server {
					t.Errorf("the README's configuration table has no row for %s (%s)", flag, c.Name)
				} else if o.IsSecret() {
					t.Errorf("the README's configuration table has no row for the secret %s (%s)", flag, c.Name)
				}
				continue
			}
			if r.env != o.Env() {
				t.Errorf("the README names %s's variable %q, not %s", flag, r.env, o.Env())
			}
			if server {
				checkDefault(t, c.Name, o, r)
			}
		}
	}
	for flag, r := range rows {
		s, ok := all[flag]
		if !ok {
			t.Errorf("the README's configuration table has a row for %s, which no command has", flag)
			continue
		}
		if want := map[bool]string{true: "yes", false: ""}[s.secret]; r.secret != want {
			t.Errorf("the README says %s is secret %q; the options table says %q (%v)", flag, r.secret, want, s.commands)
		}
	}
}

// checkDefault: the row's default shows the option's (in code quotes), or
// the words for a computed one, or "empty" for none.
func checkDefault(t *testing.T, command string, o *config.Option, r readmeRow) {
	t.Helper()
	switch {
	case o.About != "":
		if !strings.Contains(r.def, o.About) {
			t.Errorf("the README's default of --%s is %q; %s's is %q", o.Name, r.def, command, o.About)
		}
	case o.Default == "":
		if r.def != "empty" {
			t.Errorf("the README's default of --%s is %q; %s has none (write empty)", o.Name, r.def, command)
		}
	default:
		if !strings.Contains(r.def, "`"+o.Default+"`") {
			t.Errorf("the README's default of --%s is %q; %s's is `%s`", o.Name, r.def, command, o.Default)
		}
	}
}
