package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"qorgan/internal/alarm"
	"qorgan/internal/auth"
	"qorgan/internal/config"
	"qorgan/internal/emergency"
	"qorgan/internal/locale"
	"qorgan/internal/report"
	"qorgan/internal/roadmap"
)

func reportCommands() []entry {
	return []entry{
		{"report indicators", "print the roadmap's coverage indicators of a place",
			"Print the live coverage indicators of the caller's scope (the nation for the system), or of\n" +
				"one region, district or school in it, with the parts one level down, as text or CSV.",
			func() command { return &reportIndicatorsCmd{} }},
		{"report gaps", "print a school's gap list against the rules in force",
			"Print what the rules in force today require of a school, each item met or not, with the\n" +
				"reason and the act and clause behind it, in Russian, Kazakh or English (--lang).",
			func() command { return &reportGapsCmd{} }},
		{"report letter", "write the «Справочно» part of a ministry letter from live data",
			"Write the «Справочно» part of a ministry letter in Russian or Kazakh: the seeded records of\n" +
				"the nation with their sources, then Qorgan's live figures of today, apart; as text, PDF,\n" +
				"XLSX or CSV (--out, or standard output for text and CSV).",
			func() command { return &reportDocCmd{kind: "letter"} }},
		{"report regions", "write the table of live figures by region",
			"Write the live coverage figures by region (by district for a region's department) in\n" +
				"Russian or Kazakh, as text, PDF, XLSX or CSV.",
			func() command { return &reportDocCmd{kind: "regions"} }},
		{"report snapshot", "print (or take) the roadmap's snapshots of a place",
			"Print the snapshots of a place, seeded and live apart, each with its date and source;\n" +
				"with --take, first take today's live snapshot of the nation.",
			func() command { return &reportSnapshotCmd{} }},
	}
}

// roadmapAs opens the store, loads the roadmap and resolves --as.
func roadmapAs(ctx context.Context, d config.DB, as string) (*roadmap.Roadmap, auth.Principal, func() error, error) {
	db, err := openDB(ctx, d)
	if err != nil {
		return nil, auth.Principal{}, nil, err
	}
	a := auth.New(db)
	p, err := actingAs(ctx, a, as)
	if err != nil {
		db.Close()
		return nil, p, nil, err
	}
	rm := roadmap.New(db)
	// The drill indicator counts the drills the emergency module recorded;
	// a report raises nothing, so its alarms and messages go nowhere.
	rm.Drills = emergency.New(db, a, alarm.New(db, a, nil), func() {})
	if err := rm.Load(ctx); err != nil {
		db.Close()
		return nil, p, nil, err
	}
	return rm, p, db.Close, nil
}

// place is the --region, --district, --school choice of a report.
type place struct{ region, district, school string }

func (pl *place) options() []*config.Option {
	return []*config.Option{
		config.String(&pl.region, "region", "", "a region's KATO code"),
		config.String(&pl.district, "district", "", "a district's KATO code"),
		config.String(&pl.school, "school", "", "a school's id"),
	}
}

func (pl place) place() (roadmap.Place, error) {
	var out roadmap.Place
	for _, c := range []roadmap.Place{{Level: roadmap.LevelRegion, Code: pl.region}, {Level: roadmap.LevelDistrict, Code: pl.district}, {Level: roadmap.LevelSchool, Code: pl.school}} {
		if c.Code == "" {
			continue
		}
		if out.Level != "" {
			return out, fmt.Errorf("--%s: give one of --region, --district, --school", c.Level)
		}
		out = c
	}
	return out, nil
}

// roadmapAs is roadmapAs for a report of the place: the place is read
// first, so a bad choice of --region, --district, --school opens no store.
func (pl place) roadmapAs(ctx context.Context, d config.DB, as string) (*roadmap.Roadmap, auth.Principal, roadmap.Place, func() error, error) {
	at, err := pl.place()
	if err != nil {
		return nil, auth.Principal{}, at, nil, err
	}
	rm, p, done, err := roadmapAs(ctx, d, as)
	return rm, p, at, done, err
}

type reportIndicatorsCmd struct {
	db         config.DB
	as, format string
	at         place
}

func (c *reportIndicatorsCmd) options() []*config.Option {
	o := append(c.db.Options("qorgan.db"), asOption(&c.as), formatOption(&c.format))
	return append(o, c.at.options()...)
}

func formatOption(f *string) *config.Option {
	return config.String(f, "format", "text", "text or csv").Check(func() error {
		if *f != "text" && *f != "csv" {
			return fmt.Errorf("must be text or csv, got %q", *f)
		}
		return nil
	})
}

func (c *reportIndicatorsCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	rm, p, pl, done, err := c.at.roadmapAs(ctx, c.db, c.as)
	if err != nil {
		return err
	}
	defer done()
	f, err := rm.Indicators(ctx, p, pl)
	if err != nil {
		return err
	}
	if c.format == "csv" {
		return indicatorsCSV(out, f)
	}
	writeFigures(out, f)
	return nil
}

func share(in roadmap.Indicator) string {
	switch {
	case !in.Measured:
		return "not measured"
	case in.Share == nil:
		return "—"
	}
	return strconv.FormatFloat(*in.Share*100, 'f', 1, 64) + "%"
}

// writeFigures prints a place's figures and its parts as aligned text.
func writeFigures(out io.Writer, f roadmap.Figures) {
	fmt.Fprintf(out, "%s (%s %s), %s, %s figures, rule set %s: %d schools, %d УТО\n", f.Name, f.Level, f.Code, f.AsOf, f.Origin, f.RuleSet, f.Schools, f.UTOSchools)
	fmt.Fprintf(out, "source: %s\n\n", f.Source)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "indicator\thaving\trequired\tshare\t")
	for _, in := range f.Indicators {
		if !in.Measured {
			fmt.Fprintf(tw, "%s\t\t\t%s\t\n", in.Key, share(in))
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", in.Key, in.Having, in.Required, share(in))
	}
	tw.Flush()
	if len(f.Parts) == 0 {
		return
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "code\tname\tschools")
	for _, in := range f.Indicators {
		fmt.Fprintf(tw, "\t%s", in.Key)
	}
	fmt.Fprintln(tw)
	for _, p := range f.Parts {
		fmt.Fprintf(tw, "%s\t%s\t%d", p.Code, p.Name, p.Schools)
		for _, in := range p.Indicators {
			fmt.Fprintf(tw, "\t%s", share(in))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// indicatorsCSV writes one row per place and indicator.
func indicatorsCSV(out io.Writer, f roadmap.Figures) error {
	w := csv.NewWriter(out)
	w.Write([]string{"level", "code", "name", "as_of", "origin", "indicator", "having", "required", "share", "measured"})
	for _, p := range append([]roadmap.Figures{f}, f.Parts...) {
		for _, in := range p.Indicators {
			s := ""
			if in.Share != nil {
				s = strconv.FormatFloat(*in.Share, 'f', 4, 64)
			}
			w.Write([]string{p.Level, p.Code, p.Name, p.AsOf, p.Origin, string(in.Key), strconv.Itoa(in.Having), strconv.Itoa(in.Required), s, strconv.FormatBool(in.Measured)})
		}
	}
	w.Flush()
	return w.Error()
}

type reportGapsCmd struct {
	db       config.DB
	as, lang string
	school   int64
}

func (c *reportGapsCmd) options() []*config.Option {
	return append(c.db.Options("qorgan.db"), asOption(&c.as),
		config.String(&c.lang, "lang", "ru", "ru, kk or en").Check(config.OneOf(&c.lang, "ru", "kk", "en")),
		config.Int64(&c.school, "school", 0, "the school's id").Check(func() error {
			if c.school <= 0 {
				return fmt.Errorf("is required: a school's id")
			}
			return nil
		}))
}

// run prints the gap list in --lang, in the console's words: the school by
// its name in that language, the rule set by its title, each item with its
// reason and the act and clause behind it.
func (c *reportGapsCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	rm, p, done, err := roadmapAs(ctx, c.db, c.as)
	if err != nil {
		return err
	}
	defer done()
	g, err := rm.Gaps(ctx, p, c.school)
	if err != nil {
		return err
	}
	l := c.lang
	say := func(id string) string { return locale.Words(l, id, nil, 0) }
	count := func(id string, n int) string { return locale.Words(l, id, map[string]any{"Count": n}, n) }
	name := g.Name
	if l == "kk" && g.NameKK != "" {
		name = g.NameKK
	}
	set := g.Required.RuleSet
	if rs, ok := rm.RuleSet(set); ok {
		set = "«" + rs.TitleIn(l) + "» (" + rs.ID + ")"
	}
	fmt.Fprintf(out, "%s: %s\n", say("ui.gaps.title"), name)
	fmt.Fprint(out, count("ui.card.people", g.Headcount))
	if g.Required.UTO {
		fmt.Fprint(out, " · "+say("ui.card.uto"))
	}
	fmt.Fprintf(out, " · %s %s, %s\n", say("ui.roadmap.rule_set"), set, g.Required.AsOf)
	if g.Compliant {
		fmt.Fprintf(out, "%s\n\n", say("ui.gaps.compliant"))
	} else {
		fmt.Fprintf(out, "%s\n\n", count("ui.gaps.missing", len(g.Missing)))
	}
	for _, it := range g.Items {
		mark := "✓ " + say("ui.gaps.met")
		if !it.Met {
			mark = "✕ " + say("ui.gaps.unmet")
		}
		fmt.Fprintf(out, "%s — %s", say("ui.key."+string(it.Key)), mark)
		if why := it.Why.In(l); why != "" {
			fmt.Fprintf(out, ": %s", why)
		}
		act, clause := it.Source.In(l)
		fmt.Fprintf(out, "\n    %s: %s — %s\n", say("ui.gaps.rule"), act, clause)
	}
	return nil
}

type reportSnapshotCmd struct {
	db   config.DB
	as   string
	take bool
	at   place
}

func (c *reportSnapshotCmd) options() []*config.Option {
	o := append(c.db.Options("qorgan.db"), asOption(&c.as),
		config.Bool(&c.take, "take", false, "take today's live snapshot of the nation first"))
	return append(o, c.at.options()[:2]...)
}

func (c *reportSnapshotCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	rm, p, pl, done, err := c.at.roadmapAs(ctx, c.db, c.as)
	if err != nil {
		return err
	}
	defer done()
	if c.take {
		s, err := rm.TakeSnapshot(ctx, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(errOut, "took the live snapshot of %s (%d figures)\n", s.TakenOn, len(s.Figures))
	}
	snaps, err := rm.Snapshots(ctx, p, pl)
	if err != nil {
		return err
	}
	for _, s := range snaps {
		fmt.Fprintf(out, "%s  %s — %s\n", s.TakenOn, s.Origin, s.Source)
		for _, f := range s.Figures {
			fmt.Fprintf(out, "    %s", f)
			if f.Note != "" {
				fmt.Fprintf(out, "  («%s»)", f.Note)
			}
			fmt.Fprintln(out)
		}
	}
	return nil
}

// reportDocCmd writes one of the ministry's documents.
type reportDocCmd struct {
	kind             string
	db               config.DB
	as, lang, format string
	out              string
}

func (c *reportDocCmd) options() []*config.Option {
	return append(c.db.Options("qorgan.db"), asOption(&c.as),
		config.String(&c.lang, "lang", "ru", "ru or kk").Check(config.OneOf(&c.lang, "ru", "kk")),
		config.String(&c.format, "format", "text", "text, pdf, xlsx or csv").Check(config.OneOf(&c.format, "text", "pdf", "xlsx", "csv")),
		config.String(&c.out, "out", "", "file to write (required for pdf and xlsx; default: standard output)"))
}

func (c *reportDocCmd) run(ctx context.Context, w Wiring, out, errOut io.Writer) error {
	if c.out == "" && (c.format == "pdf" || c.format == "xlsx") {
		return fmt.Errorf("--out: a %s file needs a name", c.format)
	}
	rm, p, done, err := roadmapAs(ctx, c.db, c.as)
	if err != nil {
		return err
	}
	defer done()
	var d report.Document
	if c.kind == "letter" {
		d, err = rm.Letter(ctx, p, report.Lang(c.lang))
	} else {
		d, err = rm.RegionReport(ctx, p, report.Lang(c.lang))
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, d, c.format); err != nil {
		return err
	}
	if c.out == "" {
		_, err = out.Write(buf.Bytes())
		return err
	}
	// Written whole or not at all: a failed write leaves no half a file.
	tmp := c.out + ".part"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.out); err != nil {
		os.Remove(tmp)
		return err
	}
	fmt.Fprintf(errOut, "wrote %s (%d bytes)\n", c.out, buf.Len())
	return nil
}
