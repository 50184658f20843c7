package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/redisstore"
)

// Two nodes open the same Redis; what one appends, the other follows, in the same order.
func ExampleOpen() {
	ctx := context.Background()
	opts := redisstore.Options{Retention: history.Retention{MaxCount: 100000, MaxAge: 24 * time.Hour}}
	nodeA, err := redisstore.Open(ctx, "redis://127.0.0.1:6379/0", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer nodeA.Close()
	nodeB, err := redisstore.Open(ctx, "redis://127.0.0.1:6379/0", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer nodeB.Close()

	e, err := nodeA.Append(ctx, history.Update{ID: "urn:example:1", Topics: []string{"https://example.com/books/1"}, Data: "hello"})
	if err != nil {
		log.Fatal(err) // errors.Is(err, history.ErrUnavailable) when Redis is down
	}
	pos, err := nodeB.Lookup(ctx, "urn:example:1")
	fmt.Println(pos == e.Pos, err)
}
