package eventsource_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldsse/herald/eventsource"
)

// TestStatusErrorReason: a refused subscribe reports the server's reason from a plain-text
// or JSON body, on one line, without the control characters a hostile server might send;
// an HTML page gives no reason.
func TestStatusErrorReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, contentType, body, want string
	}{
		{"plain", "text/plain; charset=utf-8", "missing topic selector\n", "missing topic selector"},
		{"first line only", "text/plain", "bad token\nsecond line", "bad token"},
		{"escapes dropped", "text/plain", "no \x1b[31mred\x1b[0m here", "no [31mred[0m here"},
		{"json", "application/problem+json", `{"title":"nope"}`, `{"title":"nope"}`},
		{"html", "text/html", "<h1>Forbidden</h1>", ""},
		{"long", "text/plain", strings.Repeat("x", 5000), strings.Repeat("x", 512)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(tc.body))
			})
			err := eventsource.New(srv.URL).Run(t.Context())
			var serr *eventsource.StatusError
			if !errors.As(err, &serr) || serr.StatusCode != 400 {
				t.Fatalf("Run = %v, want a StatusError 400", err)
			}
			if serr.Reason != tc.want {
				t.Fatalf("Reason = %q, want %q", serr.Reason, tc.want)
			}
			if tc.want != "" && !strings.HasSuffix(err.Error(), "400 Bad Request: "+tc.want) {
				t.Fatalf("Error() = %q", err.Error())
			}
		})
	}
}
