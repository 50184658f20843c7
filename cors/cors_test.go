package cors_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/heraldsse/herald/cors"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "hello")
})

// do sends one request to a server running p in front of hello.
func do(t *testing.T, p *cors.Policy, method string, header ...string) (*http.Response, string) {
	t.Helper()
	h, err := p.Handler(hello)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(method, srv.URL+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestPolicyRequests(t *testing.T) {
	t.Parallel()
	app := "https://app.example.com"
	listed := &cors.Policy{AllowedOrigins: []string{app, "http://localhost:8080"}}
	creds := &cors.Policy{AllowedOrigins: []string{app}, AllowCredentials: true, ExposedHeaders: []string{"Link"}}
	wildcard := &cors.Policy{AllowedOrigins: []string{"*"}}
	tests := []struct {
		name        string
		policy      *cors.Policy
		origin      string
		allowOrigin string
		allowCreds  string
		expose      string
	}{
		{"listed origin echoed", listed, app, app, "", ""},
		{"second listed origin", listed, "http://localhost:8080", "http://localhost:8080", "", ""},
		{"case-insensitive match echoes the request", listed, "HTTPS://APP.example.com", "HTTPS://APP.example.com", "", ""},
		{"other origin gets nothing", listed, "https://evil.example", "", "", ""},
		{"suffix trick gets nothing", listed, "https://app.example.com.evil.example", "", "", ""},
		{"other port gets nothing", listed, "http://localhost:8081", "", "", ""},
		{"other scheme gets nothing", listed, "http://app.example.com", "", "", ""},
		{"null origin gets nothing", listed, "null", "", "", ""},
		{"no origin gets nothing", listed, "", "", "", ""},
		{"credentials", creds, app, app, "true", "Link"},
		{"credentials never for others", creds, "https://evil.example", "", "", ""},
		{"wildcard", wildcard, "https://anyone.example", "*", "", ""},
		{"wildcard without origin", wildcard, "", "", "", ""},
		{"zero policy allows nobody", &cors.Policy{}, app, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h []string
			if tt.origin != "" {
				h = []string{"Origin", tt.origin}
			}
			resp, body := do(t, tt.policy, "GET", h...)
			if resp.StatusCode != 200 || body != "hello" {
				t.Fatalf("status %d body %q: the request must reach the handler", resp.StatusCode, body)
			}
			for name, want := range map[string]string{
				"Access-Control-Allow-Origin":      tt.allowOrigin,
				"Access-Control-Allow-Credentials": tt.allowCreds,
				"Access-Control-Expose-Headers":    tt.expose,
				"Access-Control-Allow-Methods":     "",
			} {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if !slices.Contains(resp.Header.Values("Vary"), "Origin") {
				t.Errorf("Vary = %q, want Origin", resp.Header.Values("Vary"))
			}
		})
	}
}

func TestPolicyPreflight(t *testing.T) {
	t.Parallel()
	app := "https://app.example.com"
	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		p := &cors.Policy{AllowedOrigins: []string{app}, AllowCredentials: true, MaxAge: 10 * time.Minute}
		resp, body := do(t, p, "OPTIONS", "Origin", app,
			"Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization, last-event-id")
		if resp.StatusCode != http.StatusNoContent || body != "" {
			t.Fatalf("status %d body %q, want 204 answered by the middleware", resp.StatusCode, body)
		}
		for name, want := range map[string]string{
			"Access-Control-Allow-Origin":      app,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, HEAD, POST",
			"Access-Control-Allow-Headers":     "Last-Event-ID, Authorization, Cache-Control, Content-Type",
			"Access-Control-Max-Age":           "600",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		vary := resp.Header.Values("Vary")
		for _, v := range []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"} {
			if !slices.Contains(vary, v) {
				t.Errorf("Vary %q lacks %s", vary, v)
			}
		}
	})
	t.Run("custom lists", func(t *testing.T) {
		t.Parallel()
		p := &cors.Policy{AllowedOrigins: []string{app}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}}
		resp, _ := do(t, p, "OPTIONS", "Origin", app, "Access-Control-Request-Method", "GET")
		if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "GET" {
			t.Errorf("methods %q", got)
		}
		if _, ok := resp.Header["Access-Control-Allow-Headers"]; ok {
			// An explicitly empty list is sent as an empty value: no extra headers allowed.
			if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "" {
				t.Errorf("headers %q", got)
			}
		}
		if _, ok := resp.Header["Access-Control-Max-Age"]; ok {
			t.Error("Max-Age sent without MaxAge")
		}
	})
	t.Run("disallowed", func(t *testing.T) {
		t.Parallel()
		p := &cors.Policy{AllowedOrigins: []string{app}, AllowCredentials: true}
		resp, _ := do(t, p, "OPTIONS", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
		for name := range resp.Header {
			if len(name) > 15 && name[:15] == "Access-Control-" {
				t.Errorf("CORS header %s sent to a disallowed origin", name)
			}
		}
	})
	t.Run("plain OPTIONS reaches the handler", func(t *testing.T) {
		t.Parallel()
		p := &cors.Policy{AllowedOrigins: []string{app}}
		resp, body := do(t, p, "OPTIONS", "Origin", app)
		if resp.StatusCode != 200 || body != "hello" {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
	})
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		policy  cors.Policy
		wantErr error
	}{
		{"ok", cors.Policy{AllowedOrigins: []string{"https://a.example", "http://127.0.0.1:8080"}, AllowCredentials: true}, nil},
		{"wildcard", cors.Policy{AllowedOrigins: []string{"*"}}, nil},
		{"zero", cors.Policy{}, nil},
		{"wildcard with credentials", cors.Policy{AllowedOrigins: []string{"https://a.example", "*"}, AllowCredentials: true}, cors.ErrWildcardCredentials},
		{"null", cors.Policy{AllowedOrigins: []string{"null"}}, cors.ErrInvalidOrigin},
		{"no scheme", cors.Policy{AllowedOrigins: []string{"a.example"}}, cors.ErrInvalidOrigin},
		{"path", cors.Policy{AllowedOrigins: []string{"https://a.example/app"}}, cors.ErrInvalidOrigin},
		{"trailing slash", cors.Policy{AllowedOrigins: []string{"https://a.example/"}}, cors.ErrInvalidOrigin},
		{"query", cors.Policy{AllowedOrigins: []string{"https://a.example?x"}}, cors.ErrInvalidOrigin},
		{"user info", cors.Policy{AllowedOrigins: []string{"https://u@a.example"}}, cors.ErrInvalidOrigin},
		{"empty", cors.Policy{AllowedOrigins: []string{""}}, cors.ErrInvalidOrigin},
		{"partial wildcard", cors.Policy{AllowedOrigins: []string{"https://*.example"}}, cors.ErrInvalidOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.policy.Check(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestHandlerRefusesBadPolicy checks that a policy Check refuses gives an error and no
// handler, and that MustHandler panics with that error.
func TestHandlerRefusesBadPolicy(t *testing.T) {
	t.Parallel()
	bad := &cors.Policy{AllowedOrigins: []string{"*"}, AllowCredentials: true}
	if h, err := bad.Handler(hello); !errors.Is(err, cors.ErrWildcardCredentials) || h != nil {
		t.Fatalf("Handler() = %v, %v; want nil, ErrWildcardCredentials", h, err)
	}
	if h, err := (&cors.Policy{AllowedOrigins: []string{"app.example"}}).Handler(hello); !errors.Is(err, cors.ErrInvalidOrigin) || h != nil {
		t.Fatalf("Handler() = %v, %v; want nil, ErrInvalidOrigin", h, err)
	}
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, cors.ErrWildcardCredentials) {
			t.Fatalf("MustHandler recovered %v, want ErrWildcardCredentials", err)
		}
	}()
	bad.MustHandler(hello)
	t.Fatal("MustHandler returned")
}
