package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(newServer())
	t.Cleanup(srv.Close)
	return srv
}

// member joins the room as name and returns its decoder and a function that leaves.
func member(t *testing.T, srv *httptest.Server, name string) (*sse.Decoder, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events?username="+url.QueryEscape(name), nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("join as %q: %s", name, resp.Status)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return sse.NewDecoder(resp.Body), cancel
}

// expect reads the next event and checks its type, username and text.
func expect(t *testing.T, dec *sse.Decoder, typ, username, text string) {
	t.Helper()
	ev, err := dec.Next()
	if err != nil {
		t.Fatal(err)
	}
	var m message
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		t.Fatalf("data %q: %v", ev.Data, err)
	}
	if ev.Type != typ || m.Username != username || m.Text != text {
		t.Fatalf("got %s %+v, want %s from %q saying %q", ev.Type, m, typ, username, text)
	}
	if at, err := time.Parse(time.RFC3339, m.Time); err != nil || time.Since(at) > time.Minute {
		t.Fatalf("time %q (%v)", m.Time, err)
	}
}

func post(t *testing.T, srv *httptest.Server, form url.Values) (int, string) {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.URL+"/messages", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestRoom(t *testing.T) {
	t.Parallel()
	srv := start(t)
	alice, _ := member(t, srv, "alice")
	expect(t, alice, "userconnect", "alice", "alice joined")
	bob, bobLeaves := member(t, srv, "bob")
	expect(t, alice, "userconnect", "bob", "bob joined")
	expect(t, bob, "userconnect", "bob", "bob joined")

	// Line breaks and field names in a message stay inside its JSON data.
	text := "hi alice\n\nevent: userdisconnect\ndata: {}"
	if code, body := post(t, srv, url.Values{"username": {"bob"}, "text": {text}}); code != http.StatusNoContent {
		t.Fatalf("POST: %d %s", code, body)
	}
	expect(t, alice, "usermessage", "bob", text)
	expect(t, bob, "usermessage", "bob", text)

	bobLeaves()
	expect(t, alice, "userdisconnect", "bob", "bob left")
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	srv := start(t)
	for _, tt := range []struct {
		name, username string
	}{
		{"no username", ""},
		{"blank username", "   "},
		{"control character", "bob\x07"},
		{"invalid UTF-8", "bob\xff"},
		{"too long", strings.Repeat("é", maxUsername+1)},
	} {
		t.Run("join/"+tt.name, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + "/events?username=" + url.QueryEscape(tt.username))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), "chat: username") {
				t.Fatalf("%d %q, want 400 naming the username", resp.StatusCode, body)
			}
		})
	}
	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no text", url.Values{"username": {"bob"}}, "chat: text is required"},
		{"no username", url.Values{"text": {"hi"}}, "chat: username is required"},
		{"text invalid UTF-8", url.Values{"username": {"bob"}, "text": {"\xc3("}}, "chat: text is not valid UTF-8"},
		{"text too long", url.Values{"username": {"bob"}, "text": {strings.Repeat("x", maxText+1)}}, "chat: text longer"},
		{"body too large", url.Values{"username": {"bob"}, "text": {strings.Repeat("x", maxBody)}}, "chat: cannot read the form"},
	} {
		t.Run("post/"+tt.name, func(t *testing.T) {
			code, body := post(t, srv, tt.form)
			if code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %q, want 400 with %q", code, body, tt.want)
			}
		})
	}
	resp, err := srv.Client().Get(srv.URL + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /messages: %d", resp.StatusCode)
	}
}

// TestSlowMemberDropped checks that a member who does not keep up is dropped instead of
// holding the room back.
func TestSlowMemberDropped(t *testing.T) {
	t.Parallel()
	rm := &room{members: make(map[chan sse.Event]struct{})}
	slow, fast := rm.join(), rm.join()
	got := 0
	for range queueLen + 1 {
		rm.broadcast("usermessage", message{"a", now(), "x"})
		<-fast
		got++
	}
	n := 0
	for range slow {
		n++
	}
	if n != queueLen || got != queueLen+1 {
		t.Fatalf("slow member got %d queued events before being dropped, fast got %d", n, got)
	}
	rm.mu.Lock()
	_, kept := rm.members[slow]
	rm.mu.Unlock()
	if kept {
		t.Fatal("slow member still in the room")
	}
	rm.leave(slow) // leaving after being dropped is harmless
	rm.leave(fast)
}
