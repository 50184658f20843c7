// Package eventsource is a Server-Sent Events client that behaves like the browser's
// EventSource, as the WHATWG HTML standard defines it, and adds what Go programs need:
// an iterator, contexts, custom methods, headers and bodies, backoff, a read timeout.
//
// The common case, reading a stream until it ends:
//
//	c := eventsource.New("https://example.com/events")
//	for ev, err := range c.Events(ctx) {
//		if err != nil {
//			return err // a fatal error: the client will not reconnect
//		}
//		fmt.Println(ev.Type, ev.ID, ev.Data)
//	}
//
// The browser's shape, with handlers, is there too: set OnOpen, OnMessage and OnError,
// call [Client.AddEventListener] for named events, then [Client.Run]. [Client.ReadyState]
// and [Client.Close] work as in a browser, including Close from inside a handler.
//
// Like a browser, a Client reconnects when the stream ends or the connection drops, waits
// the reconnection time first (3 s, or what the server's last retry field said), and sends
// the last event ID it saw in the Last-Event-ID header. An HTTP 204 response ends it for
// good; any other status but 200, or a Content-Type other than text/event-stream, fails it
// with an error and no reconnection. A stream opened with another method than GET, such as
// a POST that carries a prompt, is over when the server ends it: its request is sent again
// only after a broken connection, or after every end when ResendOnEnd is set. Set OnComment
// to see the comment lines (heartbeats), and call [Client.Restart] to reconnect at once, say
// after a token refresh.
//
// Everything a Client does happens on the goroutine that called Run or ranges over Events:
// handlers run there, one at a time, and when that call returns no goroutine of the client
// is left.
package eventsource
