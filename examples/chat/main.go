// Command chat is a chat room over Server-Sent Events: messages go up as plain HTTP POSTs
// and come down to everyone as events.
//
//	go run ./examples/chat [-addr localhost:8083]
//
// Open the page in two browser tabs, pick a name in each and talk. GET /events?username=NAME
// joins the room: everyone gets a userconnect event, then each message is a usermessage
// event and leaving is a userdisconnect event, all with JSON data
// {"username": ..., "time": RFC 3339, "text": ...}. POST /messages with the form fields
// username and text says something. There is no login: a demo trusts the name it is given.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldsse/herald/examples/internal/demo"
	"github.com/heraldsse/herald/sse"
)

//go:embed index.html
var page []byte

// Limits on what a client may send.
const (
	maxUsername = 32   // runes
	maxText     = 2000 // bytes
	maxBody     = 8 << 10
	queueLen    = 64 // events buffered per member before it counts as too slow
)

func main() {
	addr := flag.String("addr", "localhost:8083", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo.Serve(ctx, "chat", *addr, newServer(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// newServer returns the page at /, the room's stream at /events and the POST endpoint at
// /messages.
func newServer() http.Handler {
	rm := &room{members: make(map[chan sse.Event]struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("GET /events", rm.serveEvents)
	mux.HandleFunc("POST /messages", rm.serveMessage)
	return mux
}

// message is the JSON data of every event.
type message struct {
	Username string `json:"username"`
	Time     string `json:"time"`
	Text     string `json:"text"`
}

// room fans each event out to every member's queue.
type room struct {
	mu      sync.Mutex
	members map[chan sse.Event]struct{}
}

// broadcast queues an event for every member. A member whose queue is full is dropped
// (its stream ends and its browser reconnects) rather than slowing everyone else down.
func (rm *room) broadcast(typ string, m message) {
	data, _ := json.Marshal(m) // cannot fail for three strings
	ev := sse.Event{Type: typ, Data: string(data)}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for q := range rm.members {
		select {
		case q <- ev:
		default:
			delete(rm.members, q)
			close(q)
		}
	}
}

func (rm *room) join() chan sse.Event {
	q := make(chan sse.Event, queueLen)
	rm.mu.Lock()
	rm.members[q] = struct{}{}
	rm.mu.Unlock()
	return q
}

func (rm *room) leave(q chan sse.Event) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if _, ok := rm.members[q]; ok {
		delete(rm.members, q)
		close(q)
	}
}

func (rm *room) serveEvents(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("username")
	if err := checkUsername(name); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s, err := sse.NewStream(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer s.Close()
	q := rm.join()
	defer func() {
		rm.leave(q)
		rm.broadcast("userdisconnect", message{name, now(), name + " left"})
	}()
	rm.broadcast("userconnect", message{name, now(), name + " joined"})
	for {
		select {
		case <-s.Done():
			return
		case ev, ok := <-q:
			if !ok || s.Send(ev) != nil {
				return // too slow, or gone
			}
		}
	}
}

func (rm *room) serveMessage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "chat: cannot read the form: "+err.Error(), http.StatusBadRequest)
		return
	}
	name, text := r.PostForm.Get("username"), r.PostForm.Get("text")
	if err := errors.Join(checkUsername(name), checkText(text)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rm.broadcast("usermessage", message{name, now(), text})
	w.WriteHeader(http.StatusNoContent)
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

func checkUsername(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("chat: username is required")
	case !utf8.ValidString(name):
		return errors.New("chat: username is not valid UTF-8")
	case utf8.RuneCountInString(name) > maxUsername:
		return fmt.Errorf("chat: username longer than %d characters", maxUsername)
	case strings.ContainsFunc(name, unicode.IsControl):
		return errors.New("chat: username contains control characters")
	}
	return nil
}

func checkText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return errors.New("chat: text is required")
	case !utf8.ValidString(text):
		return errors.New("chat: text is not valid UTF-8")
	case len(text) > maxText:
		return fmt.Errorf("chat: text longer than %d bytes", maxText)
	}
	return nil
}
