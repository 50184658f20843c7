package mercure_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
	"github.com/heraldsse/herald/sse"
)

// FuzzPublishForm sends arbitrary form bodies to the publish handler. Whatever the body,
// the answer is 200 with an id or a 4xx, and an accepted update can be written to a stream
// without breaking it.
func FuzzPublishForm(f *testing.F) {
	for _, s := range []string{
		"topic=a&data=b",
		"topic=a&topic=b&id=x&type=t&retry=10&private=on&data=l1%0Al2",
		"topic=a&id=%23x", "topic=a&id=a%0Ab", "topic=&data=", "data=x", "topic=a&retry=-1",
		"topic=a&type=%0D", "%zz", "topic=a&id=earliest", "topic=a&retry=99999999999999999999",
	} {
		f.Add(s)
	}
	log := history.NewMemory(history.Retention{MaxCount: 1000}, nil)
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		f.Fatal(err)
	}
	verifier := mustVerifier(f, pubKey)
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: verifier})
	if err != nil {
		f.Fatal(err)
	}
	tok := signHS256(pubKey, []string{"*"}, nil, time.Hour)
	f.Cleanup(func() { h.Close(); log.Close() })
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, mercure.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
			id := rec.Body.String()
			if sse.CheckID(id) != nil || id == "" || strings.HasPrefix(id, "#") {
				t.Fatalf("accepted an unusable id %q", id)
			}
		case rec.Code >= 400 && rec.Code < 500:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
