package main

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
)

// smallDisk mounts a tmpfs of size bytes at a new directory: a real file system that fills
// up. It needs root; elsewhere the test is skipped, except in CI, which runs as root.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mounting a small tmpfs: %v", err)
		}
		t.Skipf("cannot mount a small tmpfs here (not root?): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes a file into dir until the disk is full, and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

// A full disk loses nothing acknowledged and answers 503 with Retry-After; the hub restarts
// on it; the first start on a full disk leaves no empty key file behind to block the next
// one.
func TestServeOnAFullDisk(t *testing.T) {
	disk := smallDisk(t, "4m")
	data := filepath.Join(disk, "data")

	// A first start on a full disk fails, naming the key, and leaves no key file.
	filler := fill(t, disk)
	var c serveConfig
	serveFlags(&c).Parse([]string{"--addr", "127.0.0.1:0", "--data", data})
	err := serve(t.Context(), env{strings.NewReader(""), &strings.Builder{}, &strings.Builder{}}, &c, nil)
	if err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("first start on a full disk: %v, want an error naming the key", err)
	}
	if names, _ := filepath.Glob(filepath.Join(data, "*jwt.key*")); len(names) > 0 {
		t.Fatalf("a failed first start left %v behind", names)
	}
	os.Remove(filler)

	// With room, it starts; then the disk fills up under it.
	base, _, stop := startServe(t, "--data", data)
	tok := keyFileToken(t, data)
	publish := func(data string) (int, string, http.Header) {
		req, _ := http.NewRequest(http.MethodPost, base+"/.well-known/mercure", strings.NewReader(url.Values{"topic": {"t"}, "data": {data}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		return resp.StatusCode, b.String(), resp.Header
	}
	var acked []string
	for i := range 5 {
		status, body, _ := publish(strings.Repeat("a", 100) + string(rune('0'+i)))
		if status != http.StatusOK {
			t.Fatalf("publish with room: %d %s", status, body)
		}
		acked = append(acked, body)
	}
	filler = fill(t, disk)
	// The store's journal has room made ahead (a chunk of it, zero-filled), so a few large
	// publishes are still made durable there; then it cannot grow, and the hub refuses.
	big := strings.Repeat("b", 256<<10)
	refused := false
	for range 10 {
		status, body, hdr := publish(big)
		if status == http.StatusOK {
			acked = append(acked, body)
			continue
		}
		if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || !strings.Contains(body, "disk is full") {
			t.Fatalf("publish on a full disk: %d %q, Retry-After %q; want 503 saying the disk is full", status, body, hdr.Get("Retry-After"))
		}
		refused = true
		break
	}
	if !refused {
		t.Fatal("10 publishes of 256 KiB were acknowledged on a full disk of 4 MiB")
	}
	// A restart on the full disk still serves: what the journal holds and the file cannot
	// take yet waits in memory.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, _, stop = startServe(t, "--data", data)
	// Room again: publishing works, and everything acknowledged is there, once, in order.
	os.Remove(filler)
	status, body, _ := publish("after")
	if status != http.StatusOK {
		t.Fatalf("publish after making room: %d %s", status, body)
	}
	acked = append(acked, body)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, _, _ = startServe(t, "--data", data)
	resp, err := http.Get(base + "/.well-known/mercure?topic=t&lastEventID=earliest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := sse.NewDecoder(resp.Body)
	for _, want := range acked {
		done := make(chan struct{})
		var ev sse.Event
		go func() { ev, err = dec.Next(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("replay stalled before %s", want)
		}
		if err != nil || ev.ID != want {
			t.Fatalf("replay: %q, %v; want %s (acknowledged: %q)", ev.ID, err, want, acked)
		}
	}
}
