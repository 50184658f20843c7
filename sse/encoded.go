package sse

// WriteEncoded writes chunks, which hold events (or comments, or retry fields) already in
// wire form, and flushes once. It is for servers that encode an event once and write the
// same bytes to many streams: see [AppendEvent]. The bytes are written as given, so they
// must be complete, valid event stream text; WriteEncoded does not check them.
//
// Each chunk is written under its own write timeout, which bounds how long a client may
// stall, not how long a large backlog takes; the flush gets one more. The deadline is
// cleared afterwards, as after every other send. A failure ends the stream, as for Send.
// WriteEncoded neither keeps nor modifies the chunks.
func (s *Stream) WriteEncoded(chunks ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	for _, c := range chunks {
		if len(c) == 0 {
			continue
		}
		if err := s.deadlineLocked(); err != nil {
			return err
		}
		if _, err := s.w.Write(c); err != nil {
			return s.failLocked(err)
		}
	}
	if err := s.deadlineLocked(); err != nil {
		return err
	}
	return s.flushLocked()
}
