package redisstore

import "sync/atomic"

// Stats counts what the store saw go wrong. Read the fields with Load; they only grow.
type Stats struct {
	// ReplicaTimeouts counts appends that fewer than MinReplicas replicas confirmed in
	// time (answered as unavailable; the entry may still be in the stream).
	ReplicaTimeouts atomic.Int64
	// LostWrites counts follows that found an entry they had already handed on missing
	// from the stream: Redis lost acknowledged writes (a failover to a replica that lacked
	// them, or a restart without data).
	LostWrites atomic.Int64
}

// Stats returns the store's counters.
func (s *Store) Stats() *Stats { return &s.stats }
