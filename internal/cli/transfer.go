package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"

	"qorgan/internal/auth"
	"qorgan/internal/config"
	"qorgan/internal/errs"
	"qorgan/internal/registry"
	"qorgan/internal/transfer"
)

// actingAs returns the principal a CLI command acts as: the system, or a
// person given by login (so that their scope applies).
func actingAs(ctx context.Context, a *auth.Service, login string) (auth.Principal, error) {
	if login == "" {
		return auth.System, nil
	}
	us, err := a.ListUsers(ctx)
	if err != nil {
		return auth.Principal{}, err
	}
	for _, u := range us {
		if u.Login == strings.ToLower(login) {
			return auth.Principal{UserID: u.ID, Login: u.Login, Name: u.FullName, Role: u.Role, Scope: u.Scope}, nil
		}
	}
	return auth.Principal{}, fmt.Errorf("--as: no user with login %q", login)
}

// asOption is the --as option of the commands that act on the registry.
func asOption(login *string) *config.Option {
	return config.String(login, "as", "", "act as this login, within its scope (default: the system administrator)")
}

// registryAs opens the registry in the database d names, and the principal
// a command acts as there (see actingAs); closeDB closes the database.
func registryAs(ctx context.Context, d config.DB, as string) (reg *registry.Registry, p auth.Principal, closeDB func() error, err error) {
	db, err := openDB(ctx, d)
	if err != nil {
		return nil, auth.Principal{}, nil, err
	}
	a := auth.New(db)
	if p, err = actingAs(ctx, a, as); err != nil {
		db.Close()
		return nil, auth.Principal{}, nil, err
	}
	return registry.New(db, a), p, db.Close, nil
}

func transferCommands() []entry {
	return []entry{
		{"import", "import schools or pupils with guardians from CSV or XLSX",
			"Import schools or pupils with their guardians from a CSV or XLSX file. The whole file is\n" +
				"checked first: one bad row writes nothing, and every bad row and column is listed.\n" +
				"Importing the same file again changes nothing; a corrected file updates by key.",
			func() command { return &importCmd{} }},
		{"export", "export schools or pupils with guardians to CSV or XLSX",
			"Export schools, or the pupils of one school with their guardians, as CSV or XLSX in the\n" +
				"same columns import reads. Reading pupils is recorded in the access log.",
			func() command { return &exportCmd{} }},
	}
}

type importCmd struct {
	db                     config.DB
	kind, file, format, as string
	quiet                  bool
}

func (c *importCmd) options() []*config.Option {
	return append(c.db.Options("qorgan.db"),
		config.String(&c.kind, "kind", "", "what the file holds: schools or pupils"),
		config.String(&c.file, "file", "", "the .csv or .xlsx file").Check(func() error {
			if c.file == "" {
				return errors.New("is required")
			}
			return nil
		}),
		config.String(&c.format, "format", "", "csv or xlsx (default: from the file name)"),
		asOption(&c.as),
		config.Bool(&c.quiet, "quiet", false, "no progress bar"),
	)
}

func (c *importCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	d, kind, file, format, as, quiet := c.db, c.kind, c.file, c.format, c.as, c.quiet
	k, err := transfer.ParseKind(kind)
	if err != nil {
		return fmt.Errorf("--kind: %s", Message(err))
	}
	var f transfer.Format
	if format != "" {
		f, err = transfer.ParseFormat(format)
	} else {
		f, err = transfer.FormatOf(file)
	}
	if err != nil {
		return fmt.Errorf("--format: %s", Message(err))
	}
	body, err := os.Open(file)
	if err != nil {
		return err
	}
	defer body.Close()
	reg, p, closeDB, err := registryAs(ctx, d, as)
	if err != nil {
		return err
	}
	defer closeDB()
	var bar *progressbar.ProgressBar
	progress := func(done, total int) {
		if quiet {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(errOut), progressbar.OptionSetDescription("rows"),
				progressbar.OptionShowCount(), progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish())
		}
		bar.Set(done)
	}
	rep, err := transfer.Import(ctx, reg, p, k, transfer.File{Name: file, Format: f, Body: body}, progress)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if rep.Status != transfer.Done {
		fmt.Fprintf(out, "%s: %s, nothing written. %d problem(s):\n", file, rep.Status, len(rep.Problems)+rep.MoreProblems)
		for _, pr := range rep.Problems {
			if pr.Row == 0 {
				fmt.Fprintf(out, "  file: %s\n", pr.Message)
			} else if pr.Column == "" {
				fmt.Fprintf(out, "  row %d: %s\n", pr.Row, pr.Message)
			} else {
				fmt.Fprintf(out, "  row %d, column %s: %s\n", pr.Row, pr.Column, pr.Message)
			}
		}
		if rep.MoreProblems > 0 {
			fmt.Fprintf(out, "  … and %d more\n", rep.MoreProblems)
		}
		return errs.Invalidf("file", "%s was not imported", file)
	}
	fmt.Fprintf(out, "%s: %d rows: %d created, %d updated, %d unchanged\n", file, rep.Total, rep.Created, rep.Updated, rep.Unchanged)
	return nil
}

type exportCmd struct {
	db                        config.DB
	kind, format, outPath, as string
	school                    int64
}

func (c *exportCmd) options() []*config.Option {
	return append(c.db.Options("qorgan.db"),
		config.String(&c.kind, "kind", "", "schools or pupils"),
		config.Int64(&c.school, "school", 0, "the school whose pupils to export (for --kind pupils)"),
		config.String(&c.format, "format", "", "csv or xlsx (default: from --out, else csv)"),
		config.String(&c.outPath, "out", "-", "file to write, or - for standard output"),
		asOption(&c.as),
	)
}

func (c *exportCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	d, kind, format, outPath, as, school := c.db, c.kind, c.format, c.outPath, c.as, c.school
	k, err := transfer.ParseKind(kind)
	if err != nil {
		return fmt.Errorf("--kind: %s", Message(err))
	}
	f := transfer.CSV
	switch {
	case format != "":
		f, err = transfer.ParseFormat(format)
	case outPath != "-":
		f, err = transfer.FormatOf(outPath)
	}
	if err != nil {
		return fmt.Errorf("--format: %s", Message(err))
	}
	if k == transfer.Pupils && school <= 0 {
		return errors.New("--school is required for --kind pupils")
	}
	reg, p, closeDB, err := registryAs(ctx, d, as)
	if err != nil {
		return err
	}
	defer closeDB()
	dst := out
	var file *os.File
	if outPath != "-" {
		// Write beside the target and rename, so a failed export leaves no half file.
		file, err = os.CreateTemp(dirOf(outPath), ".qorgan-export-*")
		if err != nil {
			return err
		}
		defer os.Remove(file.Name())
		dst = file
	}
	if k == transfer.Schools {
		err = transfer.ExportSchools(ctx, reg, p, f, dst)
	} else {
		err = transfer.ExportPupils(ctx, reg, p, school, f, dst)
	}
	if err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return err
		}
		if err := os.Rename(file.Name(), outPath); err != nil {
			return err
		}
		fmt.Fprintf(errOut, "wrote %s\n", outPath)
	}
	return nil
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, "/\\"); i >= 0 {
		return path[:i+1]
	}
	return "."
}
