package cors_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/heraldsse/herald/cors"
)

func ExamplePolicy_Handler() {
	p := &cors.Policy{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true}
	events := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	h, err := p.Handler(events)
	if err != nil {
		fmt.Println(err) // a policy that Check refuses, such as "*" with credentials
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, origin := range []string{"https://app.example.com", "https://evil.example"} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Origin", origin)
		resp, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Printf("%s: allow-origin %q, credentials %q\n", origin,
			resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"))
	}
	// Output:
	// https://app.example.com: allow-origin "https://app.example.com", credentials "true"
	// https://evil.example: allow-origin "", credentials ""
}
