package main

import (
	"os"
	"path/filepath"
	"strings"
)

// selfCommand is how a person runs this binary again, for the commands the hub's banner
// suggests: "herald" for an installed binary, "go run ./cmd/herald" when the binary is the
// one go run built and will delete.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "herald"
	}
	return commandFor(exe)
}

// commandFor is selfCommand for the executable at path. go run links the program into a
// temporary work directory, $GOTMPDIR or the system's temporary directory, named
// go-build…/b001/exe/NAME.
func commandFor(path string) string {
	dir := filepath.Dir(path)
	if filepath.Base(dir) == "exe" && strings.Contains(filepath.ToSlash(dir), "/go-build") {
		return "go run ./cmd/herald"
	}
	return "herald"
}
