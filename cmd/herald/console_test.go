package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/internal/browsertest"
)

// freePort returns a loopback port that was free a moment ago, so a hub can be restarted
// on the same address.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// artifactDir is where browser tests leave screenshots: $HERALD_ARTIFACTS, or a folder in
// the system's temporary directory.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("HERALD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "herald-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The console in a real browser: publish from the page and see the update arrive in it;
// the state reads "open"; after the hub restarts, the page reconnects by itself and shows
// the updates published meanwhile.
func TestConsoleInBrowser(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	data := t.TempDir()
	base, out, stop := startServe(t, "--addr", addr, "--data", data, "--shutdown-grace", "2s")
	tok := keyFileToken(t, data)
	if !strings.Contains(out.String(), "Console:    "+base+"/.well-known/mercure/ui/") {
		t.Fatalf("the welcome text does not give the console's URL:\n%s", out.String())
	}

	tab := browsertest.Tab(t, browsertest.New(t))
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(1100, 900),
		chromedp.Navigate(base+"/"),
		chromedp.Click(`a[href="/.well-known/mercure/ui/"]`),
		chromedp.WaitVisible("#subscribe-form"),
		chromedp.SetValue("#sub-topics", "https://example.com/books/{id}"),
		chromedp.SetValue("#sub-types", "review"),
		chromedp.Click("#connect"),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the state to read open", `document.getElementById('state').textContent === 'open'`)

	if err := chromedp.Do(tab,
		chromedp.SetValue("#pub-topics", "https://example.com/books/1"),
		chromedp.SetValue("#pub-data", `{"title":"Dune","stars":5}`),
		chromedp.SetValue("#pub-type", "review"),
		chromedp.SetValue("#pub-token", tok),
		chromedp.Click("#send"),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the returned id", `document.getElementById('publish-result').textContent.startsWith('Published: urn:uuid:')`)
	browsertest.WaitFor(t, tab, 10*time.Second, "the update in the list", `document.querySelectorAll('#event-list li').length === 1`)
	first := browsertest.Eval[string](t, tab, `document.querySelector('#event-list li').textContent`)
	if !strings.Contains(first, "review") || !strings.Contains(first, "\"title\": \"Dune\"") {
		t.Fatalf("the event shows %q; want its type and pretty-printed JSON", first)
	}
	curl := browsertest.Eval[string](t, tab, `document.getElementById('curl-command').textContent`)
	herald := browsertest.Eval[string](t, tab, `document.getElementById('herald-command').textContent`)
	if !strings.HasPrefix(curl, "curl ") || !strings.Contains(curl, "topic=https%3A%2F%2Fexample.com%2Fbooks%2F1") ||
		!strings.HasPrefix(herald, "herald publish ") || !strings.Contains(herald, "--type 'review'") {
		t.Fatalf("commands shown:\n%s\n%s", curl, herald)
	}

	// Restart the hub on the same address and data directory, and publish before the page
	// is back: it must catch up through Last-Event-ID.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the page to notice", `document.getElementById('state').textContent !== 'open'`)
	startServe(t, "--addr", addr, "--data", data)
	for _, title := range []string{"Emma", "Ulysses"} {
		if code, _, errOut := runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--token", tok,
			"--topic", "https://example.com/books/2", "--data", `{"title":"`+title+`"}`); code != 0 {
			t.Fatal(errOut)
		}
	}
	browsertest.WaitFor(t, tab, 15*time.Second, "the page to reconnect and show the updates published meanwhile",
		`document.getElementById('state').textContent === 'open' && document.querySelectorAll('#event-list li').length === 3`)
	list := browsertest.Eval[string](t, tab, `document.getElementById('event-list').textContent`)
	if !strings.Contains(list, "Emma") || !strings.Contains(list, "Ulysses") {
		t.Fatalf("after the restart the list shows %q", list)
	}
	if got := browsertest.Eval[string](t, tab, `document.getElementById('reconnects').textContent`); got != "1" {
		t.Fatalf("reconnects = %s, want 1", got)
	}

	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifactDir(t), "console.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// Readable on a phone: nothing wider than the screen.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if w := browsertest.Eval[int](t, tab, `document.documentElement.scrollWidth`); w > 390 {
		t.Fatalf("on a 390 px wide screen the page is %d px wide", w)
	}
	png, err = chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactDir(t), "console-phone.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
