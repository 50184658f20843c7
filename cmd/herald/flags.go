package main

import (
	"errors"
	"flag"
	"slices"
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
