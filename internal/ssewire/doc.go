// Package ssewire holds the rules of the text/event-stream format that Herald's two
// parsers share: how a stream that arrives in pieces splits into lines ([Lines]), what a
// line says ([ParseLine]) and how a retry value reads ([ParseRetry]). sse.Decoder, which
// pulls from an io.Reader, and the load generator, which is pushed the bytes of tens of
// thousands of connections, both interpret their lines here, so they cannot drift apart.
// The load generator also splits its lines with Lines; the Decoder finds them in its own
// read buffer, where a data line can stay in place until the event is built. Nothing here
// allocates except Lines, to hold a line split between pieces.
//
// What a consumer does with the fields (how it stores the data lines, when it builds the
// event) stays with it: the format's rules for that are few and each consumer's storage is
// its own.
//
// NOTE: package sse imports this one, and sse imports nothing else of Herald's: keep it so
// here too (the standard library only).
//
//	var lines ssewire.Lines
//	for piece := range pieces { // the bytes of one stream, as they arrive
//		for {
//			line, rest, ok, err := lines.Next(piece, 1<<20)
//			if err != nil {
//				return err
//			}
//			if !ok {
//				break // the piece is used up
//			}
//			piece = rest
//			switch field, value := ssewire.ParseLine(line); field {
//			case ssewire.Dispatch:
//				// a blank line: the pending event is complete
//			case ssewire.Data:
//				// value is one line of the pending event's data
//			}
//		}
//	}
package ssewire
