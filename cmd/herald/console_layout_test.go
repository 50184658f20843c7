package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/browsertest"
)

const consoleKey = "console-layout-test-key-0123456789abcdef"

// The console on a phone and on a laptop, in a real Chromium: a refused subscribe says why
// and Connect works again at once; a type published from the page shows without typing
// it in; the last event id stays on one line; the events are on the first screen; commands
// wrap between words and copy whole; errors do not repeat the status's words.
func TestConsoleLayout(t *testing.T) {
	base, _, stop := startServe(t, "--jwt-key", consoleKey, "--history-size", "100")
	defer stop()
	tok, err := auth.Mint([]byte(consoleKey), "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	for _, vp := range browsertest.Viewports {
		t.Run(vp.Name, func(t *testing.T) {
			tab := browsertest.Tab(t, b)
			must := func(actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(tab, actions...); err != nil {
					t.Fatal(err)
				}
			}
			// Reading the clipboard back needs the permission a person would grant.
			for _, name := range []string{"clipboard-read", "clipboard-write"} {
				if _, err := chromedp.CallBrowser(tab, browser.SetPermission, browser.SetPermissionParams{
					Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: base,
				}); err != nil {
					t.Fatal(err)
				}
			}
			must(chromedp.EmulateViewport(vp.Width, vp.Height),
				chromedp.Navigate(base+"/.well-known/mercure/ui/"),
				chromedp.WaitVisible("#subscribe-form"))
			eval := func(expr string) string { t.Helper(); return browsertest.Eval[string](t, tab, expr) }
			num := func(expr string) float64 { t.Helper(); return browsertest.Eval[float64](t, tab, expr) }
			openAll := `for (const d of document.querySelectorAll('details')) d.open = true`

			if vp.Width < 700 {
				if got := eval(`String(document.getElementById('publish').open)`); got != "false" {
					t.Errorf("on a phone the publish panel starts open")
				}
			}

			// A refused subscribe: a token the hub did not sign.
			must(chromedp.Evaluate[chromedp.Void](openAll),
				chromedp.SetValue("#sub-token", "not.a.token"),
				chromedp.Click("#connect"))
			browsertest.WaitFor(t, tab, 10*time.Second, "the reason for the refusal",
				`document.getElementById('sub-result').textContent.startsWith('Refused: 401 Unauthorized: ')`)
			if why := eval(`document.getElementById('sub-result').textContent`); strings.Contains(strings.ToLower(why), "unauthorized: unauthorized") {
				t.Errorf("the reason repeats itself: %q", why)
			}
			if eval(`String(document.getElementById('connect').disabled)`) != "false" {
				t.Fatalf("Connect is disabled after a refusal")
			}
			// A selector past --max-topic-bytes: 400 with the hub's reason; then a good one,
			// without Disconnect.
			must(chromedp.Evaluate[chromedp.Void](`document.getElementById("sub-token").value = ""`),
				chromedp.SetValue("#sub-topics", "https://example.com/"+strings.Repeat("x", 3000)), chromedp.Click("#connect"))
			browsertest.WaitFor(t, tab, 10*time.Second, "the 400 reason", `document.getElementById('sub-result').textContent.startsWith('Refused: 400 Bad Request: ')`)
			must(chromedp.SetValue("#sub-topics", "*"), chromedp.Click("#connect"))
			browsertest.WaitFor(t, tab, 10*time.Second, "the state to read open", `document.getElementById('state').textContent === 'open'`)
			if eval(`document.getElementById('sub-result').textContent`) != "" {
				t.Errorf("the old refusal is still shown once open")
			}

			// Publish a named type from the page, which the subscribe form never named.
			topic := "https://example.com/" + vp.Name
			must(chromedp.SetValue("#pub-topics", topic),
				chromedp.SetValue("#pub-data", "hello from the "+vp.Name),
				chromedp.SetValue("#pub-type", "review"),
				chromedp.SetValue("#pub-token", tok),
				chromedp.Click("#send"))
			browsertest.WaitFor(t, tab, 10*time.Second, "the review event in the list",
				`[...document.querySelectorAll('#event-list li .type')].some(e => e.textContent === 'review')`)
			// The event can come back on the stream before the publish's own answer does.
			browsertest.WaitFor(t, tab, 10*time.Second, "the publish's answer",
				`document.getElementById('publish-result').textContent.startsWith('Published: ')`)
			id := eval(`document.getElementById('publish-result').textContent.replace('Published: ', '')`)

			// The last event id: one line, whole in the title.
			if h, lh := num(`document.getElementById('last-id').getBoundingClientRect().height`), num(`parseFloat(getComputedStyle(document.getElementById('last-id')).lineHeight) || 20`); h > lh*1.5 {
				t.Errorf("the last event id takes %.0f px, more than one line (%.0f px)", h, lh)
			}
			if got := eval(`document.getElementById('last-id').title`); got != id {
				t.Errorf("the last event id's title is %q, want %q", got, id)
			}

			// The command wraps between words: --token is never split.
			if n := num(`(() => { const s = [...document.querySelectorAll('#herald-command .w')].find(e => e.textContent === '--token'); return s ? s.getClientRects().length : -1 })()`); n != 1 {
				t.Errorf("--token is laid out in %v pieces", n)
			}
			must(chromedp.Click(`button[data-copy="herald-command"]`))
			browsertest.WaitFor(t, tab, 5*time.Second, "the copy button to say Copied", `document.querySelector('button[data-copy="herald-command"]').textContent === 'Copied'`)
			clip, err := chromedp.Run(tab, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if want := eval(`document.getElementById('herald-command').textContent`); clip != want || !strings.Contains(clip, "--token '"+tok+"'") {
				t.Errorf("the clipboard holds %q, want %q", clip, want)
			}

			// A refused publish: no repeated words.
			must(chromedp.SetValue("#pub-token", "not.a.token"), chromedp.Click("#send"))
			browsertest.WaitFor(t, tab, 10*time.Second, "the publish refusal", `document.getElementById('publish-result').textContent.startsWith('401 Unauthorized: ')`)
			if why := eval(`document.getElementById('publish-result').textContent`); strings.Contains(strings.ToLower(why), "unauthorized: unauthorized") {
				t.Errorf("the publish refusal repeats itself: %q", why)
			}

			// Fold the panels again as a fresh page has them, then look.
			must(chromedp.Reload(), chromedp.WaitVisible("#subscribe-form"), chromedp.Click("#connect"))
			browsertest.WaitFor(t, tab, 10*time.Second, "the state to read open", `document.getElementById('state').textContent === 'open'`)
			if w := num(`document.documentElement.scrollWidth`); w > float64(vp.Width) {
				t.Errorf("the page is %.0f px wide on a %d px screen", w, vp.Width)
			}
			if top := num(`document.getElementById('events').getBoundingClientRect().top + scrollY`); top > float64(vp.Height)-150 {
				t.Errorf("the events start %.0f px down a %d px screen", top, vp.Height)
			}
			browsertest.Screenshot(t, tab, "console-"+vp.Name)
		})
	}
}
