package bench

import (
	"bytes"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var variants = []struct {
	name string
	crlf bool
}{{"lf", false}, {"crlf", true}}

func TestCorpusIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, v := range variants {
		a, wantA := corpus(v.crlf)
		b, wantB := corpus(v.crlf)
		if !bytes.Equal(a, b) || len(wantA) != len(wantB) {
			t.Fatalf("%s: two calls gave different streams", v.name)
		}
	}
	lf, _ := corpus(false)
	crlf, _ := corpus(true)
	if !bytes.Equal(bytes.ReplaceAll(crlf, []byte("\r\n"), []byte("\n")), lf) {
		t.Fatal("the CRLF stream is not the LF stream with CRLF line ends")
	}
	if bytes.Contains(lf, []byte("\r")) {
		t.Fatal("the LF stream holds a CR")
	}
}

// TestCorpusShape checks the stream is shaped as the benchmark claims.
func TestCorpusShape(t *testing.T) {
	t.Parallel()
	stream, want := corpus(false)
	if len(want) != corpusEvents {
		t.Fatalf("%d events, want %d", len(want), corpusEvents)
	}
	count := map[string]int{}
	chunkBytes := 0
	for _, ev := range want {
		switch {
		case ev.Type == "content_block_delta":
			count["token"]++
			chunkBytes += len(ev.Data)
		case ev.Data == "[DONE]":
			count["done"]++
		case bytes.HasPrefix([]byte(ev.Data), []byte(`{"status"`)):
			count["status"]++
		default:
			count["prose"]++
			if lines := bytes.Count([]byte(ev.Data), []byte("\n")) + 1; lines < 3 || lines > 6 {
				t.Fatalf("prose event of %d lines", lines)
			}
		}
	}
	near := func(name string, pct int) {
		if got := count[name] * 100 / corpusEvents; got < pct-2 || got > pct+2 {
			t.Errorf("%s events: %d%%, want about %d%%", name, got, pct)
		}
	}
	near("token", 65)
	near("prose", 20)
	near("status", 10)
	near("done", 5)
	if avg := chunkBytes / count["token"]; avg < 180 || avg > 230 {
		t.Errorf("token chunks average %d bytes, want about 200", avg)
	}
	if got := bytes.Count(stream, []byte(": keep-alive\n\n")); got != corpusEvents/10 {
		t.Errorf("%d keep-alive comments, want %d", got, corpusEvents/10)
	}
	if got := bytes.Count(stream, []byte("\nretry: ")); got != count["status"] {
		t.Errorf("%d retry fields, want %d", got, count["status"])
	}
	t.Logf("%d bytes; %v", len(stream), count)
}

// TestParsersReadCorpus checks that every parser dispatches every event of both variants,
// and that Herald's decoder returns exactly the events the generator wrote.
func TestParsersReadCorpus(t *testing.T) {
	t.Parallel()
	for _, v := range variants {
		stream, want := corpus(v.crlf)
		for _, p := range parsers {
			t.Run(p.name+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				var got []expectedEvent
				n, err := p.parse(stream, func(ev expectedEvent) { got = append(got, ev) })
				if err != nil {
					t.Fatalf("error after %d events: %v", n, err)
				}
				if p.dispatchesComments {
					got = dropKeepAlives(t, got)
					n -= corpusEvents / 10
				}
				if n != len(want) || len(got) != len(want) {
					t.Fatalf("%d events, want %d", n, len(want))
				}
				bad := 0
				for i := range want {
					if got[i] != want[i] {
						if bad == 0 {
							t.Logf("event %d: got %q\nwant %q", i, got[i], want[i])
						}
						bad++
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d events differ from what the stream says", bad, len(want))
				}
			})
		}
	}
}

// dropKeepAlives removes from got the empty events that a parser with dispatchesComments
// makes of the keep-alive block after every 10th event, failing if they are not there.
func dropKeepAlives(t *testing.T, got []expectedEvent) []expectedEvent {
	t.Helper()
	if len(got) != corpusEvents+corpusEvents/10 {
		t.Fatalf("%d events, want %d: 10,000 and one per keep-alive block", len(got), corpusEvents+corpusEvents/10)
	}
	kept := got[:0:0]
	for i, ev := range got {
		if i%11 == 10 {
			if ev.Data != "" || ev.Type != "message" {
				t.Fatalf("event %d is %q, want the empty event of a keep-alive block", i, ev)
			}
			continue
		}
		kept = append(kept, ev)
	}
	return kept
}
