//go:build linux

package loadgen

import (
	"strconv"
	"time"
)

// stamp appends an event's data: the run's tag, its sequence number and publish time, and
// padding up to size bytes.
func (r *run) stamp(b []byte, seq int64, sent time.Time, size int) []byte {
	b = append(b, r.tag...)
	b = append(b, ':')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, sent.UnixNano(), 10)
	b = append(b, ':')
	for len(b) < size {
		b = append(b, 'x')
	}
	return b
}

// parseData reads back what stamp wrote; ok is false for an event of another origin.
func (r *run) parseData(d []byte) (seq int, sent int64, ok bool) {
	if len(d) < len(r.tag)+5 || string(d[:len(r.tag)]) != r.tag || d[len(r.tag)] != ':' {
		return 0, 0, false
	}
	d = d[len(r.tag)+1:]
	var n [2]int64
	for k := range n {
		i := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' && i < 19 {
			n[k] = n[k]*10 + int64(d[i]-'0')
			i++
		}
		if i == 0 || i >= len(d) || d[i] != ':' {
			return 0, 0, false
		}
		d = d[i+1:]
	}
	if n[0] > 1<<31 {
		return 0, 0, false
	}
	return int(n[0]), n[1], true
}
