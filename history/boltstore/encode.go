package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/heraldsse/herald/history"
)

// entryVersion is the first byte of every stored entry. A store refuses values with
// another version rather than guess at their layout.
const entryVersion = 1

const flagPrivate = 1 << 0

// errBadEntry is wrapped by every decoding failure.
var errBadEntry = errors.New("malformed entry")

// appendEntry appends the stored form of an update accepted at time ns (Unix nanoseconds):
//
//	version byte | flags byte | time varint | retry varint (ns) |
//	id, type: uvarint length + bytes | topic count uvarint, each uvarint length + bytes |
//	data: uvarint length + bytes
//
// Time and id come first so that trimming can read them without decoding the rest.
func appendEntry(b []byte, ns int64, u *history.Update) []byte {
	var flags byte
	if u.Private {
		flags |= flagPrivate
	}
	b = append(b, entryVersion, flags)
	b = binary.AppendVarint(b, ns)
	b = binary.AppendVarint(b, int64(u.Retry))
	b = appendString(b, u.ID)
	b = appendString(b, u.Type)
	b = binary.AppendUvarint(b, uint64(len(u.Topics)))
	for _, t := range u.Topics {
		b = appendString(b, t)
	}
	return appendString(b, u.Data)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads the fields of a stored entry, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errBadEntry, what)
	}
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns a length-prefixed field, aliasing the input.
func (d *decoder) bytes(what string) []byte {
	n := d.uvarint(what)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(what + " length")
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

// header checks the version and returns the flags and the time.
func (d *decoder) header() (flags byte, ns int64) {
	if len(d.b) < 2 {
		d.fail("header")
		return 0, 0
	}
	if d.b[0] != entryVersion {
		d.err = fmt.Errorf("%w: version %d, this build reads %d", errBadEntry, d.b[0], entryVersion)
		return 0, 0
	}
	flags = d.b[1]
	d.b = d.b[2:]
	return flags, d.varint("time")
}

// peekEntry returns the time and id of a stored entry without decoding the rest. The id
// aliases v.
func peekEntry(v []byte) (ns int64, id []byte, err error) {
	d := decoder{b: v}
	_, ns = d.header()
	d.varint("retry")
	id = d.bytes("id")
	return ns, id, d.err
}

// decodeEntry decodes a stored entry at position seq. The strings it returns are copies,
// so the entry outlives the transaction v came from.
func decodeEntry(seq uint64, v []byte) (history.Entry, error) {
	d := decoder{b: v}
	flags, ns := d.header()
	retry := d.varint("retry")
	id := d.bytes("id")
	typ := d.bytes("type")
	n := d.uvarint("topic count")
	if d.err == nil && n > uint64(len(d.b)) { // every topic takes at least one byte
		d.fail("topic count")
	}
	var topics []string
	if d.err == nil && n > 0 {
		topics = make([]string, n)
		for i := range topics {
			topics[i] = string(d.bytes("topic"))
		}
	}
	data := d.bytes("data")
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return history.Entry{}, d.err
	}
	return history.Entry{
		Pos:  history.Pos{Major: seq},
		Time: time.Unix(0, ns),
		Update: history.Update{
			ID:      string(id),
			Topics:  topics,
			Private: flags&flagPrivate != 0,
			Type:    string(typ),
			Retry:   time.Duration(retry),
			Data:    string(data),
		},
	}, nil
}

// be64 is a position as a bbolt key: big-endian, so keys sort in order.
func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
