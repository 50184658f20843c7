// Package sse reads and writes the text/event-stream format of Server-Sent Events.
//
// An [Event] is what travels: an id, a type (the "event" field), data and an optional
// reconnection delay. [AppendEvent] and [Encoder] write events so that no value can break or
// inject into the stream: data with line breaks becomes several data lines, and an id or type
// that would end its line is refused with an error before anything is written.
//
// [Decoder] reads a stream exactly as the WHATWG HTML standard's "Server-sent events" section
// says a browser does, and reports the events a browser's EventSource would dispatch:
//
//	dec := sse.NewDecoder(resp.Body)
//	for {
//		ev, err := dec.Next()
//		if err != nil {
//			break // io.EOF at the end of the stream
//		}
//		fmt.Println(ev.Type, ev.Data)
//	}
//
// Both sides share one definition of a line break (CR, LF or CRLF), so what the encoder
// writes the decoder reads back unchanged.
//
// [NewStream] and [Streamer] serve a stream from any net/http handler, on HTTP/1.1, HTTP/2
// (over TLS or h2c) and HTTP/3 (quic-go's http3.Server): they set the headers, flush, send
// heartbeats, put a deadline on every write so a client that stops reading cannot hold the
// handler, and end when the client goes away.
// [LastEventID] reads the id a reconnecting client resumes from.
package sse
