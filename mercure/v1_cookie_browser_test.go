package mercure_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/browsertest"
	"github.com/heraldsse/herald/mercure"
)

const cookiePage = `<!doctype html><meta charset="utf-8"><title>1.0 cookie subscriber</title>
<script>
window.got = [];
window.opens = 0;
const es = new EventSource('/.well-known/mercure?match_urlpattern=' + encodeURIComponent('/private/:id'));
es.onopen = () => { window.opens++; };
es.onmessage = (e) => window.got.push(e.data);
</script>`

// A real browser on an HTTPS page holds the __Secure-mercure_access_token cookie (Secure,
// HttpOnly, SameSite=Strict, set by the page's server as the draft says) and its native
// EventSource, which cannot set headers, receives the private updates the token grants.
func TestBrowserSecureCookieOverHTTPS(t *testing.T) {
	log := history.NewMemory(history.Retention{}, nil)
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	subs, err := auth.NewAccessVerifier(auth.Issuer{URL: issuerURL, Key: []byte(subKey)})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: mustVerifier(t, pubKey), Anonymous: true, V1: mercure.V1Config{Subscriber: subs}})
	if err != nil {
		t.Fatal(err)
	}
	var tok string // minted once the server's URL, the token's audience, is known
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: mercure.DefaultCookieName, Value: tok, Path: mercure.Path, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(cookiePage))
	})
	mux.Handle(mercure.Path, handler)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(func() {
		handler.Shutdown(time.Now().Add(2 * time.Second))
		srv.CloseClientConnections()
		srv.Close()
		h.Close()
		log.Close()
	})
	tok = accessToken(t, subKey, srv.URL+mercure.Path, nil, grant([]string{"subscribe"}, patternTopic("/private/:id")))

	// Chromium trusts exactly this server's certificate, by its public key's hash.
	spki := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	browser := browsertest.NewWithFlags(t, map[string]any{"ignore-certificate-errors-spki-list": base64.StdEncoding.EncodeToString(spki[:])})
	tab := browsertest.Tab(t, browser)
	if _, err := chromedp.Run(tab, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the EventSource to open", "window.opens === 1")
	if js := browsertest.Eval[string](t, tab, "document.cookie"); js != "" {
		t.Fatalf("the page's script can read the token cookie: %q", js)
	}

	publish := func(topic string, private bool) {
		form := url.Values{"topic": {topic}, "data": {topic}}
		if private {
			form.Set("private", "on")
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+mercure.Path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+token(t, pubKey, []string{"*"}, nil, time.Hour))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("publish %s: %d", topic, resp.StatusCode)
		}
	}
	publish("/private/1", true)
	publish("/elsewhere/1", true) // not granted, and not matched
	publish(srv.URL+"/private/2", true)
	browsertest.WaitFor(t, tab, 10*time.Second, "two private events", "window.got.length >= 2")
	time.Sleep(200 * time.Millisecond)
	got := browsertest.Eval[[]string](t, tab, "window.got")
	if want := []string{"/private/1", srv.URL + "/private/2"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the page received %q, want %q", got, want)
	}
}
