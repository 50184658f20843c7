package boltstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
)

var bg = context.Background()

func journalUpdate(i int) history.Update {
	return history.Update{ID: fmt.Sprintf("id-%d", i), Topics: []string{"t"}, Data: fmt.Sprintf("data %d", i)}
}

// writeRecords writes records to the journal at path as a crashed committer would have
// left them: from offset off on, one record for each of counts, positions from seq on.
// It returns the offset after the last.
func writeRecords(t testing.TB, path string, off int64, seq uint64, counts ...int) int64 {
	t.Helper()
	j, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	j.off = off
	for _, n := range counts {
		j.begin(seq)
		for range n {
			u := journalUpdate(int(seq))
			j.add(1e9, &u) // one time for all: records of as many ids of one length are as long
			seq++
		}
		j.finish()
		if err := j.commit(); err != nil {
			t.Fatal(err)
		}
	}
	return j.off
}

// storeOf opens a store with entries 1..n, all in bbolt, and closes it.
func storeOf(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := s.Append(bg, journalUpdate(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkEntries reopens the store and checks that it holds exactly entries 1..n, in order,
// each id found at its position, and that the next append gets n+1.
func checkEntries(t *testing.T, path string, n int) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	es, err := s.Read(bg, history.Pos{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n {
		t.Fatalf("%d entries, want %d", len(es), n)
	}
	for i, e := range es {
		want := journalUpdate(i + 1)
		if e.Pos.Major != uint64(i+1) || e.ID != want.ID || e.Data != want.Data {
			t.Fatalf("entry %d: %d %q %q", i, e.Pos.Major, e.ID, e.Data)
		}
		if p, err := s.Lookup(bg, e.ID); err != nil || p != e.Pos {
			t.Fatalf("Lookup(%q) = %v, %v", e.ID, p, err)
		}
	}
	e, err := s.Append(bg, journalUpdate(n+1))
	if err != nil || e.Pos.Major != uint64(n+1) {
		t.Fatalf("next append at %v, %v", e.Pos, err)
	}
}

// Open copies into bbolt what only the journal holds (a crash between the group commit and
// the transaction), once: a second Open finds nothing more to copy.
func TestOpenRecoversTheJournal(t *testing.T) {
	path := storeOf(t, 10)
	writeRecords(t, journalPath(path), 0, 11, 5, 5)
	checkEntries(t, path, 20)
	checkEntries(t, path, 21) // and the one the first check appended
}

// A record torn by a crash ends the journal: what came before it is recovered.
func TestOpenStopsAtATornRecord(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func(f *os.File, at, end int64) error
	}{
		{"cut short", func(f *os.File, at, end int64) error { return f.Truncate(at + (end-at)/2) }},
		{"bad checksum", func(f *os.File, at, end int64) error {
			_, err := f.WriteAt([]byte{0xff}, end-3)
			return err
		}},
		{"zeroed head", func(f *os.File, at, _ int64) error {
			_, err := f.WriteAt(make([]byte, recordHead), at)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := storeOf(t, 10)
			jp := journalPath(path)
			at := writeRecords(t, jp, 0, 11, 5)
			end := writeRecords(t, jp, at, 16, 5)
			f, err := os.OpenFile(jp, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			err = errors.Join(tc.tear(f, at, end), f.Close())
			if err != nil {
				t.Fatal(err)
			}
			checkEntries(t, path, 15)
		})
	}
}

// After the journal starts over, the records of the pass before that, left behind the new
// ones, are never read as entries, even when one begins exactly where the new ones end.
func TestOpenIgnoresAnEarlierPass(t *testing.T) {
	path := storeOf(t, 40)
	jp := journalPath(path)
	// The first pass: records for 11..32, as the committer wrote them (in bbolt already).
	writeRecords(t, jp, 0, 11, 2, 10, 10)
	// The journal started over at 41: its record for 41 and 42 is as long as the one for
	// 11 and 12, so the record for 13..22 follows it intact.
	writeRecords(t, jp, 0, 41, 2)
	j, err := openJournal(jp)
	if err != nil {
		t.Fatal(err)
	}
	var read []uint64
	_, err = j.replay(func(e history.Entry) error {
		read = append(read, e.Pos.Major)
		return nil
	})
	j.close()
	if err != nil || fmt.Sprint(read) != "[41 42]" {
		t.Fatalf("replay read %v, %v; want [41 42]", read, err)
	}
	checkEntries(t, path, 42)
}

// A journal whose first entry bbolt does not lead up to belongs to another file: Open
// refuses it and names it rather than leave a hole in the positions.
func TestOpenRefusesAJournalWithAGap(t *testing.T) {
	path := storeOf(t, 10)
	writeRecords(t, journalPath(path), 0, 13, 3)
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), journalPath(path)) {
		t.Fatalf("Open: %v", err)
	}
}

// The journal starts over at the front once it has passed its mark and bbolt holds all of
// it, so it stays the size of its first chunk however much goes through it.
func TestJournalStartsOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.journal.rewindAt = 64 << 10 // before the first append reaches the committer
	big := make([]byte, 20<<10)
	for i := 1; i <= 100; i++ {
		u := journalUpdate(i)
		u.Data = fmt.Sprintf("%d %s", i, big)
		if _, err := s.Append(bg, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(journalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != journalChunk {
		t.Fatalf("journal of %d bytes after 2 MB went through it, want %d", fi.Size(), journalChunk)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, _ := s.Stats(); st.Count != 100 {
		t.Fatalf("%d entries after reopening, want 100", st.Count)
	}
}

// Whatever bytes a journal holds (a damaged disk, another program's file), reading it
// neither panics nor hands on an entry out of order: it stops, or reports the file as
// corrupt.
func FuzzJournalReplay(f *testing.F) {
	dir := f.TempDir()
	valid := filepath.Join(dir, "seed")
	writeRecords(f, valid, 0, 7, 1, 3)
	b, err := os.ReadFile(valid)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:256])
	f.Add([]byte{})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "journal")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := openJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		defer j.close()
		var last uint64
		end, err := j.replay(func(e history.Entry) error {
			if last != 0 && e.Pos.Major != last+1 {
				t.Fatalf("entry %d after %d", e.Pos.Major, last)
			}
			last = e.Pos.Major
			return nil
		})
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("replay: %v", err)
		}
		if err == nil && (end < 0 || end > int64(len(data))) {
			t.Fatalf("end %d of %d bytes", end, len(data))
		}
	})
}

// A read that starts in bbolt and runs past what the applier has copied goes on into the
// cache: it returns every entry, not a short page that would end a replay early.
func TestReadRunsFromTheFileIntoTheCache(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "history.db"), Options{CacheEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 1; i <= 5; i++ {
		if _, err := s.Append(bg, journalUpdate(i)); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if st, _ := s.Stats(); st.Unapplied == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not applied after 5s")
		}
	}
	s.holdApply.Store(true)
	for i := 6; i <= 15; i++ {
		if _, err := s.Append(bg, journalUpdate(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{0, 256, 12} {
		es, err := s.Read(bg, history.Pos{Major: 1}, limit)
		want := 14
		if limit == 12 {
			want = 12
		}
		if err != nil || len(es) != want || es[0].Pos.Major != 2 || es[len(es)-1].Pos.Major != uint64(1+want) {
			t.Fatalf("Read(after 1, limit %d): %d entries, %v", limit, len(es), err)
		}
	}
	var got []uint64
	ctx, cancel := context.WithCancel(bg)
	err = s.Follow(ctx, history.Pos{Major: 1}, func(es []history.Entry) error {
		for _, e := range es {
			got = append(got, e.Pos.Major)
		}
		if len(got) >= 14 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(got) != 14 || got[13] != 15 {
		t.Fatalf("Follow: %v, %v", got, err)
	}
	s.holdApply.Store(false)
}

// Past the bound on what bbolt may lag behind, by count or by bytes, the committer waits
// for the applier instead of taking more into memory: one publisher of large updates
// cannot make the store hold more than the bound. An append waiting so when the store
// closes gets ErrClosed, and the store logs no failure for it. What the journal took is
// kept.
func TestCommitterWaitsForTheApplier(t *testing.T) {
	for _, tc := range []struct {
		name           string
		count, bytes   int // the bounds
		data, appended int // each update's data, and how many fit
	}{
		{"by count", 500, maxUnappliedBytes, 10, 500},
		// An entry of 16 KiB of data counts 16,420 bytes: 16 reach the bound.
		{"by bytes", maxUnapplied, 256 << 10, 16 << 10, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			var logMu sync.Mutex
			path := filepath.Join(t.TempDir(), "history.db")
			s, err := Open(path, Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))})
			if err != nil {
				t.Fatal(err)
			}
			// Before the first append reaches the committer, which reads them.
			s.unappliedMax, s.unappliedMaxBytes = tc.count, tc.bytes
			s.holdApply.Store(true)
			update := func(i int) history.Update {
				u := journalUpdate(i)
				u.Data = fmt.Sprintf("%0*d", tc.data, i)
				return u
			}
			for i := 1; i <= tc.appended; i++ {
				if _, err := s.Append(bg, update(i)); err != nil {
					t.Fatal(err)
				}
			}
			if st, _ := s.Stats(); st.Unapplied != uint64(tc.appended) {
				t.Fatalf("%d entries not in bbolt, want %d", st.Unapplied, tc.appended)
			}
			waiting := make(chan error, 1)
			go func() {
				_, err := s.Append(bg, update(tc.appended+1))
				waiting <- err
			}()
			select {
			case err := <-waiting:
				t.Fatalf("an append past the bound returned at once: %v", err)
			case <-time.After(200 * time.Millisecond):
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-waiting; !errors.Is(err, history.ErrClosed) {
				t.Fatalf("the waiting append: %v, want ErrClosed", err)
			}
			logMu.Lock()
			if strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("closing logged a failure:\n%s", logs.String())
			}
			logMu.Unlock()
			s, err = Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if st, _ := s.Stats(); st.Count != uint64(tc.appended) {
				t.Fatalf("%d entries after reopening, want %d", st.Count, tc.appended)
			}
		})
	}
}

// lockedWriter serializes writes to a strings.Builder.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// A journal Open cannot use stops it with an error naming the journal, and the files are
// left as they are: a record whose checksum holds but whose entry is malformed (not a torn
// write: the bytes were written so), and a journal path that is not a regular file.
func TestOpenRefusesABadJournal(t *testing.T) {
	t.Run("malformed entry", func(t *testing.T) {
		path := storeOf(t, 3)
		j, err := openJournal(journalPath(path))
		if err != nil {
			t.Fatal(err)
		}
		j.begin(4)
		at := len(j.buf)
		u := journalUpdate(4)
		j.add(1e9, &u)
		j.buf[at+4] = 99 // the entry's version byte
		j.finish()
		err = errors.Join(j.commit(), j.close())
		if err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(journalPath(path))
		_, err = Open(path, Options{})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), journalPath(path)) {
			t.Fatalf("Open: %v", err)
		}
		if after, _ := os.ReadFile(journalPath(path)); string(after) != string(before) {
			t.Fatal("the journal changed")
		}
		// The store's file is not held: another Open fails the same way, not on a lock.
		if _, err := Open(path, Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("second Open: %v", err)
		}
	})
	t.Run("not a regular file", func(t *testing.T) {
		path := storeOf(t, 3)
		jp := journalPath(path)
		if err := os.Remove(jp); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(jp, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), jp) {
			t.Fatalf("Open: %v", err)
		}
	})
}

// The journal holds what publishers sent for subscribers to read: like the store's file,
// only its owner may read it.
func TestJournalIsPrivate(t *testing.T) {
	path := storeOf(t, 1)
	fi, err := os.Stat(journalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("journal mode %v, want 0600", perm)
	}
}
