package mercure_test

import (
	"io"
	"net/http"
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
