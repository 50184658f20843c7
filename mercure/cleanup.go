package mercure

import "sync"

// cleanups runs the ends of taken-over streams (stream.end: closing the subscription, its
// event, the connection slots) off the pool's writer goroutines, which serve many streams
// and must never wait on the hub's lock. Like subEvents, its goroutine starts when there
// is something to do and is gone once the queue is empty; wait waits for it.
type cleanups struct {
	mu      sync.Mutex
	pending []*stream
	running bool
	wg      sync.WaitGroup
}

// add queues s's end. It never blocks.
func (q *cleanups) add(s *stream) {
	q.mu.Lock()
	q.pending = append(q.pending, s)
	if !q.running {
		q.running = true
		q.wg.Add(1)
		go q.run()
	}
	q.mu.Unlock()
}

func (q *cleanups) run() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		if len(batch) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		for _, s := range batch {
			s.end(s.err)
		}
	}
}

// wait returns once nothing is queued and no cleanup runs.
func (q *cleanups) wait() { q.wg.Wait() }
