package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// defaultDataDir is where herald serve keeps its generated key unless --data says otherwise;
// publish and token look there too, so that on the machine of the hub no key need be typed.
const defaultDataDir = "./herald-data"

// dataKeyFlag adds the flag with which publish and token find the key herald serve
// generated: --data, as serve calls it, for token; publish, whose --data is the update's,
// calls it --data-dir.
func dataKeyFlag(fs *flag.FlagSet, name string) *string {
	return fs.String(name, defaultDataDir, "herald serve's data `directory`, where the key it generated is read from when no other key is given (also HERALD_DATA)")
}

// dataDirKey reads the HS* secret herald serve generated in its data directory: dir, the
// value of the flag name, or $HERALD_DATA when the command line left that flag alone, as
// serve reads it.
func dataDirKey(fs *flag.FlagSet, name, dir string, lookupEnv func(string) (string, bool)) ([]byte, error) {
	if !flagSet(fs, name) {
		if v, ok := lookupEnv("HERALD_DATA"); ok && v != "" {
			dir = v
		}
	}
	path := filepath.Join(dir, "jwt.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no key: give --jwt-key or --jwt-key-file, set HERALD_JWT_KEY, or run where herald serve keeps its data (--%s, now %s, has no jwt.key)", name, dir)
	}
	if err != nil {
		return nil, err
	}
	// serve trims the file the same way.
	key := bytes.TrimSpace(b)
	if len(key) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return key, nil
}

// readSecretFile reads an HS* secret from a file, dropping one trailing line break.
func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r")), nil
}
