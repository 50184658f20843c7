package main

import (
	"strings"
	"testing"

	"github.com/heraldsse/herald/auth"
)

func TestTokenOAuth(t *testing.T) {
	const key = "oauth-secret-0123456789abcdefghij"
	const hub = "https://hub.example/.well-known/mercure"
	code, out, errOut := runTokenCmd(t, nil, "--oauth", "--jwt-key", key, "--issuer", "https://idp.example", "--audience", hub,
		"--publish", "https://example.com/a", "--publish-urlpattern", "/books/:id",
		"--subscribe-urlpattern", "https://example.com/users/:id", "--payload", `{"user":"kevin"}`, "--subject", "kevin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	v, err := auth.NewAccessVerifier(auth.Issuer{URL: "https://idp.example", Key: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(strings.TrimSpace(out), hub, hub)
	if err != nil {
		t.Fatalf("the printed token does not verify: %v", err)
	}
	if !auth.CanPublish(c, []string{"https://example.com/a", "https://hub.example/books/2"}) || !auth.CanReceive(c, []string{"https://example.com/users/1"}) ||
		auth.CanReceive(c, []string{"https://example.com/a"}) || c.Subject != "kevin" || string(c.PayloadFor("https://example.com/users/1")) != `{"user":"kevin"}` {
		t.Fatalf("grants %+v", c)
	}
	for _, args := range [][]string{
		{"--oauth", "--jwt-key", key, "--audience", hub, "--publish", "*"},                                // no issuer
		{"--oauth", "--jwt-key", key, "--issuer", "https://idp.example", "--publish", "*"},                // no audience
		{"--oauth", "--jwt-key", key, "--issuer", "i", "--audience", hub, "--publish", "*", "--exp", "0"}, // never expires
		{"--oauth", "--jwt-key", key, "--issuer", "i", "--audience", hub, "--subscribe", "*", "--payload", "[1]"},
		{"--jwt-key", key, "--publish-urlpattern", "/a"}, // 1.0 grants without --oauth
	} {
		if code, _, _ := runTokenCmd(t, nil, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
