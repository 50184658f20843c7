package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/browsertest"
)

// The README's snippet for private updates, run as written in a real Chromium: a page on
// one origin, given the mercureAuthorization cookie by its server, opens the hub's stream on
// another origin with withCredentials and receives a private update; the same page without
// withCredentials does not.
func TestReadmePrivateUpdatesSnippet(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var snippet string
	for _, m := range regexp.MustCompile("(?s)```js\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], "withCredentials: true") {
			snippet = m[1]
		}
	}
	if snippet == "" {
		t.Fatal("the README has no browser snippet for private updates")
	}
	const key = "readme-private-test-key-0123456789abcdef"
	const topic = "https://example.com/users/kevin/inbox"
	sub, err := auth.Mint([]byte(key), "HS256", auth.Claims{Subscribe: []string{topic}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The app's server: it sets the cookie as the snippet's comment says (without Secure:
	// the test speaks plain HTTP) and serves the page.
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "mercureAuthorization", Value: sub, Path: "/.well-known/mercure", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>app</title><script>window.got = []; function showMessage(m) { window.got.push(m.text); }</script>`))
	}))
	defer page.Close()
	base, _, stop := startServe(t, "--jwt-key", key, "--cors-origins", page.URL)
	defer stop()
	hub := base + "/.well-known/mercure"

	tab := browsertest.Tab(t, browsertest.New(t))
	defer chromedp.Cancel(tab) // before the hub stops, which waits for streams
	if err := chromedp.Do(tab, chromedp.Navigate(page.URL)); err != nil {
		t.Fatal(err)
	}
	code := strings.ReplaceAll(snippet, "https://hub.example.com/.well-known/mercure", hub)
	without := strings.ReplaceAll(strings.ReplaceAll(code, ", { withCredentials: true }", ""), "showMessage(", "(window.anonGot = window.anonGot || []).push(")
	browsertest.Eval[chromedp.Void](t, tab, "{"+code+"\nwindow.inbox = inbox;}")
	browsertest.Eval[chromedp.Void](t, tab, "{"+without+"\nwindow.anon = inbox;}")
	browsertest.WaitFor(t, tab, 10*time.Second, "both streams to open", `window.inbox.readyState === 1 && window.anon.readyState === 1`)

	pub, _ := auth.Mint([]byte(key), "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	if _, err := publishForm(http.DefaultClient, base, pub, url.Values{"topic": {topic}, "data": {`{"text":"for kevin only"}`}, "private": {"on"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := publishForm(http.DefaultClient, base, pub, url.Values{"topic": {topic}, "data": {`{"text":"public"}`}}); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the private update, then the public one", `window.got.length === 2`)
	if got := browsertest.Eval[[]string](t, tab, `window.got`); got[0] != "for kevin only" {
		t.Fatalf("the page with the cookie got %q", got)
	}
	browsertest.WaitFor(t, tab, 5*time.Second, "the stream without credentials to get the public update", `(window.anonGot || []).length >= 1`)
	if got := browsertest.Eval[[]string](t, tab, `window.anonGot.map(m => m.text)`); len(got) != 1 || got[0] != "public" {
		t.Fatalf("without credentials the page got %q, want only the public update", got)
	}
}
