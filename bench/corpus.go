// Package bench measures Herald against other Go SSE libraries. It is its own module so that
// the libraries it compares with never enter Herald's go.mod. Everything here runs from
// `go test`: the tests check that every parser reads the corpus correctly, the benchmarks
// time them (see README.md).
package bench

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// corpusEvents is how many events the benchmark stream dispatches.
const corpusEvents = 10_000

// corpusSeed fixes the stream, so that every run and every machine measures the same bytes.
const corpusSeed = 0x5EED_0F_4E7A1D

// expectedEvent is what a conformant parser dispatches for one event of the corpus, in the
// terms of the browser's MessageEvent: the last event ID seen so far, the event type
// ("message" when the stream names none) and the data.
type expectedEvent struct {
	LastEventID string
	Type        string
	Data        string
}

// corpus returns the benchmark stream, with lines ended by LF or, when crlf is set, by CRLF,
// and the events a conformant parser dispatches from it. Its shape follows real traffic:
//
//   - 65%: an event with an id, a type and a JSON chunk of about 200 bytes from an LLM token
//     stream;
//   - 20%: a message of 3 to 6 lines of prose;
//   - 10%: a JSON status message preceded by a comment and a retry field;
//   - 5%: the `data: [DONE]` sentinel that ends an LLM completion;
//
// with a `: keep-alive` comment block after every 10th event. The same call always returns
// the same bytes.
func corpus(crlf bool) (stream []byte, want []expectedEvent) {
	rng := rand.New(rand.NewPCG(corpusSeed, corpusSeed>>7))
	nl := "\n"
	if crlf {
		nl = "\r\n"
	}
	var b strings.Builder
	b.Grow(corpusEvents * 300)
	field := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString(nl)
	}
	want = make([]expectedEvent, 0, corpusEvents)
	lastID, seq := "", 0
	for i := range corpusEvents {
		var ev expectedEvent
		switch p := rng.IntN(100); {
		case p < 65:
			seq++
			lastID = "chatcmpl-7f3a-" + strconv.Itoa(seq)
			ev = expectedEvent{Type: "content_block_delta", Data: tokenChunk(rng, seq)}
			field("id", lastID)
			field("event", ev.Type)
			field("data", ev.Data)
		case p < 85:
			lines := make([]string, 3+rng.IntN(4))
			for j := range lines {
				lines[j] = prose(rng, 8+rng.IntN(10))
				field("data", lines[j])
			}
			ev = expectedEvent{Type: "message", Data: strings.Join(lines, "\n")}
		case p < 95:
			ev = expectedEvent{Type: "message", Data: statusJSON(rng, i)}
			field("", "usage report "+strconv.Itoa(i))
			field("retry", strconv.Itoa(1000+500*rng.IntN(6)))
			field("data", ev.Data)
		default:
			ev = expectedEvent{Type: "message", Data: "[DONE]"}
			field("data", ev.Data)
		}
		b.WriteString(nl)
		ev.LastEventID = lastID
		want = append(want, ev)
		if (i+1)%10 == 0 {
			b.WriteString(": keep-alive")
			b.WriteString(nl)
			b.WriteString(nl)
		}
	}
	return []byte(b.String()), want
}

// words is the vocabulary of the generated text; a few words are not ASCII, as real model
// output often is not.
var words = strings.Fields(`the a of to and in is that for it with as on model token stream
server event client request response latency buffer network reconnect browser message
data retry header connection value field line chunk output prompt answer question
café naïve résumé 日本語 données señal Größe 😀 — “quoted”`)

// prose returns n random words joined by spaces.
func prose(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.String()
}

// tokenChunk returns one delta of an LLM completion stream as JSON, about 200 bytes long.
func tokenChunk(rng *rand.Rand, seq int) string {
	text := prose(rng, 1+rng.IntN(4))
	var b strings.Builder
	b.WriteString(`{"type":"content_block_delta","index":0,"id":"msg_01XFDUDYJgAACzvnptvVoYEL","seq":`)
	b.WriteString(strconv.Itoa(seq))
	b.WriteString(`,"model":"claude-sonnet-4-5","delta":{"type":"text_delta","text":"`)
	b.WriteString(strings.ReplaceAll(text, `“`, `\"`))
	b.WriteString(`"},"usage":{"output_tokens":`)
	b.WriteString(strconv.Itoa(seq * 3))
	b.WriteString(`}}`)
	return b.String()
}

// statusJSON returns a small JSON status object.
func statusJSON(rng *rand.Rand, i int) string {
	return `{"status":"streaming","event":` + strconv.Itoa(i) +
		`,"queue_depth":` + strconv.Itoa(rng.IntN(50)) +
		`,"input_tokens":` + strconv.Itoa(100+rng.IntN(4000)) + `,"cache":"hit"}`
}
