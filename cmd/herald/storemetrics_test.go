package main

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// The embedded store's group commits show on /metrics: every publish acknowledged is in
// exactly one successful transaction, so the appends-per-commit histogram sums to the
// publishes, and every transaction that carried them is timed.
func TestServeMetricsShowGroupCommits(t *testing.T) {
	data := t.TempDir()
	base, _, _ := startServe(t, "--data", data)
	tok := keyFileToken(t, data)
	const publishers, each = 16, 5
	var wg sync.WaitGroup
	errs := make(chan error, publishers*each)
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if _, err := publishForm(http.DefaultClient, base, tok, url.Values{"topic": {"g"}, "data": {fmt.Sprint(p, i)}}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sum := metric(t, base, "herald_store_appends_per_commit_sum")
	commits := metric(t, base, "herald_store_appends_per_commit_count")
	if sum != publishers*each {
		t.Errorf("herald_store_appends_per_commit_sum %v, want %d", sum, publishers*each)
	}
	if commits < 1 || commits > sum {
		t.Errorf("herald_store_appends_per_commit_count %v, want 1 to %v", commits, sum)
	}
	if inf := metric(t, base, `herald_store_appends_per_commit_bucket{le="+Inf"}`); inf != commits {
		t.Errorf("+Inf bucket %v, count %v", inf, commits)
	}
	if n := metric(t, base, "herald_store_transaction_seconds_count"); n != commits {
		t.Errorf("herald_store_transaction_seconds_count %v, want %v (one a commit)", n, commits)
	}
	if n := metric(t, base, "herald_store_transactions_failed_total"); n != 0 {
		t.Errorf("herald_store_transactions_failed_total %v", n)
	}
	// The publishes reach the history file in transactions of their own, soon after.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		applied := metric(t, base, "herald_store_apply_seconds_count")
		unapplied := metric(t, base, "herald_store_unapplied_entries")
		if applied >= 1 && unapplied == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %v transactions into the file, %v publishes not in it", applied, unapplied)
		}
	}
}

// Only the embedded store has group commits to show.
func TestServeMetricsNoGroupCommitsWithoutBolt(t *testing.T) {
	base, _, _ := startServe(t, "--store", "memory", "--jwt-key", "k")
	if v := metric(t, base, "herald_store_appends_per_commit_count"); v != -1 {
		t.Errorf("memory store: herald_store_appends_per_commit_count %v, want none", v)
	}
}
