package mercure_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
)

// A hub in a few lines: a history, the hub on it, and the protocol handler in front.
func ExampleNew() {
	log := history.NewMemory(history.Retention{MaxCount: 1000}, nil)
	defer log.Close()
	h, _ := hub.New(hub.Config{Log: log})
	defer h.Close()
	secret := []byte("an example secret of 32 bytes!!!")
	verifier, _ := auth.NewVerifier("HS256", secret)
	handler, _ := mercure.New(mercure.Config{Hub: h, Publisher: verifier, Anonymous: true})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	defer handler.Shutdown(time.Now().Add(time.Second))

	// Subscribe, as a browser's EventSource would.
	resp, err := http.Get(srv.URL + mercure.Path + "?topic=" + url.QueryEscape("https://example.com/books/{id}"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()

	// Publish with a token allowed to publish to the book's topic.
	token, _ := auth.Mint(secret, "HS256", auth.Claims{Publish: []string{"https://example.com/books/1"}}, time.Minute)
	form := url.Values{"topic": {"https://example.com/books/1"}, "data": {`{"title":"Dune"}`}, "id": {"book-1-v2"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+mercure.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	answer, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	id, _ := io.ReadAll(answer.Body)
	answer.Body.Close()
	fmt.Println("published", string(id))

	// The subscriber's stream: an opening comment, then the update.
	r := bufio.NewReader(resp.Body)
	for {
		line, _ := r.ReadString('\n')
		fmt.Print(line)
		if line == "\n" {
			break
		}
	}
	// Output:
	// published book-1-v2
	// :
	// id: book-1-v2
	// data: {"title":"Dune"}
}

// Mount puts the protocol and the health and readiness probes on a mux of your own, beside
// your other routes.
func ExampleHandler_Mount() {
	log := history.NewMemory(history.Retention{MaxCount: 1000}, nil)
	defer log.Close()
	h, _ := hub.New(hub.Config{Log: log})
	defer h.Close()
	verifier, _ := auth.NewVerifier("HS256", []byte("an example secret of 32 bytes!!!"))
	handler, _ := mercure.New(mercure.Config{Hub: h, Publisher: verifier})
	defer handler.Shutdown(time.Now().Add(time.Second))

	mux := http.NewServeMux()
	handler.Mount(mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "my app") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + mercure.ReadyPath)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.Status, " ", string(body))
	// Output:
	// 200 OK ready
}
