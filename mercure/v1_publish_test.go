package mercure_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/heraldsse/herald/mercure"
)

// Draft-08's publish rules for 1.0 publishers: "*" is no topic, and the hub's namespace
// (where its subscription events live) is reserved, however the path is spelled.
func TestV1PublishTopicRules(t *testing.T) { forEachTransport(t, testV1PublishTopicRules) }

func testV1PublishTopicRules(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{})
	all := accessToken(t, pubKey, th.url(), nil, grant([]string{"publish"}, exactTopic("*")))
	for _, tt := range []struct {
		topic string
		want  int
	}{
		{"*", 400},
		{"https://example.com/a\u200bb", 400},
		{"/.well-known/mercure", 400},
		{"/.well-known/mercure/subscriptions/exact/a/b", 400},
		{"https://other.example/.well-known/mercure/x", 400},  // any host
		{"wss://other.example/.well-known/mercure", 400},      // any scheme
		{"/a/../.well-known/mercure/x", 400},                  // dot segments
		{"/.well-known/%2e/mercure/x", 400},                   // an escaped dot segment
		{"/.well-known/%6Dercure/x", 400},                     // an escaped unreserved character
		{"https://example.com\\.well-known\\mercure\\x", 400}, // WHATWG reads "\\" as "/" in special URLs
		{"/.well-known/mercurex", 200},
		{"/.well-known/Mercure/x", 200}, // paths are case-sensitive
		{"urn:example:.well-known/mercure", 200},
		{"https://example.com/books/1", 200},
	} {
		if status, body := th.publishWith(all, url.Values{"topic": {"https://example.com/ok", tt.topic}, "data": {"x"}}); status != tt.want {
			t.Errorf("%q: %d %s, want %d", tt.topic, status, body, tt.want)
		}
	}
	// 0.x publishers keep the 0.x rules.
	if status, _ := th.publishWith(token(t, pubKey, []string{"*"}, nil, time.Hour), url.Values{"topic": {"/.well-known/mercure/x"}}); status != 200 {
		t.Errorf("0.x publish under the hub's path: %d", status)
	}
}
