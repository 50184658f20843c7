package boltstore

import (
	"encoding/binary"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"

	"github.com/heraldsse/herald/history"
)

// load checks the file and loads the positions and the newest entries.
func (s *Store) load() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, s.path, fmt.Sprintf(format, args...))
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		// A file shorter than what its meta page claims was truncated; reading the
		// missing pages through the memory map would crash the process.
		if tx.Size() > fi.Size() {
			return corrupt("file is %d bytes, its header says %d (truncated?)", fi.Size(), tx.Size())
		}
		return nil
	})
	if err != nil {
		return err
	}
	fresh := false
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if hasBuckets(tx) {
				return corrupt("not a history store (no meta bucket)")
			}
			fresh = true
			return nil
		}
		v := meta.Get(keyVersion)
		if len(v) != 8 {
			return corrupt("no format version")
		}
		if ver := binary.BigEndian.Uint64(v); ver != formatVersion {
			return corrupt("format version %d, this build reads %d", ver, formatVersion)
		}
		if tx.Bucket(bucketEvents) == nil || tx.Bucket(bucketIDs) == nil {
			return corrupt("missing buckets")
		}
		if len(meta.Get(keyNext)) != 8 {
			return corrupt("no next position")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if fresh {
		err := s.db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if _, err := tx.CreateBucket(bucketEvents); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(bucketIDs); err != nil {
				return err
			}
			if err := meta.Put(keyVersion, be64(formatVersion)); err != nil {
				return err
			}
			return meta.Put(keyNext, be64(1))
		})
		if err != nil {
			return fmt.Errorf("boltstore: initializing %s: %w", s.path, err)
		}
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		next := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyNext))
		c := tx.Bucket(bucketEvents).Cursor()
		first := next
		if k, _ := c.First(); k != nil {
			if len(k) != 8 {
				return corrupt("bad key %x", k)
			}
			first = binary.BigEndian.Uint64(k)
		}
		if k, _ := c.Last(); k != nil {
			if last := binary.BigEndian.Uint64(k); last != next-1 || first > last {
				return corrupt("positions %d..%d but next is %d", first, last, next)
			}
		}
		// Read every entry once: damage anywhere stops the start now rather than a
		// replay later. (bbolt's own tx.Check panics on some damage in a goroutine of
		// its own, where it cannot be recovered.)
		want := first
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 || binary.BigEndian.Uint64(k) != want {
				return corrupt("positions not contiguous at %d (key %x)", want, k)
			}
			ns, _, err := peekEntry(v)
			if err != nil {
				return corrupt("entry %d: %v", want, err)
			}
			if want == first {
				s.oldestNs = ns
			}
			want++
		}
		if err := tx.Bucket(bucketIDs).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return corrupt("id %q maps to %x", k, v)
			}
			return nil
		}); err != nil {
			return err
		}
		s.first, s.next, s.applied = first, next, next
		// Load the cache newest first, then reverse.
		var tail []history.Entry
		size := 0
		for k, v := c.Last(); k != nil && len(tail) < s.cacheN; k, v = c.Prev() {
			seq := binary.BigEndian.Uint64(k)
			e, err := decodeEntry(seq, v)
			if err != nil {
				return corrupt("entry %d: %v", seq, err)
			}
			if len(tail) > 0 && size+entrySize(&e) > s.cacheB {
				break
			}
			tail = append(tail, e)
			size += entrySize(&e)
		}
		for i, j := 0, len(tail)-1; i < j; i, j = i+1, j-1 {
			tail[i], tail[j] = tail[j], tail[i]
		}
		s.tail, s.tailBytes = tail, size
		return nil
	})
	if err != nil {
		return err
	}
	return s.replayJournal()
}

// replayJournal opens the journal and takes in the entries it holds beyond bbolt's last
// position, those a crash left only there: they join the cache as entries bbolt does not
// hold yet, and the applier copies them (Open's first sweep does, when the disk has room;
// a full disk does not keep the store from opening). The next record goes after them.
func (s *Store) replayJournal() error {
	j, err := openJournal(journalPath(s.path))
	if err != nil {
		return err
	}
	s.journal = j
	next := s.next
	var found []history.Entry
	end, err := j.replay(func(e history.Entry) error {
		if e.Pos.Major < next {
			return nil // in bbolt already
		}
		if e.Pos.Major != next {
			return fmt.Errorf("%w: journal %s goes on at position %d, %s ends before %d (a journal of another file?)",
				ErrCorrupt, j.path, e.Pos.Major, s.path, next)
		}
		found = append(found, e)
		next++
		return nil
	})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		j.rewind()
		return nil
	}
	j.off = end
	if s.first == s.next { // bbolt holds none: the oldest entry is the journal's first
		s.oldestNs = found[0].Time.UnixNano()
	}
	s.takeUnappliedLocked(found)
	s.logger.Info("boltstore: recovered entries from the journal", "file", s.path, "entries", len(found))
	return nil
}

func hasBuckets(tx *bolt.Tx) bool {
	found := false
	tx.ForEach(func([]byte, *bolt.Bucket) error { found = true; return nil })
	return found
}
