package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/internal/browsertest"
)

// The console subscribes the Mercure 1.0 way with match_urlpattern and says which
// generation its stream speaks.
func TestConsoleSubscribesWithURLPattern(t *testing.T) {
	data := t.TempDir()
	base, _, _ := startServe(t, "--data", data)
	tok := keyFileToken(t, data)

	tab := browsertest.Tab(t, browsertest.New(t))
	if err := chromedp.Do(tab,
		chromedp.Navigate(base+"/.well-known/mercure/ui/"),
		chromedp.WaitVisible("#subscribe-form"),
		chromedp.SetValue("#sub-kind", "match_urlpattern"),
		chromedp.SetValue("#sub-topics", "https://example.com/books/:id"),
		chromedp.Click("#connect"),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the state to read open", `document.getElementById('state').textContent === 'open'`)
	if g := browsertest.Eval[string](t, tab, `document.getElementById('generation').textContent`); g != "Mercure 1.0 (match_urlpattern)" {
		t.Fatalf("generation shows %q", g)
	}
	if cmd := browsertest.Eval[string](t, tab, `document.getElementById('herald-command').textContent`); !strings.Contains(cmd, "match_urlpattern=https%3A%2F%2Fexample.com%2Fbooks%2F%3Aid") {
		t.Fatalf("the subscribe command shown is %q", cmd)
	}
	if err := chromedp.Do(tab,
		chromedp.SetValue("#pub-topics", "https://example.com/authors/1"),
		chromedp.SetValue("#pub-data", "not for this stream"),
		chromedp.SetValue("#pub-token", tok),
		chromedp.Click("#send"),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the first publish", `document.getElementById('publish-result').textContent.startsWith('Published: ')`)
	if err := chromedp.Do(tab,
		chromedp.SetValue("#pub-topics", "https://example.com/books/7"),
		chromedp.SetValue("#pub-data", "book seven"),
		chromedp.Click("#send"),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the matching update", `document.querySelectorAll('#event-list li').length >= 1`)
	time.Sleep(200 * time.Millisecond)
	list := browsertest.Eval[string](t, tab, `document.getElementById('event-list').textContent`)
	if !strings.Contains(list, "book seven") || strings.Contains(list, "not for this stream") {
		t.Fatalf("the list shows %q", list)
	}
}
