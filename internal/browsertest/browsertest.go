// Package browsertest starts a real headless Chromium for tests, through chromedp.
//
//	browser := browsertest.New(t)
//	tab := browsertest.Tab(t, browser)
//	err := chromedp.Do(tab, chromedp.Navigate(srv.URL))
//
// Each browser gets a fresh profile in a temporary directory and is stopped, and its
// directory removed, when the test ends. When no Chromium can be found the test is
// skipped, except in CI (the CI environment variable is set), where it fails: the browser
// tests are part of what CI proves.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Candidates are the executables tried, in order, when HERALD_CHROMIUM is not set.
var Candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// ExecPath returns the Chromium executable to use: $HERALD_CHROMIUM if set, else the first
// of Candidates found. It returns "" when there is none (or $HERALD_CHROMIUM names none).
func ExecPath() string {
	if p := os.Getenv("HERALD_CHROMIUM"); p != "" {
		p, _ = exec.LookPath(p)
		return p
	}
	for _, c := range Candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// Flags are the command-line switches every browser is started with: headless, no
// sandbox (tests run as root in containers), and nothing that reaches the network on its
// own (QUIC, background fetches, component updates, sync), so a test sees only its own
// loopback traffic.
var Flags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
	"no-default-browser-check", "disable-dev-shm-usage", "mute-audio", "hide-scrollbars",
}

// New starts a Chromium for t and returns its browser context; open pages with [Tab]. The
// browser is stopped when t ends. Missing Chromium skips the test, or fails it when the CI
// environment variable is set. extra adds to [Flags] (for example a
// chromedp.Flag("ignore-certificate-errors-spki-list", hash) that trusts one test key).
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return start(t, extra)
}

// NewWithFlags is New with command-line switches added to Flags: a name with a bool
// switches it on or off, a name with a string gives it a value (for example
// "ignore-certificate-errors-spki-list" to trust one test certificate, and no other).
func NewWithFlags(t testing.TB, extra map[string]any) context.Context {
	t.Helper()
	opts := make([]chromedp.ExecAllocatorOption, 0, len(extra))
	for name, v := range extra {
		opts = append(opts, chromedp.Flag(name, v))
	}
	return start(t, opts)
}

// start starts Chromium with Flags and the extra options.
func start(t testing.TB, extra []chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := ExecPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("browsertest: no Chromium found (install the chromium package or set HERALD_CHROMIUM); browser tests must not be skipped in CI")
		}
		t.Skip("browsertest: no Chromium found (install the chromium package or set HERALD_CHROMIUM)")
	}
	// The profile lives below t.TempDir, in a directory this package removes itself:
	// Chromium's helper processes can write to it for a moment after the browser exits.
	profile := filepath.Join(t.TempDir(), "profile")
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(profile)}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the browser process to exit
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("browsertest: cannot remove the profile %s", profile)
	})
	// The first Run starts the browser, with the lifetime of browser (not of a timeout).
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	return browser
}

// Tab opens a new tab in browser and returns its context, closed when t ends. Actions on
// one tab run in order; use one tab per simulated user.
func Tab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("browsertest: opening a tab: %v", err)
	}
	return tab
}

// Eval evaluates a JavaScript expression in tab and decodes its value into T, failing the
// test on error.
func Eval[T any](t testing.TB, tab context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// WaitFor polls the JavaScript expression cond in tab until it is truthy, failing the test
// with what (a description of the awaited state) after timeout.
func WaitFor(t testing.TB, tab context.Context, timeout time.Duration, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, timeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		t.Fatalf("waiting %v for %s (%s): %v", timeout, what, cond, err)
	}
}

// ArtifactDir is where browser tests leave their screenshots: $HERALD_ARTIFACTS, or
// herald-artifacts in the system's temporary directory. They are test output, never
// committed (.gitignore lists artifacts/ for a $HERALD_ARTIFACTS inside the checkout).
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("HERALD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "herald-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves the whole page in tab as ArtifactDir/name.png and logs where.
func Screenshot(t testing.TB, tab context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(ArtifactDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// Viewports are the screens page tests look at: a phone held upright and a laptop.
var Viewports = []struct {
	Name          string
	Width, Height int64
}{{"phone", 390, 844}, {"desktop", 1280, 900}}
