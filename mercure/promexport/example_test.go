package promexport_test

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
	"github.com/heraldsse/herald/mercure/promexport"
)

// Register the hub's and the handler's collectors with a registry of your own; serve it
// with promhttp.HandlerFor.
func Example() {
	log := history.NewMemory(history.Retention{MaxCount: 1000}, nil)
	defer log.Close()
	h, _ := hub.New(hub.Config{Log: log})
	defer h.Close()
	verifier, _ := auth.NewVerifier("HS256", []byte("an example secret of 32 bytes!!!"))
	handler, _ := mercure.New(mercure.Config{Hub: h, Publisher: verifier})
	defer handler.Shutdown(time.Now().Add(time.Second))

	reg := prometheus.NewRegistry()
	reg.MustRegister(promexport.Handler(handler)...)
	reg.MustRegister(promexport.Hub(h)...)
	families, _ := reg.Gather()
	for _, f := range families {
		fmt.Println(f.GetName(), f.GetType())
	}
	// Output:
	// herald_deliveries_total COUNTER
	// herald_history_entries GAUGE
	// herald_history_gaps_total COUNTER
	// herald_history_oldest_age_seconds GAUGE
	// herald_publishes_total COUNTER
	// herald_replayed_total COUNTER
	// herald_slow_consumers_total COUNTER
	// herald_store_commit_seconds HISTOGRAM
	// herald_subscribers GAUGE
	// herald_subscribes_total COUNTER
	// herald_unsubscribes_total COUNTER
}
