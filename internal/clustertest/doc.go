// Package clustertest holds the cluster fault tests: real herald serve processes sharing a
// real redis-server on loopback, killed, paused and cut off while clients publish and
// subscribe. It has no code of its own; see its tests.
package clustertest
