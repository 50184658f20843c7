package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/internal/browsertest"
)

// TestClockLayout looks at the page on a phone and on a laptop: it fits the screen (a
// viewport meta tag, no overflow), the time is on the first screen in readable type, the
// list of events stays bounded, and Connect opens a new stream after Disconnect.
func TestClockLayout(t *testing.T) {
	browser := browsertest.New(t)
	for _, vp := range browsertest.Viewports {
		t.Run(vp.Name, func(t *testing.T) {
			tab, w := startPage(t, browser, 10*time.Second, 20*time.Millisecond)
			if err := chromedp.Do(tab, chromedp.EmulateViewport(vp.Width, vp.Height)); err != nil {
				t.Fatal(err)
			}
			first := w.nextConn(t, 5*time.Second)
			if got := browsertest.Eval[string](t, tab, `document.querySelector('meta[name=viewport]')?.content ?? ''`); got != "width=device-width, initial-scale=1" {
				t.Errorf("viewport meta %q", got)
			}
			browsertest.WaitFor(t, tab, 10*time.Second, "more dates than the list keeps", `document.querySelector("#messages li[data-type=message]")?.dataset.id > 60`)
			if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("#messages li").length`); n > 30 {
				t.Errorf("the list holds %d items, want at most 30", n)
			}
			if w := browsertest.Eval[float64](t, tab, `document.documentElement.scrollWidth`); w > float64(vp.Width) {
				t.Errorf("the page is %.0f px wide on a %d px screen", w, vp.Width)
			}
			if bottom := browsertest.Eval[float64](t, tab, `document.getElementById('now').getBoundingClientRect().bottom`); bottom > float64(vp.Height) {
				t.Errorf("the time ends %.0f px down a %d px screen", bottom, vp.Height)
			}
			if size := browsertest.Eval[float64](t, tab, `parseFloat(getComputedStyle(document.getElementById('now')).fontSize)`); size < 20 {
				t.Errorf("the time is set in %.0f px type", size)
			}
			if !browsertest.Eval[bool](t, tab, `document.getElementById("now").textContent.endsWith(" UTC")`) {
				t.Errorf("the time shows %q", browsertest.Eval[string](t, tab, `document.getElementById('now').textContent`))
			}

			// Disconnect, then Connect: a new stream, and the page is open again. (Clicked from
			// script: chromedp's queries wait for a DOM that a 20 ms ticker never lets settle.)
			if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`document.getElementById("disconnect").click()`)); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitFor(t, tab, 2*time.Second, "readyState closed", state+` === "closed"`)
			select {
			case <-first.ended:
			case <-time.After(5 * time.Second):
				t.Fatal("the stream still runs after Disconnect")
			}
			if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`document.getElementById("connect").click()`)); err != nil {
				t.Fatal(err)
			}
			w.nextConn(t, 5*time.Second)
			browsertest.WaitFor(t, tab, 5*time.Second, "readyState open again", state+` === "open"`)
			if browsertest.Eval[bool](t, tab, `document.getElementById('connect').disabled`) != true {
				t.Errorf("Connect is enabled while open")
			}
			browsertest.Screenshot(t, tab, "clock-"+vp.Name)
		})
	}
}
