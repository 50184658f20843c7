package mercure_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

// TestPublishFormErrors pins the answers to forms that net/http's r.ParseForm refuses, which
// the publish handler must keep giving now that it parses the form itself: the error of
// the content type's parameters, of the body, and of the URL's query, in that order.
func TestPublishFormErrors(t *testing.T) {
	th := startHub(t, mercure.Config{MaxBodyBytes: 1000}, history.Retention{}, 0)
	tok := token(t, pubKey, []string{"*"}, nil, time.Hour)
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name, query, ct, body string
		chunked               bool
		status                int
		message               string
	}{
		{"semicolon", "", form, "topic=a;data=b", false, 400, "cannot be parsed: invalid semicolon separator in query"},
		{"bad escape in a name", "", form, "topic=a&%zz=b", false, 400, `cannot be parsed: invalid URL escape "%zz"`},
		{"bad escape in the query", "?x=%zz", form, "topic=a&data=b", false, 400, `cannot be parsed: invalid URL escape "%zz"`},
		{"semicolon in the query", "?x;y", form, "topic=a&data=b", false, 400, "cannot be parsed: invalid semicolon separator in query"},
		{"body before query", "?x=%zz", form, "topic=a&data=%yy", false, 400, `invalid URL escape "%yy"`},
		{"bad parameter", "", form + "; charset", "topic=a&data=b", false, 400, "cannot be parsed: mime: invalid media parameter"},
		{"duplicate parameter", "", form + "; a=1; a=2", "topic=a&data=b", false, 400, "cannot be parsed: mime: duplicate parameter name"},
		{"too large", "", form, "topic=a&data=" + strings.Repeat("x", 1000), false, 413, "larger than 1000 bytes"},
		{"too large, chunked", "", form, "topic=a&data=" + strings.Repeat("x", 1000), true, 413, "larger than 1000 bytes"},
		{"good parameter", "", form + "; charset=utf-8", "topic=a&data=b", false, 200, "urn:uuid:"},
		{"good query", "?x=y", form, "topic=a&data=b", false, 200, "urn:uuid:"},
		{"chunked", "", form, "topic=a&data=b", true, 200, "urn:uuid:"},
	}
	for _, tc := range cases {
		body := strings.NewReader(tc.body)
		req, _ := http.NewRequest(http.MethodPost, th.url()+tc.query, body)
		if tc.chunked {
			req.ContentLength = -1
			req.Body = io.NopCloser(struct{ io.Reader }{body}) // no Len: sent chunked
			req.GetBody = nil
		}
		req.Header.Set("Content-Type", tc.ct)
		req.Header.Set("Authorization", "Bearer "+tok)
		status, got := th.do(req)
		if status != tc.status || !strings.Contains(got, tc.message) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, status, strings.TrimSpace(got), tc.status, tc.message)
		}
	}
}

// TestPublishTooLargeKeepsConnection pins the 413's head: the body's limit does not make
// net/http close the connection ("Connection: close"), which is left to its usual handling.
func TestPublishTooLargeKeepsConnection(t *testing.T) {
	th := startHub(t, mercure.Config{MaxBodyBytes: 1000}, history.Retention{}, 0)
	req, _ := http.NewRequest(http.MethodPost, th.url(), strings.NewReader("topic=a&data="+strings.Repeat("x", 1000)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token(t, pubKey, []string{"*"}, nil, time.Hour))
	resp, err := th.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Close {
		t.Fatalf("%s, Connection %q: want 413 on a connection left open", resp.Status, resp.Header.Get("Connection"))
	}
}

// TestPublishRefusedCounts checks that Metrics.PublishRefused counts the publishes answered
// with a 4xx, and neither accepted publishes nor other requests' refusals.
func TestPublishRefusedCounts(t *testing.T) {
	th := startHub(t, mercure.Config{}, history.Retention{}, 0)
	refused := &th.handler.Metrics().PublishRefused
	th.mustPublish(url.Values{"topic": {"a"}, "data": {"x"}})
	if status, _ := th.publishWith("", url.Values{"topic": {"a"}}); status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", status)
	}
	if status, _ := th.publishWith(token(t, pubKey, []string{"b"}, nil, time.Hour), url.Values{"topic": {"a"}}); status != http.StatusForbidden {
		t.Fatalf("topic not granted: %d", status)
	}
	if status, _ := th.publish(url.Values{"data": {"no topic"}}); status != http.StatusBadRequest {
		t.Fatalf("no topic: %d", status)
	}
	for _, r := range []struct{ method, path string }{
		{http.MethodPut, mercure.Path},            // 405
		{http.MethodPost, mercure.Path + "/nope"}, // 404
		{http.MethodGet, mercure.Path},            // 400: no topic to subscribe to
	} {
		req, _ := http.NewRequest(r.method, th.srv.URL+r.path, nil)
		if status, _ := th.do(req); status < 400 || status >= 500 {
			t.Fatalf("%s %s: %d", r.method, r.path, status)
		}
	}
	if n := refused.Load(); n != 3 {
		t.Fatalf("PublishRefused %d, want 3", n)
	}
}
