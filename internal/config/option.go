// Package config declares every option of every qorgan command once: its
// flag, its environment variable (QORGAN_<FLAG>), its default, whether it is
// secret, how it is checked and its help. A command's options are a table of
// Options bound to the fields of a typed configuration (Server for serve and
// demo); Parse reads the environment, then the command line, which wins, and
// checks each value. The README's configuration table is tested against the
// tables. config imports nothing of Qorgan's.
package config

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// An Option is one setting of a command, bound to a field of its typed
// configuration.
type Option struct {
	// Name is the flag without its dashes, e.g. "database-url".
	Name string
	// Default is the default as the command line would give it.
	Default string
	// About says the default in words when it is computed (e.g. from the
	// number of cores); the README says the same.
	About string
	// Help is the one-paragraph help of --help.
	Help   string
	secret bool
	value  flag.Value
	checks []func() error
}

// Env is the option's environment variable.
func (o *Option) Env() string { return EnvName(o.Name) }

// EnvName is the environment variable of a flag: QORGAN_ and the name in
// upper case, - as _.
func EnvName(flagName string) string {
	return "QORGAN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// IsSecret says whether the option's value is never printed.
func (o *Option) IsSecret() bool { return o.secret }

// Secret marks the option's value as never printed.
func (o *Option) Secret() *Option { o.secret = true; return o }

// Computed says the default in words (see About).
func (o *Option) Computed(about string) *Option { o.About = about; return o }

// Check adds a rule the value must keep, run after the environment and the
// command line were read (so a rule may read other options' fields). Its
// error is shown after the flag's name, e.g. "--keep-passes must be …".
func (o *Option) Check(rule func() error) *Option {
	o.checks = append(o.checks, rule)
	return o
}

func bind(name, help string, set func(fs *flag.FlagSet)) *Option {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	set(fs)
	f := fs.Lookup(name)
	return &Option{Name: name, Default: f.DefValue, Help: help, value: f.Value}
}

// String declares a text option stored in p.
func String(p *string, name, def, help string) *Option {
	return bind(name, help, func(fs *flag.FlagSet) { fs.StringVar(p, name, def, help) })
}

// Int declares an integer option stored in p.
func Int(p *int, name string, def int, help string) *Option {
	return bind(name, help, func(fs *flag.FlagSet) { fs.IntVar(p, name, def, help) })
}

// Int64 declares a 64-bit integer option stored in p.
func Int64(p *int64, name string, def int64, help string) *Option {
	return bind(name, help, func(fs *flag.FlagSet) { fs.Int64Var(p, name, def, help) })
}

// Uint64 declares an unsigned integer option stored in p.
func Uint64(p *uint64, name string, def uint64, help string) *Option {
	return bind(name, help, func(fs *flag.FlagSet) { fs.Uint64Var(p, name, def, help) })
}

// Float declares a decimal option stored in p.
func Float(p *float64, name string, def float64, help string) *Option {
	return bind(name, help, func(fs *flag.FlagSet) { fs.Float64Var(p, name, def, help) })
}

// Bool declares a switch stored in p (--name alone sets it).
func Bool(p *bool, name string, def bool, help string) *Option {
	return bind(name, help, func(fs *flag.FlagSet) { fs.BoolVar(p, name, def, help) })
}

// Duration declares a duration option (1h30m, 500ms) stored in p.
func Duration(p *time.Duration, name string, def time.Duration, help string) *Option {
	o := bind(name, help, func(fs *flag.FlagSet) { fs.DurationVar(p, name, def, help) })
	o.Default = shortDuration(def)
	return o
}

// shortDuration writes d without its zero tail: 720h, not 720h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Value declares an option of a type of its own, which parses itself.
func Value(v flag.Value, name, help string) *Option {
	return &Option{Name: name, Default: v.String(), Help: help, value: v}
}

// Between is a rule: *p lies in [lo, hi].
func Between[T cmp.Ordered](p *T, lo, hi T) func() error {
	return func() error {
		if *p < lo || *p > hi {
			return fmt.Errorf("must be between %v and %v, not %v", lo, hi, *p)
		}
		return nil
	}
}

// AtLeast is a rule: *p is lo or more; why, if given, says why.
func AtLeast[T cmp.Ordered](p *T, lo T, why string) func() error {
	return func() error {
		if *p < lo {
			if why != "" {
				why = " (" + why + ")"
			}
			return fmt.Errorf("must be at least %v%s, not %v", lo, why, *p)
		}
		return nil
	}
}

// OneOf is a rule: *p is one of the words.
func OneOf(p *string, words ...string) func() error {
	return func() error {
		for _, w := range words {
			if *p == w {
				return nil
			}
		}
		return fmt.Errorf("must be %s or %s, not %q", strings.Join(words[:len(words)-1], ", "), words[len(words)-1], *p)
	}
}

// A Command is what Parse needs to know of a command: its name as typed
// after qorgan, what --help says of it, and its options.
type Command struct {
	Name    string
	About   string
	Options []*Option
}

// Usage writes the command's --help: each flag with its variable, its help
// and its default (a secret's as ***).
func (c Command) Usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: qorgan %s [flags]\n\n%s\n", c.Name, c.About)
	if len(c.Options) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFlags (each also from the environment variable shown):")
	for _, o := range c.Options {
		def := o.Default
		if o.About != "" {
			def = o.About
		}
		if o.secret && def != "" {
			def = "***"
		}
		fmt.Fprintf(w, "  --%s  (%s)\n        %s", o.Name, o.Env(), o.Help)
		if def != "" {
			fmt.Fprintf(w, " (default %s)", def)
		}
		if o.secret {
			fmt.Fprint(w, " (secret)")
		}
		fmt.Fprintln(w)
	}
}

// Parse applies the QORGAN_* environment variables of c's options, then the
// command line (which wins), rejects stray arguments, and runs every
// option's checks, returning the first failure. --help writes c's usage to
// usage and returns flag.ErrHelp.
func Parse(c Command, args []string, usage io.Writer) error {
	fs := flag.NewFlagSet("qorgan "+c.Name, flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() { c.Usage(usage) }
	for _, o := range c.Options {
		fs.Var(o.value, o.Name, o.Help)
	}
	var bad []string
	for _, o := range c.Options {
		if v, ok := os.LookupEnv(o.Env()); ok {
			if err := o.value.Set(v); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", o.Env(), err))
			}
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before nothing else; see --help)", fs.Arg(0))
	}
	for _, o := range c.Options {
		for _, check := range o.checks {
			if err := check(); err != nil {
				return fmt.Errorf("--%s %w", o.Name, err)
			}
		}
	}
	return nil
}
