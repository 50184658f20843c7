//go:build linux

package loadgen

import "net/url"

// subscribeHead is the HTTP/1.1 subscribe request to u for topic, up to the headers that
// vary between connections.
func subscribeHead(u *url.URL, topic, token string) string {
	q := u.Query()
	q.Set("topic", topic)
	head := "GET " + u.EscapedPath() + "?" + q.Encode() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nUser-Agent: herald-bench\r\n"
	if token != "" {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	return head
}

// request returns the subscribe request, resuming after lastID when it is not empty.
func (r *run) request(lastID []byte) []byte {
	b := make([]byte, 0, len(r.reqHead)+len(lastID)+20)
	b = append(b, r.reqHead...)
	if len(lastID) > 0 {
		b = append(b, "Last-Event-ID: "...)
		b = append(b, lastID...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}
