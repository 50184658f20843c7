module github.com/heraldsse/herald/bench

go 1.26.0

require (
	github.com/heraldsse/herald v0.0.0
	github.com/launchdarkly/eventsource v1.11.0
	github.com/r3labs/sse/v2 v2.10.0
	github.com/tmaxmax/go-sse v0.12.0
	go.uber.org/goleak v1.3.0
	gopkg.in/cenkalti/backoff.v1 v1.1.0
)

require golang.org/x/net v0.62.0 // indirect

replace github.com/heraldsse/herald => ../
