package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/internal/browsertest"
)

// TestChatLayout looks at the room on a phone and on a laptop: it fits the screen (a
// viewport meta tag, no overflow, readable type), the list of messages stays bounded, and
// after Leave one can join again.
func TestChatLayout(t *testing.T) {
	srv := httptest.NewServer(newServer())
	t.Cleanup(srv.Close)
	browser := browsertest.New(t)
	for _, vp := range browsertest.Viewports {
		t.Run(vp.Name, func(t *testing.T) {
			tab := browsertest.Tab(t, browser)
			t.Cleanup(func() { chromedp.Cancel(tab) }) // before srv.Close, which waits for streams
			name := "ann-" + vp.Name
			if err := chromedp.Do(tab,
				chromedp.EmulateViewport(vp.Width, vp.Height),
				chromedp.Navigate(srv.URL),
				chromedp.SendKeys("#username", name),
				chromedp.Click("#join button"),
			); err != nil {
				t.Fatal(err)
			}
			joined := func(n int) string {
				return fmt.Sprintf(`[...document.querySelectorAll("li[data-type=userconnect]")].filter(li => li.dataset.username === %q).length >= %d`, name, n)
			}
			browsertest.WaitFor(t, tab, 5*time.Second, name+" joined", joined(1))
			if got := browsertest.Eval[string](t, tab, `document.querySelector('meta[name=viewport]')?.content ?? ''`); got != "width=device-width, initial-scale=1" {
				t.Errorf("viewport meta %q", got)
			}

			// More messages than the page keeps, in batches that fit a member's queue.
			for batch := range 5 {
				for i := range 50 {
					resp, err := http.PostForm(srv.URL+"/messages", url.Values{"username": {"bot"}, "text": {fmt.Sprintf("message %d-%d from the %s test", batch, i, vp.Name)}})
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
				}
				browsertest.WaitFor(t, tab, 10*time.Second, "the batch's last message", fmt.Sprintf(`document.getElementById('messages').lastElementChild.textContent.endsWith("message %d-49 from the %s test")`, batch, vp.Name))
			}
			if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("#messages li").length`); n > 200 {
				t.Errorf("the list holds %d messages, want at most 200", n)
			}
			if w := browsertest.Eval[float64](t, tab, `document.documentElement.scrollWidth`); w > float64(vp.Width) {
				t.Errorf("the page is %.0f px wide on a %d px screen", w, vp.Width)
			}
			if bottom := browsertest.Eval[float64](t, tab, `document.getElementById('talk').getBoundingClientRect().bottom`); bottom > float64(vp.Height) {
				t.Errorf("the message box ends %.0f px down a %d px screen", bottom, vp.Height)
			}
			if size := browsertest.Eval[float64](t, tab, `parseFloat(getComputedStyle(document.getElementById('text')).fontSize)`); size < 16 {
				t.Errorf("the message box uses %.0f px type (phones zoom in below 16 px)", size)
			}
			browsertest.Screenshot(t, tab, "chat-"+vp.Name)

			// Leave, then join again.
			before := browsertest.Eval[int](t, tab, fmt.Sprintf(`[...document.querySelectorAll("li[data-type=userconnect]")].filter(li => li.dataset.username === %q).length`, name))
			if err := chromedp.Do(tab, chromedp.Click("#leave")); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitFor(t, tab, 5*time.Second, "the join form again", `getComputedStyle(document.getElementById('join')).display !== 'none'`)
			if err := chromedp.Do(tab, chromedp.Click("#join button")); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitFor(t, tab, 5*time.Second, name+" joined again", joined(before+1))
		})
	}
}
