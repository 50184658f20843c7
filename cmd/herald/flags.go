package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
)

// parseFlags parses args into fs. Help goes to standard output (it was asked for), errors
// to standard error. When it returns false the command must exit with the code it gives.
func parseFlags(fs *flag.FlagSet, e env, args []string) (ok bool, code int) {
	fs.SetOutput(e.stderr)
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		fs.SetOutput(e.stdout)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, 0
		}
		return false, 2
	}
	return true, 0
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
				err = fmt.Errorf("%s: %v", envName(f.Name), e)
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
