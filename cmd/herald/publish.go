package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func runPublish(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	hub := fs.String("hub", "http://localhost:8080/.well-known/mercure", "the hub's URL")
	var topics repeatedFlag
	fs.Var(&topics, "topic", "topic of the update; repeat for alternate topics (the first is canonical)")
	data := fs.String("data", "", "the update's data (\"@FILE\" reads a file, \"@-\" standard input)")
	id := fs.String("id", "", "the update id (default: the hub generates one)")
	typ := fs.String("type", "", "the SSE event name")
	retry := fs.String("retry", "", "the SSE retry value, in milliseconds")
	private := fs.Bool("private", false, "a private update, for authorized subscribers only")
	token := fs.String("token", "", "publisher JWT (default: minted with the hub's key, found as herald token finds it)")
	jwtKey := fs.String("jwt-key", "", "HS256 secret to mint a publisher token with (also HERALD_JWT_KEY)")
	keyFile := fs.String("jwt-key-file", "", "read the HS256 secret from `FILE` (one trailing newline dropped)")
	dataDir := dataKeyFlag(fs, "data-dir")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the hub")
	issuer := fs.String("issuer", "", "mint a Mercure 1.0 access token from --jwt-key for this issuer `URL` (its aud is --hub, or the hub's --resource given as --audience)")
	audience := fs.String("audience", "", "with --issuer: the hub's resource identifier `URL` (default: --hub)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: herald publish --hub URL --topic TOPIC --data DATA [flags]

Publishes one update to a Mercure hub and prints the id the hub gave it. Without --token it
mints a short-lived publisher token with the hub's key: --jwt-key, --jwt-key-file,
$HERALD_JWT_KEY, or else the key herald serve generated in its data directory (--data-dir,
as serve's --data: ./herald-data by default), so that on the hub's machine no key need be
typed.

Flags:
`)
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, e, args); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "herald publish: "+format+"\n", a...)
		return 1
	}
	if len(topics) == 0 {
		return fail("--topic is required")
	}
	if *token == "" {
		var key []byte
		switch {
		case *jwtKey != "" && *keyFile != "":
			return fail("give --jwt-key or --jwt-key-file, not both")
		case *jwtKey != "":
			key = []byte(*jwtKey)
		case *keyFile != "":
			b, err := readSecretFile(*keyFile)
			if err != nil {
				return fail("%v", err)
			}
			key = b
		case os.Getenv("HERALD_JWT_KEY") != "":
			key = []byte(os.Getenv("HERALD_JWT_KEY"))
		default:
			b, err := dataDirKey(fs, "data-dir", *dataDir, os.LookupEnv)
			if err != nil {
				return fail("a token is required: pass --token, or %v", err)
			}
			key = b
		}
		t, err := mintPublisherToken(key, *issuer, *audience, *hub, topics)
		if err != nil {
			return fail("minting a token: %v", err)
		}
		*token = t
	}
	body := *data
	if strings.HasPrefix(body, "@") {
		var b []byte
		var err error
		if body == "@-" {
			b, err = io.ReadAll(e.stdin)
		} else {
			b, err = os.ReadFile(body[1:])
		}
		if err != nil {
			return fail("reading data: %v", err)
		}
		body = string(b)
	}
	form := url.Values{"topic": topics, "data": {body}}
	if *id != "" {
		form.Set("id", *id)
	}
	if *typ != "" {
		form.Set("type", *typ)
	}
	if *retry != "" {
		form.Set("retry", *retry)
	}
	if *private {
		form.Set("private", "on")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+*token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail("%v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	// The answer comes from outside: shown on one line, escaped, so that it cannot drive
	// the terminal.
	reason := visible(strings.Join(strings.Fields(string(answer)), " "))
	if resp.StatusCode != http.StatusOK {
		if reason == "" {
			return fail("the hub answered %s", resp.Status)
		}
		return fail("the hub answered %s: %s", resp.Status, reason)
	}
	fmt.Fprintln(e.stdout, reason)
	return 0
}
