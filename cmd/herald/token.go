package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/topic"
)

// defaultTokenTTL is how long a token from "herald token" lives unless --exp says otherwise:
// long enough to paste it into a few commands, short enough not to become a standing secret.
const defaultTokenTTL = time.Hour

func runToken(_ context.Context, e env, args []string) int {
	return tokenCommand(e, args, os.LookupEnv)
}

// selectorList is a repeatable flag. Unlike a comma-separated list it keeps commas, which URI
// templates use ("{?q,lang}").
type selectorList []string

func (l *selectorList) String() string { return strings.Join(*l, " ") }

func (l *selectorList) Set(v string) error {
	if v == "" {
		return errors.New("empty selector")
	}
	if _, err := topic.Compile(v); err != nil {
		return err
	}
	*l = append(*l, v)
	return nil
}

// tokenCommand is runToken with the environment lookup passed in, for tests.
func tokenCommand(e env, args []string, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	key := fs.String("jwt-key", "", "HS* `secret` to sign with (default $HERALD_JWT_KEY)")
	keyFile := fs.String("jwt-key-file", "", "read the key from `FILE`: a PEM private key for RS*, PS*, ES* and EdDSA, or the HS* secret (one trailing newline dropped)")
	alg := fs.String("jwt-alg", "", "signing `algorithm`: "+strings.Join(auth.Algorithms(), ", ")+" (default $HERALD_JWT_ALG, else "+auth.DefaultAlg+")")
	var publish, subscribe selectorList
	fs.Var(&publish, "publish", "topic `selector` the bearer may publish to (exact, * or URI template); repeat for more")
	fs.Var(&subscribe, "subscribe", "topic `selector` of the private updates the bearer may receive; repeat for more")
	payload := fs.String("payload", "", "`JSON` value for the mercure claim's payload (echoed in subscription events)")
	subject := fs.String("subject", "", "the token's \"sub\" claim, `ID` of the bearer")
	ttl := fs.Duration("exp", defaultTokenTTL, "lifetime of the token; 0 means it never expires")
	dataDir := dataKeyFlag(fs, "data")
	var oauth oauthFlags
	addOAuthFlags(fs, &oauth)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: herald token [--jwt-key K | --jwt-key-file FILE | --data DIR] [--jwt-alg ALG]
                    [--publish SELECTOR]... [--subscribe SELECTOR]... [--payload JSON] [--exp 1h]

Prints a JSON Web Token for a Mercure hub: its "mercure" claim lists the topic selectors
the bearer may publish to and those of the private updates it may receive. A selector is
an exact topic, * for every topic, or an RFC 6570 URI template such as
https://example.com/books/{id}. The token expires after --exp (1h by default).

The key is --jwt-key, --jwt-key-file, $HERALD_JWT_KEY, or else the one herald serve
generated in its data directory (--data, ./herald-data by default), as serve finds it.

  herald token --jwt-key "$KEY" --publish '*' --subscribe 'https://example.com/users/kevin'

Flags:
`)
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, e, args); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(e.stderr, "herald token: "+format+"\n", a...)
		return code
	}
	if *alg == "" {
		*alg, _ = lookupEnv("HERALD_JWT_ALG")
	}
	if *alg == "" {
		*alg = auth.DefaultAlg
	}
	if !slices.Contains(auth.Algorithms(), *alg) {
		return fail(2, "unknown --jwt-alg %q (supported: %s)", *alg, strings.Join(auth.Algorithms(), ", "))
	}
	if len(publish) == 0 && len(subscribe) == 0 && !oauth.grantsGiven() {
		return fail(2, "nothing to grant: give --publish or --subscribe")
	}
	if *ttl < 0 {
		return fail(2, "--exp must not be negative")
	}
	// NOTE: the key never appears in a message: it is a secret.
	var k []byte
	switch {
	case *key != "" && *keyFile != "":
		return fail(2, "give --jwt-key or --jwt-key-file, not both")
	case *keyFile != "":
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fail(1, "%v", err)
		}
		if auth.IsHMAC(*alg) {
			b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
		}
		k = b
	case *key != "":
		k = []byte(*key)
	default:
		if v, _ := lookupEnv("HERALD_JWT_KEY"); v != "" {
			k = []byte(v)
			break
		}
		if !auth.IsHMAC(*alg) {
			break // the PEM key must be given, below
		}
		b, err := dataDirKey(fs, "data", *dataDir, lookupEnv)
		if err != nil {
			return fail(2, "%v", err)
		}
		k = b
	}
	if !auth.IsHMAC(*alg) && *keyFile == "" {
		return fail(2, "%s signs with a PEM private key: give --jwt-key-file", *alg)
	}
	if oauth.on {
		tok, err := mintOAuth(&oauth, k, *alg, publish, subscribe, json.RawMessage(*payload), *subject, *ttl)
		if err != nil {
			return fail(2, "%v", err)
		}
		fmt.Fprintln(e.stdout, tok)
		return 0
	}
	if oauth.grantsGiven() || oauth.issuer != "" || len(oauth.audience) > 0 {
		return fail(2, "--issuer, --audience and the -urlpattern grants need --oauth")
	}
	c := auth.Claims{Publish: publish, Subscribe: subscribe, Subject: *subject}
	if *payload != "" {
		if !json.Valid([]byte(*payload)) {
			return fail(2, "--payload is not valid JSON")
		}
		c.Payload = json.RawMessage(*payload)
	}
	token, err := auth.Mint(k, *alg, c, *ttl)
	if err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintln(e.stdout, token)
	return 0
}
