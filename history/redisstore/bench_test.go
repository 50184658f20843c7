package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/redisstore"
	"github.com/heraldsse/herald/internal/redistest"
)

// redisCPU returns used_cpu_sys + used_cpu_user in seconds.
func redisCPU(b *testing.B, rc *redis.Client) float64 {
	info, err := rc.InfoMap(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, k := range []string{"used_cpu_sys", "used_cpu_user"} {
		var f float64
		fmt.Sscan(info["CPU"][k], &f)
		total += f
	}
	return total
}

// BenchmarkAppend measures one Append (the Lua script) from one client, with the
// retention herald serve uses by default, and the Redis CPU it costs.
func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name string
		r    history.Retention
	}{
		{"count+age", history.Retention{MaxCount: 100000, MaxAge: 24 * time.Hour}},
		{"count", history.Retention{MaxCount: 100000}},
		{"unbounded", history.Retention{}},
	} {
		b.Run(tc.name, func(b *testing.B) { benchmarkAppend(b, tc.r) })
	}
}

func benchmarkAppend(b *testing.B, r history.Retention) {
	srv := redistest.Start(b)
	s, err := redisstore.Open(context.Background(), srv.URL(0), redisstore.Options{Retention: r})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rc.Close()
	ctx := context.Background()
	u := history.Update{Topics: []string{"https://example.com/books/1"}, Type: "update", Data: `{"id":1,"title":"a book"}`}
	b.ReportAllocs()
	cpu0 := redisCPU(b, rc)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		u.ID = fmt.Sprint("urn:id:", i)
		if _, err := s.Append(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((redisCPU(b, rc)-cpu0)/float64(b.N)*1e6, "redis-cpu-µs/op")
}
