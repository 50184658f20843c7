package mercure_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
	"github.com/heraldsse/herald/topic"
)

// subscribeStatus asks for a subscription with selectors and returns the status, with the
// body of a refusal. A stream that opens is closed at once.
func (th *testHub) subscribeStatus(selectors []string) (int, string) {
	th.t.Helper()
	q := url.Values{"topic": selectors}
	req, _ := http.NewRequest(http.MethodGet, th.url()+"?"+q.Encode(), nil)
	resp, err := th.client.Do(req)
	if err != nil {
		th.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "" // a stream: do not wait for its end
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(body)
}

// vars returns a template with n variables, unique to tag. It starts with a variable: a
// template that starts with text is rejected at once by a topic that does not.
func vars(tag string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{+v%d}", i)
	}
	b.WriteString("/" + tag)
	return b.String()
}

// Selectors that would cost too much to match are refused, naming the limit.
func TestSelectorLimitsRefused(t *testing.T) { forEachTransport(t, testSelectorLimitsRefused) }

func testSelectorLimitsRefused(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	for _, tc := range []struct {
		name      string
		selectors []string
		limit     string
	}{
		{"variables in one template", []string{vars("a", topic.DefaultMaxTemplateVars+1)}, "max-template-vars"},
		{"one long template", []string{"https://example.com/" + strings.Repeat("x", topic.DefaultMaxTemplateBytes) + "/{id}"}, "max-template-bytes"},
		{"variables in all templates", []string{vars("a", 8), vars("b", 8), vars("c", 8), vars("d", 8), vars("e", 1)}, "max-stream-template-vars"},
		{"bytes of all templates", []string{
			"/a/" + strings.Repeat("x", 240) + "{a}", "/b/" + strings.Repeat("x", 240) + "{a}", "/c/" + strings.Repeat("x", 240) + "{a}",
			"/d/" + strings.Repeat("x", 240) + "{a}", "/e/" + strings.Repeat("x", 240) + "{a}",
		}, "max-stream-template-bytes"},
	} {
		status, body := th.subscribeStatus(tc.selectors)
		if status != http.StatusBadRequest || !strings.Contains(body, tc.limit) {
			t.Errorf("%s: %d %q, want 400 naming %s", tc.name, status, body, tc.limit)
		}
	}
	// At the limits, and with exact selectors besides, a subscription is served.
	ok := []string{vars("a", 8), vars("b", 8), vars("c", 8), vars("d", 8), "*", "https://example.com/" + strings.Repeat("x", 1000)}
	if status, body := th.subscribeStatus(ok); status != http.StatusOK {
		t.Fatalf("at the limits: %d %s", status, body)
	}
	// The limits are the operator's to raise.
	raised := tr.startHub(t, mercure.Config{Anonymous: true, SelectorLimits: topic.Limits{TemplateVars: 16, StreamTemplateVars: 64}}, history.Retention{}, 0)
	if status, body := raised.subscribeStatus([]string{vars("a", 16)}); status != http.StatusOK {
		t.Fatalf("raised limit: %d %s", status, body)
	}
}

// hostileSelectors returns what an attacker asks for on stream i: first the selectors of
// the attack this was found with (64 templates of 32 variables), refused since, then the
// costliest selectors the default limits let through, unique to the stream so that no
// memo shares their matching.
func hostileSelectors(i int) (attack, atLimits []string) {
	for k := range 64 {
		attack = append(attack, vars(fmt.Sprintf("s%dt%d", i, k), 32))
	}
	for k := range topic.DefaultMaxStreamTemplateVars / topic.DefaultMaxTemplateVars {
		sel := vars(fmt.Sprintf("s%dt%d", i, k), topic.DefaultMaxTemplateVars)
		pad := topic.DefaultMaxTemplateBytes - len(sel)
		atLimits = append(atLimits, sel+strings.Repeat("x", pad))
	}
	return attack, atLimits
}

// 200 streams with the costliest selectors they can get do not hold up a subscriber of an
// exact topic. Before, the attack's selectors were accepted, matched on the one dispatcher
// under the hub's lock, and held up every subscriber's updates by seconds.
func TestHostileSelectorsSpareOtherSubscribers(t *testing.T) {
	forTransports(t, stressTransports, testHostileSelectorsSpareOtherSubscribers)
}

func testHostileSelectorsSpareOtherSubscribers(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	// A topic as long as real IRIs get: matching costs in proportion to its length.
	news := "https://example.com/organizations/acme/projects/herald/" + strings.Repeat("news", 16) + "/1"
	innocent := th.subscribe("topic="+url.QueryEscape(news), nil)
	for i := range 200 {
		attack, atLimits := hostileSelectors(i)
		q := url.Values{"topic": attack}.Encode()
		if _, status := th.trySubscribe(q, nil); status == http.StatusOK {
			continue // accepted, as before: it stays attached until the test ends
		}
		th.subscribe(url.Values{"topic": atLimits}.Encode(), nil)
	}
	// Ten updates, each waited for, as a client would see them. The bound is generous for
	// a shared machine and the race detector: they took seconds before.
	const bound = 2 * time.Second
	start := time.Now()
	for i := range 10 {
		th.mustPublish(url.Values{"topic": {news}, "data": {fmt.Sprint(i)}})
		if ev := innocent.next(max(bound-time.Since(start), time.Millisecond)); ev.Data != fmt.Sprint(i) {
			t.Fatalf("innocent subscriber got %+v", ev)
		}
	}
	if took := time.Since(start); took > bound {
		t.Fatalf("10 updates took %v to reach a subscriber of an exact topic beside 200 hostile streams, more than %v", took, bound)
	}
}
