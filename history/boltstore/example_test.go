package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/boltstore"
)

// An update appended before a restart is still there after it, and its id is still the
// cursor a reconnecting client resumes from.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "herald-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "history.db")
	opts := boltstore.Options{Retention: history.Retention{MaxCount: 1000, MaxAge: time.Hour}}
	ctx := context.Background()

	log, err := boltstore.Open(path, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, id := range []string{"urn:uuid:1", "urn:uuid:2", "urn:uuid:3"} {
		// Append returns once the update is synced to disk.
		if _, err := log.Append(ctx, history.Update{ID: id, Topics: []string{"https://example.com/books/1"}, Data: "update " + id}); err != nil {
			fmt.Println(err)
			return
		}
	}
	log.Close()

	log, err = boltstore.Open(path, opts) // after a restart
	if err != nil {
		fmt.Println(err)
		return
	}
	defer log.Close()
	pos, err := log.Lookup(ctx, "urn:uuid:1") // the client's Last-Event-ID
	if err != nil {
		fmt.Println(err)
		return
	}
	missed, _ := log.Read(ctx, pos, 0)
	for _, e := range missed {
		fmt.Println(e.Pos, e.ID, e.Data)
	}
	// Output:
	// 2-0 urn:uuid:2 update urn:uuid:2
	// 3-0 urn:uuid:3 update urn:uuid:3
}
