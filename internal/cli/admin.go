package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"qorgan/internal/auth"
	"qorgan/internal/config"
	"qorgan/internal/store"
)

const userAbout = "Manage people. Subcommands: add, list, set-password, grant, disable, enable.\n" +
	"  qorgan user add --login L --role R --scope KIND[:REF] [--name N]   (password from --password or stdin)\n" +
	"  qorgan user list\n  qorgan user set-password --login L\n  qorgan user grant --login L --role R --scope KIND[:REF]\n" +
	"  qorgan user disable --login L   (sessions end, API tokens revoked)\n  qorgan user enable --login L\n" +
	"Roles: sysadmin, ministry_analyst, education_department, school_director, school_guard, pcn_operator, cou_operator, guardian.\n" +
	"Scopes: installation, nation, region:KATO, district:KATO, school:ID, provider:ID, police_unit:ID, guardian:ID."

func adminCommands() []entry {
	list := []entry{
		{"migrate", "apply database migrations and print the schema version",
			"Apply pending migrations (they also run at every start) and print the schema version.\nA database newer than this binary is refused.",
			func() command { return &migrateCmd{} }},
		{"audit verify", "walk the audit trail and report the first entry changed, removed or inserted",
			"Walk the hash-chained audit trail and report the first entry that was changed,\nremoved or inserted. Exits non-zero when the chain is broken.",
			func() command { return &auditCmd{} }},
	}
	for _, s := range []struct{ sub, summary string }{
		{"add", "add a person with a role in a scope"},
		{"list", "list the people"},
		{"set-password", "set a person's password (their sessions end)"},
		{"grant", "give a person another role or scope"},
		{"disable", "stop a person signing in (sessions end, API tokens revoked)"},
		{"enable", "let a disabled person sign in again"},
	} {
		list = append(list, entry{"user " + s.sub, s.summary, userAbout, func() command { return &userCmd{sub: s.sub} }})
	}
	return list
}

type migrateCmd struct {
	db    config.DB
	print string
}

func (c *migrateCmd) options() []*config.Option {
	return append(c.db.Options("qorgan.db"),
		config.String(&c.print, "print", "", "print the migration SQL for a dialect (sqlite or postgres) instead of migrating").Check(func() error {
			if c.print != "" && c.print != string(store.SQLite) && c.print != string(store.Postgres) {
				return fmt.Errorf("must be sqlite or postgres, not %q", c.print)
			}
			return nil
		}))
}

func (c *migrateCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	if c.print != "" {
		s, err := store.MigrationSQL(store.Dialect(c.print))
		if err != nil {
			return err
		}
		fmt.Fprint(out, s)
		return nil
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	cur, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: schema version %d (this binary knows up to %d)\n", c.db.Describe(), cur, known)
	return nil
}

type auditCmd struct {
	db     config.DB
	asJSON bool
}

func (c *auditCmd) options() []*config.Option {
	return append(c.db.Options("qorgan.db"), config.Bool(&c.asJSON, "json", false, "print the report as JSON"))
}

func (c *auditCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := auth.New(db).VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if c.asJSON {
		json.NewEncoder(out).Encode(rep)
	} else if rep.OK {
		fmt.Fprintf(out, "audit trail intact: %d entries, head %s\n", rep.Entries, rep.Head)
	}
	if !rep.OK {
		if !c.asJSON {
			fmt.Fprintf(out, "audit trail BROKEN at entry %d: %s (%d entries)\n", rep.BrokenAt, rep.Problem, rep.Entries)
		}
		return fmt.Errorf("audit trail broken at entry %d", rep.BrokenAt)
	}
	return nil
}

// parseScope reads "kind[:ref]", e.g. "school:12", "region:610000000", "nation".
func parseScope(s string) auth.Scope {
	kind, ref, _ := strings.Cut(s, ":")
	return auth.Scope{Kind: auth.ScopeKind(kind), Ref: ref}
}

// readPassword takes the password from the flag, or else the first line of stdin.
func readPassword(flagValue string, in io.Reader) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password: give --password (or QORGAN_PASSWORD) or write it on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

type userCmd struct {
	sub                                string
	db                                 config.DB
	login, name, password, role, scope string
}

func (c *userCmd) options() []*config.Option {
	return append(c.db.Options("qorgan.db"),
		config.String(&c.login, "login", "", "login").Check(func() error {
			if c.sub != "list" && c.login == "" {
				return errors.New("is required")
			}
			return nil
		}),
		config.String(&c.name, "name", "", "full name"),
		config.String(&c.password, "password", "", "password (at least 10 characters); read from stdin when empty").Secret(),
		config.String(&c.role, "role", "", "role"),
		config.String(&c.scope, "scope", "", "scope as KIND[:REF]"),
	)
}

func (c *userCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	a := auth.New(db)
	login, role, scope := c.login, c.role, c.scope
	switch c.sub {
	case "add":
		pw, err := readPassword(c.password, stdin)
		if err != nil {
			return err
		}
		u, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: login, FullName: c.name, Password: pw, Role: auth.Role(role), Scope: parseScope(scope)})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "added %s (id %d) as %s in %s %s\n", u.Login, u.ID, u.Role, u.Scope.Kind, u.Scope.Ref)
	case "list":
		us, err := a.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLOGIN\tROLE\tSCOPE\tNAME\tSTATE")
		for _, u := range us {
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s %s\t%s\t%s\n", u.ID, u.Login, u.Role, u.Scope.Kind, u.Scope.Ref, u.FullName, state)
		}
		tw.Flush()
	case "set-password":
		pw, err := readPassword(c.password, stdin)
		if err != nil {
			return err
		}
		if err := a.SetPassword(ctx, auth.System, login, pw); err != nil {
			return err
		}
		fmt.Fprintf(out, "password of %s changed; their sessions are ended\n", login)
	case "grant":
		if err := a.Grant(ctx, auth.System, login, auth.Role(role), parseScope(scope)); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s is now %s in %s\n", login, role, scope)
	case "disable", "enable":
		if err := a.SetDisabled(ctx, auth.System, login, c.sub == "disable"); err != nil {
			return err
		}
		if c.sub == "disable" {
			fmt.Fprintf(out, "%s is disabled; their sessions are ended and their API tokens revoked\n", login)
		} else {
			fmt.Fprintf(out, "%s can sign in again\n", login)
		}
	}
	return nil
}
