package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// checkStrict refuses what a signature does not make safe to read: a header that names
// extensions this package does not implement ("crit", and "b64" of RFC 7797, which changes
// what the signature covers), and claims whose meaning depends on the JSON reader because a
// name appears twice (Go's reader keeps the last, others keep the first: a token issuer
// and this hub could read different grants from the same bytes). The token's signature
// has already been checked, so the segments are well formed base64 of JSON.
func checkStrict(token string) error {
	header, payload, _ := segments(token)
	h, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(h, &fields); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	for _, name := range []string{"crit", "b64"} {
		if _, ok := fields[name]; ok {
			return fmt.Errorf("header parameter %q is not supported", name)
		}
	}
	if err := noDuplicateNames(h); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	p, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	if err := noDuplicateNames(p); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	return nil
}

// noDuplicateNames reports an error when any object in the JSON document doc, at any
// depth, names a member twice.
func noDuplicateNames(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	return walkValue(dec, 0)
}

// maxDepth bounds the nesting walkValue follows; a token's claims are shallow.
const maxDepth = 64

var errTooDeep = errors.New("nested too deeply")

func walkValue(dec *json.Decoder, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := make(map[string]struct{})
		for dec.More() {
			nameTok, err := dec.Token()
			if err != nil {
				return err
			}
			name, _ := nameTok.(string)
			if _, dup := seen[name]; dup {
				return fmt.Errorf("the name %q appears twice in one object", name)
			}
			seen[name] = struct{}{}
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
		return err
	case json.Delim('['):
		for dec.More() {
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return nil
}
