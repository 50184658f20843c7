package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/heraldsse/herald/history"
)

// The journal is the file beside the bbolt file (its path with "-journal" added) that
// makes a group commit durable with one fdatasync. A commit appends one record and syncs
// it; the appenders are answered then. A second goroutine copies the committed entries
// into bbolt later, many commits to a transaction (see apply.go), with bbolt's own two
// syncs, which no appender waits for. Open copies what the journal holds beyond bbolt's
// last position before it serves anything, so an entry acknowledged before a crash is in
// the store once, at the position it was acknowledged with.
//
// NOTE: records overwrite space the file already has on disk. Appending to the end of a
// file makes every fdatasync write the file's size too (a journal commit of the file
// system): BenchmarkSyncPatterns measures that at the cost of bbolt's two syncs, and an
// overwrite at half of it. So the file grows a zero-filled chunk at a time, and once
// everything in it is in bbolt the next record goes to the front again.
//
// A record is
//
//	body length u32 | CRC-32C of the body u32 | body:
//	position of the first entry u64 | entry count u32 | per entry: length u32 | entry
//
// (the entry as encode.go stores it in bbolt). Reading stops at the first record whose
// length is zero or runs past the end, whose checksum fails, or whose first position does
// not follow the previous record's last: a torn write at the end, or older records left
// behind the front after the journal started over (positions only grow, so those never
// follow).
type journal struct {
	f        *os.File
	path     string
	off      int64  // where the next record goes
	size     int64  // bytes of the file already written (records or zeros)
	rewindAt int64  // journalRewind (tests lower it)
	buf      []byte // the record being built
	count    uint32 // entries in it
}

const (
	// journalChunk is how much the journal grows at once, zero-filled.
	journalChunk = 1 << 20
	// journalRewind is the offset past which the journal starts over at the front, once
	// bbolt holds everything in it.
	journalRewind = 32 << 20
	// recordHead is the length and checksum before a record's body.
	recordHead = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// zeroChunk is what grow writes, a piece at a time; only read, so its pages stay the
// system's shared zero page.
var zeroChunk [64 << 10]byte

// journalPath is the journal of the bbolt file at path.
func journalPath(path string) string { return path + "-journal" }

// openJournal opens the journal, creating it (and syncing its directory) when it does not
// exist.
func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = syncDir(filepath.Dir(path))
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("boltstore: journal: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("boltstore: journal: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("boltstore: %s is not a regular file", path)
	}
	return &journal{f: f, path: path, size: fi.Size(), rewindAt: journalRewind}, nil
}

// syncDir makes a new directory entry in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// replay calls fn with the entries of every record, in order, as long as the records
// read whole and follow each other, and returns the offset after the last. The entries'
// strings are copies.
func (j *journal) replay(fn func(history.Entry) error) (end int64, err error) {
	var head [recordHead]byte
	off := int64(0)
	expect := uint64(0) // the position the next record must start at; 0 before the first
	for {
		if _, err := j.f.ReadAt(head[:], off); err != nil {
			if errors.Is(err, io.EOF) {
				return off, nil
			}
			return 0, fmt.Errorf("boltstore: reading journal %s: %w", j.path, err)
		}
		n := int64(binary.LittleEndian.Uint32(head[0:]))
		if n < 12 || off+recordHead+n > j.size {
			return off, nil
		}
		body := make([]byte, n)
		if _, err := j.f.ReadAt(body, off+recordHead); err != nil {
			return 0, fmt.Errorf("boltstore: reading journal %s: %w", j.path, err)
		}
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(head[4:]) {
			return off, nil
		}
		seq := binary.BigEndian.Uint64(body)
		if expect != 0 && seq != expect {
			return off, nil
		}
		count := uint64(binary.LittleEndian.Uint32(body[8:]))
		rest := body[12:]
		for i := range count {
			if len(rest) < 4 || uint64(len(rest)-4) < uint64(binary.LittleEndian.Uint32(rest)) {
				// The checksum matched, so this is not a torn write.
				return 0, fmt.Errorf("%w: journal %s: record at %d is cut short", ErrCorrupt, j.path, off)
			}
			v := rest[4 : 4+binary.LittleEndian.Uint32(rest)]
			rest = rest[4+len(v):]
			e, err := decodeEntry(seq+i, v)
			if err != nil {
				return 0, fmt.Errorf("%w: journal %s: entry %d: %v", ErrCorrupt, j.path, seq+i, err)
			}
			if err := fn(e); err != nil {
				return 0, err
			}
		}
		expect = seq + count
		off += recordHead + n
	}
}

// begin starts a record for entries from position seq on, in the journal's buffer.
func (j *journal) begin(seq uint64) {
	j.buf = append(j.buf[:0], 0, 0, 0, 0, 0, 0, 0, 0) // length and checksum, set by finish
	j.buf = binary.BigEndian.AppendUint64(j.buf, seq)
	j.buf = append(j.buf, 0, 0, 0, 0) // the count, set by finish
	j.count = 0
}

// add appends an entry of an update accepted at ns to the record begun.
func (j *journal) add(ns int64, u *history.Update) {
	at := len(j.buf)
	j.buf = append(j.buf, 0, 0, 0, 0)
	j.buf = appendEntry(j.buf, ns, u)
	binary.LittleEndian.PutUint32(j.buf[at:], uint32(len(j.buf)-at-4))
	j.count++
}

// finish seals the record begun: its count, length and checksum.
func (j *journal) finish() {
	binary.LittleEndian.PutUint32(j.buf[recordHead+8:], j.count)
	body := j.buf[recordHead:]
	binary.LittleEndian.PutUint32(j.buf[0:], uint32(len(body)))
	binary.LittleEndian.PutUint32(j.buf[4:], crc32.Checksum(body, castagnoli))
}

// commit writes the record finished in the buffer and syncs it. On failure the record's
// head is cleared, best effort, and the next record goes to the same place.
func (j *journal) commit() error {
	end := j.off + int64(len(j.buf))
	if err := j.grow(end); err != nil {
		return err
	}
	if _, err := j.f.WriteAt(j.buf, j.off); err != nil {
		return fmt.Errorf("boltstore: writing journal %s: %w", j.path, err)
	}
	if err := fdatasync(j.f); err != nil {
		j.f.WriteAt(make([]byte, recordHead), j.off) //nolint:errcheck // best effort; the sync already failed
		return fmt.Errorf("boltstore: syncing journal %s: %w", j.path, err)
	}
	j.off = end
	if cap(j.buf) > 4<<20 { // keep a typical record's buffer, not a huge one
		j.buf = nil
	}
	return nil
}

// grow zero-fills the file up to a chunk boundary at or past end, when it is shorter.
// The commit's own sync makes the zeros and the new size durable.
func (j *journal) grow(end int64) error {
	if end <= j.size {
		return nil
	}
	target := (end + journalChunk - 1) / journalChunk * journalChunk
	for j.size < target {
		n := min(int64(len(zeroChunk)), target-j.size)
		if _, err := j.f.WriteAt(zeroChunk[:n], j.size); err != nil {
			return fmt.Errorf("boltstore: growing journal %s: %w", j.path, err)
		}
		j.size += n
	}
	return nil
}

// rewind makes the next record go to the front of the file. Only for a journal whose
// every entry is in bbolt.
func (j *journal) rewind() { j.off = 0 }

// due reports whether the journal has passed the offset where it starts over.
func (j *journal) due() bool { return j.off >= j.rewindAt }

func (j *journal) close() error { return j.f.Close() }
