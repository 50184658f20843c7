package boltstore_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/boltstore"
)

const crashChildEnv = "BOLTSTORE_CRASH_CHILD"

// crashChild runs in the child process: 8 writers append until the process is killed,
// printing each acknowledged append as "id pos".
func crashChild(path string) {
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("p%d-w%d-%d", os.Getpid(), w, i)
				e, err := s.Append(ctx, history.Update{ID: id, Topics: []string{"t"}, Data: strings.Repeat("d", 100)})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(4)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "%s %d\n", id, e.Pos.Major) // unbuffered: one write per ack
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// A process killed with SIGKILL while 8 writers append loses nothing it acknowledged:
// after each of several kills, every acknowledged append is in the reopened file exactly
// once, at the position it was acknowledged with, and new appends continue the sequence.
func TestCrashKeepsAcknowledged(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "history.db")
	acked := map[string]uint64{}
	for _, killAfter := range []int{1, 300, 2000} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsAcknowledged$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			id, pos, ok := strings.Cut(sc.Text(), " ")
			p, err := strconv.ParseUint(pos, 10, 64)
			if !ok || err != nil {
				t.Fatalf("child wrote %q", sc.Text())
			}
			acked[id] = p
			if n++; n == killAfter {
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child ended with %v before the kill: %s", err, stderr.String())
		}
		t.Logf("killed after %d acknowledgements (%d read from its pipe)", killAfter, n)

		s, err := boltstore.Open(path, boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.Read(ctx, history.Pos{}, 0)
		if err != nil {
			s.Close()
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i, e := range all {
			if e.Pos.Major != uint64(i+1) {
				t.Fatalf("entry %d at %v after the kill", i, e.Pos)
			}
			if seen[e.ID] {
				t.Fatalf("%s stored twice", e.ID)
			}
			seen[e.ID] = true
		}
		for id, p := range acked {
			if p == 0 || p > uint64(len(all)) || all[p-1].ID != id {
				t.Fatalf("acknowledged %s at %d is not there after the kill", id, p)
			}
		}
		e, err := s.Append(ctx, history.Update{ID: fmt.Sprintf("after-kill-%d", killAfter), Topics: []string{"t"}})
		if err != nil || e.Pos.Major != uint64(len(all)+1) {
			t.Fatalf("append after reopening: %v at %v, want %d", err, e.Pos, len(all)+1)
		}
		acked[e.ID] = e.Pos.Major
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
