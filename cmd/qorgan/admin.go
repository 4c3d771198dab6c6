package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"qorgan/internal/auth"
	"qorgan/internal/store"
)

func runMigrate(ctx context.Context, args []string, out, errOut io.Writer) error {
	var d dbFlags
	var print string
	fs := flagSet("migrate", "Apply pending migrations (they also run at every start) and print the schema version.\nA database newer than this binary is refused.", errOut)
	d.register(fs, "qorgan.db")
	fs.StringVar(&print, "print", "", "print the migration SQL for a dialect (sqlite or postgres) instead of migrating")
	if err := parse(fs, args); err != nil {
		return err
	}
	if print != "" {
		if print != string(store.SQLite) && print != string(store.Postgres) {
			return fmt.Errorf("--print must be sqlite or postgres, not %q", print)
		}
		s, err := store.MigrationSQL(store.Dialect(print))
		if err != nil {
			return err
		}
		fmt.Fprint(out, s)
		return nil
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	cur, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: schema version %d (this binary knows up to %d)\n", d.describe(), cur, known)
	return nil
}

func runAudit(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(errOut, "Usage: qorgan audit verify [flags]")
		return errors.New("audit needs a subcommand: verify")
	}
	var d dbFlags
	var asJSON bool
	fs := flagSet("audit verify", "Walk the hash-chained audit trail and report the first entry that was changed,\nremoved or inserted. Exits non-zero when the chain is broken.", errOut)
	d.register(fs, "qorgan.db")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := auth.New(db).VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		json.NewEncoder(out).Encode(rep)
	} else if rep.OK {
		fmt.Fprintf(out, "audit trail intact: %d entries, head %s\n", rep.Entries, rep.Head)
	}
	if !rep.OK {
		if !asJSON {
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

var stdin io.Reader = os.Stdin

func runUser(ctx context.Context, args []string, out, errOut io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	var d dbFlags
	var login, name, password, role, scope string
	fs := flagSet("user "+sub, "Manage people. Subcommands: add, list, set-password, grant, disable, enable.\n"+
		"  qorgan user add --login L --role R --scope KIND[:REF] [--name N]   (password from --password or stdin)\n"+
		"  qorgan user list\n  qorgan user set-password --login L\n  qorgan user grant --login L --role R --scope KIND[:REF]\n"+
		"  qorgan user disable --login L   (sessions end, API tokens revoked)\n  qorgan user enable --login L\n"+
		"Roles: sysadmin, ministry_analyst, education_department, school_director, school_guard, pcn_operator, cou_operator, guardian.\n"+
		"Scopes: installation, nation, region:KATO, district:KATO, school:ID, provider:ID, police_unit:ID, guardian:ID.", errOut)
	d.register(fs, "qorgan.db")
	fs.StringVar(&login, "login", "", "login")
	fs.StringVar(&name, "name", "", "full name")
	fs.StringVar(&password, "password", "", "password (at least 10 characters); read from stdin when empty")
	fs.StringVar(&role, "role", "", "role")
	fs.StringVar(&scope, "scope", "", "scope as KIND[:REF]")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch sub {
	case "add", "list", "set-password", "grant", "disable", "enable":
	default:
		fs.Usage()
		return fmt.Errorf("user needs a subcommand: add, list, set-password, grant, disable or enable (got %q)", sub)
	}
	if sub != "list" && login == "" {
		return errors.New("--login is required")
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	a := auth.New(db)
	switch sub {
	case "add":
		pw, err := readPassword(password, stdin)
		if err != nil {
			return err
		}
		u, err := a.CreateUser(ctx, auth.System, auth.NewUser{Login: login, FullName: name, Password: pw, Role: auth.Role(role), Scope: parseScope(scope)})
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
		pw, err := readPassword(password, stdin)
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
		if err := a.SetDisabled(ctx, auth.System, login, sub == "disable"); err != nil {
			return err
		}
		if sub == "disable" {
			fmt.Fprintf(out, "%s is disabled; their sessions are ended and their API tokens revoked\n", login)
		} else {
			fmt.Fprintf(out, "%s can sign in again\n", login)
		}
	}
	return nil
}
