package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
)

// parseFlags parses args into fs for a command that takes no positional argument: flags
// only, and any other argument is an error. Help goes to standard output (it was asked for),
// errors to standard error. When it returns false the command must exit with the code it
// gives.
func parseFlags(fs *flag.FlagSet, e env, args []string) (ok bool, code int) {
	_, ok, code = parseArgs(fs, e, args, 0)
	return ok, code
}

// parseArgs parses args into fs with flags anywhere, before, between or after the positional
// arguments ("herald decode FILE --json"), and returns the positional ones; after "--"
// everything is positional. More than limit positional arguments is an error that names the
// first surplus one. When ok is false the command must exit with code.
func parseArgs(fs *flag.FlagSet, e env, args []string, limit int) (positional []string, ok bool, code int) {
	fs.SetOutput(e.stderr)
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		fs.SetOutput(e.stdout)
	}
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, false, 0
			}
			return nil, false, 2
		}
		left := fs.Args()
		if len(left) == 0 {
			break
		}
		if consumed := len(rest) - len(left); consumed > 0 && rest[consumed-1] == "--" {
			positional = append(positional, left...)
			break
		}
		positional = append(positional, left[0])
		rest = left[1:]
	}
	if len(positional) > limit {
		fmt.Fprintf(e.stderr, "herald %s: unexpected argument %q (see herald %s --help)\n", fs.Name(), positional[limit], fs.Name())
		return nil, false, 2
	}
	return positional, true, 0
}

// envName is the environment variable that sets a flag: HERALD_ and the flag's name in
// capitals with dashes as underscores (--history-size is HERALD_HISTORY_SIZE).
func envName(flagName string) string {
	return "HERALD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets every flag that the command line left alone from its environment
// variable, if that is set. lookup is os.LookupEnv outside tests.
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := lookup(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				// The value is not repeated: it may be a secret (HERALD_JWT_KEY).
				err = fmt.Errorf("%s: %s", envName(f.Name), expected(f, e))
			}
		}
	})
	return err
}

// listFlag is a flag that may be repeated or given as a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// repeatedFlag is a flag that may be repeated; each value is kept whole (topics may hold
// commas).
type repeatedFlag []string

func (r *repeatedFlag) String() string { return strings.Join(*r, " ") }

func (r *repeatedFlag) Set(v string) error {
	*r = append(*r, v)
	return nil
}

// expected explains why a value did not parse for flag f: the flag package says only "parse
// error" for a bool or a number, so the message names the type the flag wants.
func expected(f *flag.Flag, err error) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return err.Error()
	}
	if strings.Contains(err.Error(), "out of range") {
		return "value out of range"
	}
	switch g.Get().(type) {
	case bool:
		return "want true or false (also 1, 0, t, f)"
	case time.Duration:
		return "want a duration such as 500ms, 15s or 2h"
	case int, int64:
		return "want a whole number"
	case uint, uint64:
		return "want a whole number, 0 or more"
	case float64:
		return "want a number"
	}
	return err.Error()
}

// parseURLArg is parseArgs for a command that takes exactly one URL.
func parseURLArg(fs *flag.FlagSet, e env, args []string) (url string, ok bool, code int) {
	positional, ok, code := parseArgs(fs, e, args, 1)
	if !ok {
		return "", false, code
	}
	if len(positional) != 1 {
		fmt.Fprintf(e.stderr, "herald %s: want exactly one URL (see herald %s --help)\n", fs.Name(), fs.Name())
		return "", false, 2
	}
	return positional[0], true, 0
}
