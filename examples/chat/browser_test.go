package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/heraldsse/herald/internal/browsertest"
)

// TestBrowserChat has two tabs join the room; what one sends, the other shows.
func TestBrowserChat(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newServer())
	t.Cleanup(srv.Close)
	browser := browsertest.New(t)
	join := func(name string) context.Context {
		tab := browsertest.Tab(t, browser)
		t.Cleanup(func() { chromedp.Cancel(tab) }) // before srv.Close, which waits for streams
		err := chromedp.Do(tab,
			chromedp.Navigate(srv.URL),
			chromedp.SendKeys("#username", name),
			chromedp.Click("#join button"),
		)
		if err != nil {
			t.Fatal(err)
		}
		browsertest.WaitFor(t, tab, 5*time.Second, name+" joined",
			`[...document.querySelectorAll("li[data-type=userconnect]")].some(li => li.dataset.username === "`+name+`")`)
		return tab
	}
	alice := join("alice")
	bob := join("bob")
	browsertest.WaitFor(t, alice, 5*time.Second, "alice to see bob join",
		`[...document.querySelectorAll("li[data-type=userconnect]")].some(li => li.dataset.username === "bob")`)

	err := chromedp.Do(alice,
		chromedp.SendKeys("#text", "hello <b>bob</b>"),
		chromedp.Click("#talk button"),
	)
	if err != nil {
		t.Fatal(err)
	}
	const got = `[...document.querySelectorAll("li[data-type=usermessage]")].some(li => li.textContent.endsWith("alice: hello <b>bob</b>") && !li.querySelector("b"))`
	browsertest.WaitFor(t, bob, 5*time.Second, "bob to get alice's message, as text", got)
	browsertest.WaitFor(t, alice, 5*time.Second, "alice to see her own message", got)

	// Bob closes his tab: alice is told he left.
	if err := chromedp.Cancel(bob); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, alice, 5*time.Second, "alice to see bob leave",
		`[...document.querySelectorAll("li[data-type=userdisconnect]")].some(li => li.dataset.username === "bob")`)
}
