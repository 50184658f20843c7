package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

// runVersion prints the module version and the VCS revision the binary was built from, as
// the Go toolchain recorded them in the build info.
func runVersion(_ context.Context, e env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "herald version: unexpected argument %q\n", args[0])
		return 2
	}
	fmt.Fprintln(e.stdout, versionLine())
	return 0
}

// versionLine describes the running binary: "herald v1.2.3 (revision 0123abcd…, 2026-01-02,
// modified) go1.26.0". A binary built from a checkout without go install has version
// "(devel)"; the revision is there when the build saw the VCS.
func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "herald (no build information)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var vcs []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = append(vcs, "revision "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		vcs = append(vcs, t)
	}
	if settings["vcs.modified"] == "true" {
		vcs = append(vcs, "modified")
	}
	line := "herald " + version
	if len(vcs) > 0 {
		line += " (" + strings.Join(vcs, ", ") + ")"
	}
	return line + " " + info.GoVersion
}
