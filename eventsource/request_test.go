package eventsource_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
)

// streamThenEnd answers requests 1 and 2 with one event each and ends them; the third it
// holds open.
func streamThenEnd(reqs *requests) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := reqs.add(r, string(body))
		startStream(w)
		send(w, "id: "+strconv.Itoa(n)+"\ndata: x\n\n")
		if n >= 3 {
			hold(r)
		}
	}
}

// TestBodySentOnEveryReconnection: the method and body of an LLM-style POST go with every
// attempt, from Body and from GetBody.
func TestBodySentOnEveryReconnection(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"Body", "GetBody"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			reqs := newRequests()
			srv := server(t, streamThenEnd(reqs))
			c := eventsource.New(srv.URL)
			c.Method = http.MethodPost
			const body = `{"model":"m","stream":true}`
			calls := 0
			if api == "Body" {
				c.Body = []byte(body)
			} else {
				c.GetBody = func() (io.Reader, error) { calls++; return bytes.NewReader([]byte(body)), nil }
			}
			c.ResendOnEnd = true // the streams end; a POST is sent again only when asked
			c.ReconnectionTime = 10 * time.Millisecond
			start(t, c)
			for i := range 3 {
				req := recv(t, reqs.ch)
				if req.method != http.MethodPost || req.body != body {
					t.Errorf("request %d: %s %q", i+1, req.method, req.body)
				}
			}
			c.Close()
			if api == "GetBody" && calls != 3 {
				t.Errorf("GetBody called %d times for 3 requests", calls)
			}
		})
	}
}

// TestCustomHeaders: headers given are sent on every attempt, and the client's own
// Last-Event-ID wins over one in Header.
func TestCustomHeaders(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, streamThenEnd(reqs))
	c := eventsource.New(srv.URL)
	c.Header = http.Header{
		"Authorization": {"Bearer sk-test"},
		"X-Multi":       {"a", "b"},
		"Last-Event-Id": {"forged"},
		"Accept":        {"application/json"},
	}
	c.LastEventID = "resume-here"
	c.ReconnectionTime = 10 * time.Millisecond
	start(t, c)
	for i, wantID := range []string{"resume-here", "1", "2"} {
		req := recv(t, reqs.ch)
		if got := req.header.Get("Authorization"); got != "Bearer sk-test" {
			t.Errorf("request %d: Authorization %q", i+1, got)
		}
		if got := req.header.Values("X-Multi"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("request %d: X-Multi %q", i+1, got)
		}
		if got := req.header.Values("Last-Event-Id"); len(got) != 1 || got[0] != wantID {
			t.Errorf("request %d: Last-Event-ID %q, want %q", i+1, got, wantID)
		}
		if got := req.header.Values("Accept"); len(got) != 1 || got[0] != "text/event-stream" {
			t.Errorf("request %d: Accept %q", i+1, got)
		}
	}
	if c.Header.Get("Accept") != "application/json" {
		t.Errorf("the client changed the caller's Header")
	}
}

// countingTransport counts the requests that go through it.
type countingTransport struct{ n atomic.Int32 }

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ct.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestInjectedHTTPClient: requests go through the given client.
func TestInjectedHTTPClient(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, streamThenEnd(reqs))
	ct := &countingTransport{}
	c := eventsource.New(srv.URL)
	c.HTTPClient = &http.Client{Transport: ct}
	c.ReconnectionTime = 10 * time.Millisecond
	msgs := collect(c)
	start(t, c)
	for range 3 {
		recv(t, msgs)
	}
	if n := ct.n.Load(); n != 3 {
		t.Errorf("%d requests through the transport, want 3", n)
	}
}

// TestCookiesWithCredentials: with credentials, a cookie the server sets on one
// connection goes with the next, and the jar's cookies go with the first; without, none
// is sent even when the HTTP client has a jar.
func TestCookiesWithCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		withCreds bool
		ownJar    bool // the cookie jar is the HTTP client's, else the client's Jar
	}{
		{"private jar", true, false},
		{"Jar option", true, false},
		{"HTTP client's jar", true, true},
		{"without credentials", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reqs := newRequests()
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				n := reqs.add(r, "")
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "s" + strconv.Itoa(n)})
				startStream(w)
				send(w, "data: x\n\n")
				if n >= 2 {
					hold(r)
				}
			})
			c := eventsource.New(srv.URL)
			c.WithCredentials = tc.withCreds
			c.ReconnectionTime = 10 * time.Millisecond
			var jar http.CookieJar
			if tc.name != "private jar" {
				jar, _ = cookiejar.New(nil)
				u, _ := url.Parse(srv.URL)
				jar.SetCookies(u, []*http.Cookie{{Name: "pref", Value: "dark"}})
				if tc.ownJar {
					c.HTTPClient = &http.Client{Jar: jar}
				} else {
					c.Jar = jar
				}
			}
			start(t, c)
			first, second := recv(t, reqs.ch), recv(t, reqs.ch)
			c.Close()
			cookie := func(r recorded, name string) string {
				req := &http.Request{Header: r.header}
				if ck, err := req.Cookie(name); err == nil {
					return ck.Value
				}
				return ""
			}
			wantPref := ""
			if tc.withCreds && jar != nil {
				wantPref = "dark"
			}
			wantSession := ""
			if tc.withCreds {
				wantSession = "s1"
			}
			if got := cookie(first, "pref"); got != wantPref {
				t.Errorf("first request: pref=%q, want %q", got, wantPref)
			}
			if got := cookie(first, "session"); got != "" {
				t.Errorf("first request: session=%q", got)
			}
			if got := cookie(second, "session"); got != wantSession {
				t.Errorf("reconnection: session=%q, want %q", got, wantSession)
			}
		})
	}
}
