// Package takeover serves byte streams on connections taken over from an HTTP server
// after the response head: a few writer goroutines serve every connection, so an idle one
// costs no goroutine and no net/http buffers. It knows nothing of the protocol it carries.
// A Source decides what to write (Source.Next) and hears once how the connection ended
// (Source.Ended); the Pool does the I/O.
//
// A connection gets a turn on a writer when its owner calls Conn.Wake (news to write),
// when it has been silent for Config.Idle (time for a heartbeat, if the source wants one),
// when its alarm passes, when Pool.WakeAll asks every connection (a shutdown), and again
// while bytes of an earlier turn still wait for the client. On Linux one epoll instance
// (internal/epoll) notices when clients hang up; elsewhere each connection keeps a
// goroutine blocked on a one-byte read for that.
//
// NOTE: writes never block a writer goroutine. On Linux they go straight to the socket,
// which is non-blocking (rawwrite_linux.go); elsewhere they use a short deadline. What
// did not go out is kept for the next turn, so a client that stops reading never holds a
// writer; it is ended once it has made no progress for Config.WriteTimeout. A connection
// that is ending (Source.Next returned an error) gets one write attempt for its last
// words: a client too far behind to take them reconnects after its own reconnection
// time, and resumes all the same.
//
// NOTE: Source.Ended runs on a pool goroutine, often a writer serving many connections.
// It must return at once: a source with slow cleanup hands it to a goroutine of its own.
package takeover
