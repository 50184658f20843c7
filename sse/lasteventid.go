package sse

import "net/http"

// LastEventID returns the id of the last event a reconnecting client had received: the
// Last-Event-ID request header, which browsers send when EventSource reconnects, or else
// the lastEventId query parameter (then lastEventID, the Mercure spelling), which
// polyfills use and which lets a page resume on its very first connection. The header wins
// when both are present; an empty value counts as none. It returns "" when the client sent none.
//
// A value that could never have been an event id (it holds CR, LF or NUL, see [CheckID])
// counts as absent: a conforming client cannot have received it, and echoing it back
// would break the stream.
func LastEventID(r *http.Request) string {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		return validID(id)
	}
	q := r.URL.Query()
	for _, name := range [...]string{"lastEventId", "lastEventID"} {
		if id := q.Get(name); id != "" {
			return validID(id)
		}
	}
	return ""
}

func validID(id string) string {
	if CheckID(id) != nil {
		return ""
	}
	return id
}
